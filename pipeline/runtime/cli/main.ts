// The `tusk-collector` command line: run, validate, print-config, tsk, convert, version, help. Every command answers
// `--help`; FILE may be `-` (standard input); `--set path=value` overrides a key of the file. validate, run
// and print-config load the file the same way (loadCliConfig), so they always agree.
//
// Exit codes: 0 success; 1 the pipelines failed at run time (a component could not start, or a fatal
// error); 2 invalid configuration or bad usage; 130 a second SIGTERM/SIGINT during shutdown. `convert`
// exits 1 when it converted but had to leave something out.

import fs from 'node:fs';
import { loadServiceConfig, type ServiceConfig } from '../../../config/service/load';
import { builtinFactories } from '../registry';
import { ConfigError, formatWarning } from '../../../config/service/config-error';
import { effectiveConfig } from '../../../config/service/effective';
import { tskCommand, TSK_USAGE } from '../../../config/tsk/command';
import { redact } from '../admin/redact';
import { runCommand, type CliIo } from './run';
import { packageVersion } from '../package-info';
import { convertCommand, CONVERT_USAGE } from './convert';

/** EXIT_CODES are the exit statuses of the command (also in the README and docs/configuration.md). */
export const EXIT_CODES = { ok: 0, runtimeFailure: 1, invalid: 2, secondSignal: 130 } as const;

const OVERVIEW = `Usage: tusk-collector COMMAND [options]

Commands:
  run FILE            run the pipelines of FILE until SIGTERM/SIGINT
  validate FILE       check FILE; print every problem as file:line:col
  print-config FILE   print the effective config (defaults filled in, secrets masked)
  tsk FILE            print FILE parsed as JSON (the .tsk dialect, no pipeline checks)
  convert FILE        convert an OpenTelemetry Collector YAML config to a .tsk pipeline (stdout)
  version             print the version (also -v, --version)
  help [COMMAND]      print this help, or a command's (also COMMAND --help)

FILE may be - to read standard input.
Exit codes: 0 ok; 1 run-time failure; 2 invalid config or bad usage; 130 second signal during shutdown.
`;

const CONFIG_OPTIONS = `  --set PATH=VALUE   override one key, e.g. --set processors.tail_sampling.decision_wait=5s
                     (repeatable; VALUE is a .tsk value: 10s, 42, true, "text", ["a", "b"])
  --strict           parser warnings are errors too
  -h, --help         print this help`;

const HELP: Readonly<Record<string, string>> = {
  run: `Usage: tusk-collector run FILE [--pipeline NAME ...] [--watch] [--set PATH=VALUE ...] [--strict]
  Run the pipelines of FILE (- for stdin) and the admin server until SIGTERM or SIGINT (drain, exit 0; a
  second signal exits at once with 130). SIGHUP reloads a changed, valid file.
  -p, --pipeline NAME  run only this pipeline (repeatable, or NAME,NAME); default: all
  --watch              reload when FILE changes (not with -)
${CONFIG_OPTIONS}
  Exit: 0 stopped by a signal; 1 a component failed to start or failed fatally; 2 invalid config or usage.
`,
  validate: `Usage: tusk-collector validate FILE [--set PATH=VALUE ...] [--strict]
  Check FILE (- for stdin) exactly as run would: every error and warning with file:line:col, at once.
${CONFIG_OPTIONS}
  Exit: 0 valid (warnings may be printed); 2 invalid config or usage.
`,
  'print-config': `Usage: tusk-collector print-config FILE [--set PATH=VALUE ...] [--strict]
  Print the effective config of FILE (- for stdin) as JSON: each component's type and every key with its
  default filled in, durations with their unit, secrets masked as in the admin server's /v1/config.
${CONFIG_OPTIONS}
  Exit: 0 printed; 2 invalid config or usage.
`,
  tsk: TSK_USAGE,
  convert: CONVERT_USAGE,
  version: `Usage: tusk-collector version (or -v, --version)
  Print the version of tusk-collector.
`,
  help: `Usage: tusk-collector help [COMMAND]
  Print the list of commands, or the help of COMMAND.
`,
};

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** ConfigArgs are the options every config-reading command takes. */
export interface ConfigArgs {
  /** The file, or '-' for standard input. */
  file: string;
  strict: boolean;
  overrides: string[];
}

/** CliInput lets tests feed standard input and the environment. */
export interface CliInput {
  readStdin?: () => string;
  env?: Record<string, string | undefined>;
}

/**
 * loadCliConfig loads FILE (or stdin) with the overrides, prints its warnings, and returns the config; on
 * an invalid file it prints every error (and the warnings) and returns undefined.
 */
