// `tusk-collector tsk FILE [--strict] [--flat] [--compat] [--interpolate]`: prints a .tsk file
// parsed as JSON (2-space indent) on stdout and its diagnostics on stderr, one per line
// (`file:line:col: message [code]`). Exit 0; 2 for bad usage, an unreadable file or strict-mode
// diagnostics. Lenient diagnostics (warnings and errors alike) are printed but do not change the exit.

import { formatDiagnostic } from './diagnostics';
import * as fs from 'node:fs';
import { flatten, parseTsk, parseTskFile } from './parser';
import { TskParseError } from './types';

/** TskCommandIo is where the command writes; env (default process.env) feeds @env. */
export interface TskCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env?: Record<string, string | undefined>;
}

/** TSK_USAGE is the usage text of the command. */
export const TSK_USAGE = `Usage: tusk-collector tsk FILE [--strict] [--flat] [--compat] [--interpolate]
  Print FILE (- for stdin) parsed as JSON; diagnostics go to stderr as file:line:col: message [code].
  --strict       any diagnostic is an error (exit 2, nothing printed on stdout)
  --flat         print dotted keys ("server.tls.enabled") instead of nested objects
  --compat       reference-parser behaviour for the [fix] items (see config/tsk/README.md)
  --interpolate  substitute \${name} with global variables in strings
`;

/**
 * tskCommand runs the `tsk` subcommand. argv holds the arguments after `tsk` (a leading `tsk`
 * followed by another argument is tolerated). Resolves with the exit code; never rejects.
 */
export async function tskCommand(argv: string[], io: TskCommandIo): Promise<number> {
  const args = argv.length > 1 && argv[0] === 'tsk' ? argv.slice(1) : argv;
  const flags = { strict: false, flat: false, compat: false, interpolate: false };
  const files: string[] = [];
  let endOfOptions = false;
  for (const a of args) {
    if (!endOfOptions && a === '--') endOfOptions = true;
    else if (!endOfOptions && (a === '--help' || a === '-h')) {
      io.stdout(TSK_USAGE);
      return 0;
    } else if (!endOfOptions && a.startsWith('--') && Object.hasOwn(flags, a.slice(2)))
      flags[a.slice(2) as keyof typeof flags] = true;
    else if (!endOfOptions && a.startsWith('-') && a !== '-') return usage(io, `unknown option ${a}`);
    else files.push(a);
  }
  if (files.length !== 1)
    return usage(io, files.length === 0 ? 'missing FILE' : `expected one FILE, got ${files.length}`);
  const file = files[0];

  try {
    const options = { strict: flags.strict, compat: flags.compat, interpolate: flags.interpolate, env: io.env };
    const result = file === '-' ? parseTsk(readStdin(), { ...options, file: '<stdin>' }) : parseTskFile(file, options);
    for (const d of result.diagnostics) io.stderr(formatDiagnostic(d) + '\n');
    const out = flags.flat ? flatten(result.data) : result.data;
    io.stdout(JSON.stringify(out, null, 2) + '\n');
    return 0;
  } catch (err) {
    if (err instanceof TskParseError) {
      for (const d of err.diagnostics) io.stderr(formatDiagnostic(d) + '\n');
      return 2;
    }
    io.stderr(`tusk-collector tsk: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

/** readStdin reads all of standard input (FILE '-'); includes then resolve against the cwd. */
function readStdin(): string {
  try {
    return fs.readFileSync(0, 'utf8');
  } catch (err) {
    const d = {
      file: '<stdin>',
      line: 1,
      column: 1,
      code: 'TSK_FILE_UNREADABLE',
      severity: 'error' as const,
      message: `cannot read standard input (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    };
    throw new TskParseError([d]);
  }
}

function usage(io: TskCommandIo, message: string): number {
  io.stderr(`tusk-collector tsk: ${message}\n${TSK_USAGE}`);
  return 2;
}
