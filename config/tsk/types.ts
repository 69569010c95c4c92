// Public types of the TuskLang (.tsk) parser: values, positions, diagnostics, options, results and
// the one error class the parser may throw (TskParseError, only in strict mode or for an unreadable file).

import { PipelineError } from '../../pipeline/sdk/errors';

/** SourcePos is a place in a .tsk file; line and column are 1-based, columns count Unicode code points. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** TskDiagnostic is one problem found while parsing, with a stable `code` such as TSK_IGNORED_LINE. */
export interface TskDiagnostic extends SourcePos {
  code: string;
  /** 'error' for structural problems (unclosed blocks, unbalanced brackets, missing includes...) and for every diagnostic in strict mode; else 'warning'. */
  severity: 'error' | 'warning';
  message: string;
}

/** TskValue is any value a .tsk document can hold (always JSON-serialisable). */
export type TskValue = string | number | boolean | null | TskValue[] | { [k: string]: TskValue };

/** TskObject is an object value of a .tsk document (a section, a block or an inline object). */
export type TskObject = { [k: string]: TskValue };

/**
 * TskHooks are the resolvers for the "exotic" operators. Each gets the name (first argument) and the
 * resolved second argument (null if absent), and returns the value to store; returning undefined, or
 * having no hook, stores the second argument. A hook that throws or returns a Promise is reported
 * (TSK_HOOK_FAILED) and the second argument is stored.
 */
export interface TskHooks {
  metrics?(name: string, value: TskValue): TskValue;
  learn?(key: string, defaultValue: TskValue): TskValue;
  optimize?(param: string, initial: TskValue): TskValue;
}

/**
 * TskNote is something the dialect accepts without a diagnostic (or with only a warning) that a consumer
 * such as the pipeline loader may refuse: an unset @env without default (it reads as ""), a key or a
 * section written twice (the last one wins, or the sections merge), an operator the parser does not know.
 * `path` is where the value lands (null when the parser does not know it, e.g. inside an expression).
 */
export type TskNote =
  | { kind: 'env-unset'; name: string; path: string | null; pos: SourcePos }
  | { kind: 'duplicate-key'; path: string; pos: SourcePos; first: SourcePos }
  | { kind: 'duplicate-section'; path: string; pos: SourcePos; first: SourcePos }
  | { kind: 'unknown-operator'; name: string; path: string | null; pos: SourcePos };

/** TskParseOptions control one parse. Every field is optional. */
export interface TskParseOptions {
  /** Name used in diagnostics and positions. Default '<input>'. */
  file?: string;
  /** Any diagnostic becomes an error: parse throws TskParseError carrying all of them. Default false. */
  strict?: boolean;
  /** Variables for @env. Default: process.env, read at call time. */
  env?: Record<string, string | undefined>;
  /** Directory for @include and @name.tsk.get. Default: dirname(file) when file is given, else process.cwd(). */
  baseDir?: string;
  /** Reference-parser behaviour for the cheap [fix] items (see README). Default false. */
  compat?: boolean;
  /** Resolvers for @metrics, @learn and @optimize. */
  hooks?: TskHooks;
  /** Clock for @date. Default: () => new Date(). */
  now?: () => Date;
  /** Substitute `${name}` with global variables in double-quoted and bare strings (never in """ blocks). Default false. */
  interpolate?: boolean;
  /** Called for each TskNote of the main file and its includes; never changes the result. */
  onNote?: (note: TskNote) => void;
}

/** TskParseResult is the parsed document, its diagnostics and where each value was written. */
export interface TskParseResult {
  /** Nested output model: sections and blocks are objects; keys in order of first appearance. */
  data: TskObject;
  diagnostics: TskDiagnostic[];
  /**
   * Position of each value by path: object keys joined with '.', array elements as `[i]`
   * (e.g. `processors.tail_sampling.policies[2].name`). Object members point at their key, array
   * elements at the element's first character, sections at their `[header]`.
   */
  positions: Map<string, SourcePos>;
}

/**
 * TskParseError is thrown by strict parsing (all diagnostics attached) and by parseTskFile for an
 * unreadable file. Code ERR_CONFIG_TSK_PARSE, not retriable.
 */
export class TskParseError extends PipelineError {
  readonly diagnostics: TskDiagnostic[];

  constructor(diagnostics: TskDiagnostic[], message?: string) {
    super('ERR_CONFIG_TSK_PARSE', message ?? TskParseError.summary(diagnostics), { retriable: false });
    this.name = 'TskParseError';
    this.diagnostics = diagnostics;
  }

  private static summary(diagnostics: TskDiagnostic[]): string {
    if (diagnostics.length === 0) return 'invalid .tsk document';
    const d = diagnostics[0];
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
    return `${d.file}:${d.line}:${d.column}: ${d.message} [${d.code}]${more}`;
  }
}
