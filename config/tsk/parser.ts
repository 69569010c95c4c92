// Public entry points of the TuskLang (.tsk) parser: parseTsk (text), parseTskFile (a file on disk),
// flatten, formatDiagnostic and position lookup. The dialect is TuskLang "dialect A" with its
// [fix] items; see config/tsk/README.md for what is implemented and where it departs.
//
// Guarantees: lenient by default (problems become diagnostics); never throws except TskParseError
// (strict mode, or an unreadable file for parseTskFile); linear-time scanning with capped nesting;
// never executes code from the file and performs no IO other than reading @include / @name.tsk files.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedOptions } from './context';
import { DiagnosticSink, formatDiagnostic } from './diagnostics';
import { Document, displayDir } from './document';
import { FileLoader, type FileDir } from './includes';
import { flatten, MAX_COPY_NODES } from './model';
import { lookupPosition } from './positions';
import { SourceFile } from './source';
import { TskParseError, type TskParseOptions, type TskParseResult } from './types';

export type {
  SourcePos,
  TskDiagnostic,
  TskHooks,
  TskNote,
  TskObject,
  TskParseOptions,
  TskParseResult,
  TskValue,
} from './types';
export { TskParseError } from './types';
export { formatDiagnostic, TSK_CODES, type TskDiagnosticCode } from './diagnostics';
export { flatten, lookupPosition };

function resolveOptions(options: TskParseOptions): ResolvedOptions {
  const env = options.env;
  return {
    strict: options.strict === true,
    compat: options.compat === true,
    interpolate: options.interpolate === true,
    env: () => env ?? process.env,
    now: options.now ?? (() => new Date()),
    hooks: options.hooks ?? {},
    note: options.onNote ?? (() => undefined),
  };
}

/** baseDirOf decides where relative includes resolve: baseDir, else the file's directory, else cwd. */
function baseDirOf(options: TskParseOptions): FileDir {
  if (options.baseDir !== undefined) return { abs: path.resolve(options.baseDir), display: options.baseDir };
  if (typeof options.file === 'string' && options.file !== '<input>')
    return { abs: path.resolve(path.dirname(options.file)), display: displayDir(options.file) };
  return { abs: process.cwd(), display: '' };
}

/**
 * parseTsk parses .tsk text into the nested model. Lenient by default: problems are returned as
 * diagnostics. With `strict`, any diagnostic makes it throw TskParseError carrying all of them.
 */
export function parseTsk(source: string, options: TskParseOptions = {}): TskParseResult {
  options ??= {};
  const opts = resolveOptions(options);
  const diag = new DiagnosticSink(opts.strict);
  const name = typeof options.file === 'string' ? options.file : '<input>';
  const copyBudget = { nodes: MAX_COPY_NODES };
  const loader = new FileLoader(diag, copyBudget);
  const shared = { opts, diag, loader, copyBudget };
  loader.parseOther = (file, dir) => {
    const doc = new Document({ ...shared, opts: { ...opts, note: () => undefined } });
    doc.run(file, dir);
    return doc.root;
  };
  const doc = new Document(shared);
  const file = new SourceFile(name, typeof source === 'string' ? source : source == null ? '' : String(source));
  try {
    if (name !== '<input>') loader.enter(loader.realPath(path.resolve(name)), null, 'parse');
    doc.run(file, baseDirOf(options));
  } catch (err) {
    // a bug must not escape as anything but a diagnostic (or TskParseError in strict mode)
    const message = err instanceof Error ? err.message : String(err);
    diag.add(
      'TSK_INTERNAL_ERROR',
      { file: name, line: 1, column: 1 },
      `internal parser error: ${message}; result is partial`,
    );
  }
  const diagnostics = diag.finish();
  if (opts.strict && diagnostics.length > 0) throw new TskParseError(diagnostics);
  return { data: doc.root, diagnostics, positions: doc.positions.map };
}

/**
 * parseTskFile reads a .tsk file (UTF-8) and parses it; includes resolve relative to it. Throws
 * TskParseError (code TSK_FILE_UNREADABLE) when the file cannot be read, and in strict mode.
 */
export function parseTskFile(file: string, options: Omit<TskParseOptions, 'file'> = {}): TskParseResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const d = {
      file,
      line: 1,
      column: 1,
      code: 'TSK_FILE_UNREADABLE',
      severity: 'error' as const,
      message: `cannot read ${file} (${code})`,
    };
    throw new TskParseError([d], `${formatDiagnostic(d)}`);
  }
  return parseTsk(text, { ...options, file });
}