export async function loadCliConfig(
  args: ConfigArgs,
  io: CliIo,
  input: CliInput = {},
): Promise<ServiceConfig | undefined> {
  try {
    const stdin = args.file === '-';
    const config = await loadServiceConfig(stdin ? '<stdin>' : args.file, {
      registry: builtinFactories(),
      strict: args.strict,
      overrides: args.overrides,
      env: input.env,
      source: stdin ? (input.readStdin ?? (() => fs.readFileSync(0, 'utf8')))() : undefined,
    });
    for (const w of config.warnings) io.stderr(formatWarning(w) + '\n');
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(err.message + '\n');
      for (const w of err.warnings) io.stderr(formatWarning(w) + '\n');
    } else {
      io.stderr(`tusk-collector: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return undefined;
  }
}

type Parsed = { args: ConfigArgs; pipelines: string[]; watch: boolean; help: boolean } | { error: string };

/** parseArgs reads the options of run / validate / print-config (`allowRun` admits --pipeline and --watch). */
function parseArgs(rest: readonly string[], allowRun: boolean): Parsed {
  const out = {
    args: { file: '', strict: false, overrides: [] as string[] },
    pipelines: [] as string[],
    watch: false,
    help: false,
  };
  let file: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--strict') out.args.strict = true;
    else if (a === '--set' || a.startsWith('--set=')) {
      const v = a === '--set' ? rest[++i] : a.slice(6);
      if (v === undefined || v === '') return { error: '--set needs PATH=VALUE' };
      out.args.overrides.push(v);
    } else if (allowRun && (a === '--pipeline' || a === '-p' || a.startsWith('--pipeline='))) {
      const v = a.startsWith('--pipeline=') ? a.slice(11) : rest[++i];
      if (!v) return { error: '--pipeline needs a NAME' };
      out.pipelines.push(...v.split(',').filter(Boolean));
    } else if (allowRun && a === '--watch') out.watch = true;
    else if (a.startsWith('-') && a !== '-') return { error: `unknown option ${a}` };
    else if (file === undefined) file = a;
    else return { error: `unexpected argument ${a} (one FILE only)` };
  }
  if (out.help) return out;
  if (file === undefined) return { error: 'missing FILE (a path, or - for standard input)' };
  out.args.file = file;
  return out;
}

/** main runs one CLI invocation and resolves with its exit code. */
export async function main(argv: string[], io: CliIo = defaultIo, input: CliInput = {}): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
    case 'validate':
    case 'print-config': {
      const parsed = parseArgs(rest, command === 'run');
      if ('error' in parsed) return usageError(io, parsed.error, command);
      if (parsed.help) {
        io.stdout(HELP[command]);
        return EXIT_CODES.ok;
      }
      if (command === 'run') {
        if (parsed.watch && parsed.args.file === '-')
          return usageError(io, '--watch cannot watch standard input', command);
        return runCommand({ ...parsed.args, pipelines: parsed.pipelines, watch: parsed.watch }, io, (a) =>
          loadCliConfig(a, io, input),
        );
      }
      const config = await loadCliConfig(parsed.args, io, input);
      if (!config) return EXIT_CODES.invalid;
      if (command === 'validate') {
        const names = [...config.pipelines.keys()];
        io.stdout(
          `${parsed.args.file}: valid (${names.length} pipeline${names.length === 1 ? '' : 's'}: ` +
            `${names.join(', ')})\n`,
        );
      } else {
        io.stdout(JSON.stringify(redact(effectiveConfig(config)), null, 2) + '\n');
      }
      return EXIT_CODES.ok;
    }
    case 'tsk':
      return tskCommand(rest, { ...io, env: input.env });
    case 'convert':
      return convertCommand(rest, io, input);
    case 'version':
    case '--version':
    case '-v':
      if (rest.includes('--help') || rest.includes('-h')) io.stdout(HELP.version);
      else io.stdout(packageVersion() + '\n');
      return EXIT_CODES.ok;
    case 'help':
    case '--help':
    case '-h': {
      const topic = rest.find((a) => !a.startsWith('-'));
      if (topic !== undefined && !Object.hasOwn(HELP, topic))
        return usageError(io, `no help for "${topic}": not a command`);
      io.stdout(topic !== undefined ? HELP[topic] : rest.length > 0 ? HELP.help : OVERVIEW);
      return EXIT_CODES.ok;
    }
    default:
      return usageError(io, command ? `unknown command "${command}"` : 'no command given');
  }
}

function usageError(io: CliIo, message: string, command?: string): number {
  io.stderr(`tusk-collector${command ? ` ${command}` : ''}: ${message}\n${command ? HELP[command] : OVERVIEW}`);
  return EXIT_CODES.invalid;
}
