#!/usr/bin/env node
// Entry point of the `tusk-collector` command: runs the compiled CLI (built by `npm install` / `npm run build`).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'pipeline', 'runtime', 'cli', 'main.js');
if (!fs.existsSync(compiled)) {
  process.stderr.write('tusk-collector: not built yet; run `npm run build` in ' + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
require(compiled)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err) => {
      process.stderr.write('tusk-collector: ' + (err && err.message ? err.message : String(err)) + '\n');
      process.exit(1);
    },
  );
