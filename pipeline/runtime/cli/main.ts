// The `tusk-collector` command line: run, validate, tsk, version, help.

import fs from 'node:fs';
import path from 'node:path';
import { loadServiceConfig } from '../../../config/service/load';
import { builtinFactories } from '../registry';
import { ConfigError } from '../../../config/service/config-error';
import { tskCommand } from '../../../config/tsk/command';
import { runCommand, type CliIo } from './run';

const USAGE = `Usage:
  tusk-collector run FILE [--pipeline NAME ...] [--watch] [--strict]   run the pipelines of FILE (all by default)
  tusk-collector validate FILE [--strict]                              check FILE against the schema; exit 0 or 2
  tusk-collector tsk FILE [--strict] [--flat]                          print FILE parsed as JSON
  tusk-collector version | help
`;

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** main runs one CLI invocation and resolves with its exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const pipelines: string[] = [];
      let file: string | undefined;
      let watch = false;
      let strict = false;
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === '--pipeline' || a === '-p') {
          const name = rest[++i];
          if (!name) return usageError(io, '--pipeline needs a NAME');
          pipelines.push(...name.split(',').filter(Boolean));
        } else if (a.startsWith('--pipeline=')) pipelines.push(...a.slice(11).split(',').filter(Boolean));
        else if (a === '--watch') watch = true;
        else if (a === '--strict') strict = true;
        else if (a.startsWith('-')) return usageError(io, `unknown option ${a}`);
        else if (file === undefined) file = a;
        else return usageError(io, `unexpected argument ${a}`);
      }
      if (!file) return usageError(io, 'run needs a FILE');
      return runCommand({ file, pipelines, watch, strict }, io);
    }
    case 'validate': {
      const strict = rest.includes('--strict');
      const unknown = rest.find((a) => a.startsWith('-') && a !== '--strict');
      if (unknown) return usageError(io, `unknown option ${unknown}`);
      const files = rest.filter((a) => !a.startsWith('-'));
      if (files.length !== 1) return usageError(io, 'validate needs exactly one FILE');
      try {
        const config = await loadServiceConfig(files[0], { registry: builtinFactories(), strict });
        for (const w of config.warnings) io.stderr(`${w.file}:${w.line}:${w.column}: warning: ${w.message} [${w.code}]\n`);
        io.stdout(`${files[0]}: valid (${config.pipelines.size} pipeline${config.pipelines.size === 1 ? '' : 's'}: ${[...config.pipelines.keys()].join(', ')})\n`);
        return 0;
      } catch (err) {
        io.stderr(err instanceof ConfigError ? err.message + '\n' : `tusk-collector: ${err instanceof Error ? err.message : String(err)}\n`);
        return 2;
      }
    }
    case 'tsk':
      return tskCommand(rest, io);
    case 'version':
    case '--version':
      io.stdout(version() + '\n');
      return 0;
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return 0;
    default:
      return usageError(io, command ? `unknown command "${command}"` : 'no command given');
  }
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`tusk-collector: ${message}\n${USAGE}`);
  return 2;
}
