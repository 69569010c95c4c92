// Where the tusk-collector package lives and which version it is, found the same way from the sources (run with
// tsx) and from the build (dist/), whose folders sit one level deeper below the package root.

import fs from 'node:fs';
import path from 'node:path';

/** packageRoot is the nearest folder at or above `from` that holds package.json (`from` itself when none does). */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

/** packageVersion is the version in the package's package.json ("unknown" when it has none or cannot be read). */
export function packageVersion(): string {
  try {
    const file = path.join(packageRoot(), 'package.json');
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
