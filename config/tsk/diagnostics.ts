// Diagnostics of the .tsk parser: the stable codes, the collector used while parsing (capped, so a
// hostile file cannot make the list grow without bound) and the one-line text format.

import type { SourcePos, TskDiagnostic } from './types';

/** TSK_CODES lists every diagnostic code with what it means (also used by the README). */
export const TSK_CODES = {
  TSK_IGNORED_LINE: 'a line matches no statement form (bad key, no separator, stray text) and is ignored',
  TSK_EMPTY_VALUE: '`key:` (or an inline-object entry) without a value; ignored',
  TSK_BAD_SECTION: 'a `[...]` line that is not a valid section header (names: [A-Za-z_][A-Za-z0-9_]*, dotted)',
  TSK_UNCLOSED_BLOCK: 'a `name {` or `name >` block still open at a section header or the end of the file',
  TSK_MISMATCHED_CLOSER: 'a block closed with the other closer (`}` for `>` or `<` for `{`)',
  TSK_UNEXPECTED_CLOSER: 'a `}` or `<` line with no open block',
  TSK_UNCLOSED_MULTILINE: 'a `"""` string without its closing `"""` line (the rest of the file is its content)',
  TSK_UNBALANCED_BRACKETS: 'a value whose ( [ { do not balance; it is kept as a string',
  TSK_UNTERMINATED_STRING: 'a value that opens a quote and never closes it; kept as text',
  TSK_BAD_ELEMENT: 'an empty array element, or an inline-object entry without a key or separator; skipped',
  TSK_UNDEFINED_VARIABLE: 'a `$name` (or `${name}`) reference to a global not defined above; gives ""',
  TSK_UNKNOWN_OPERATOR: 'an @operator the parser does not evaluate (unknown, IO or exotic); kept as literal text',
  TSK_BAD_ARGUMENTS: 'an @operator called with arguments it cannot use',
  TSK_BAD_CONVERSION: '@int/@float/@bool could not convert its argument',
  TSK_HOOK_FAILED: 'a @metrics/@learn/@optimize hook threw or returned a Promise; the default is used',
  TSK_UNSUPPORTED_EXPRESSION: 'a condition uses && || ! which TuskLang does not implement',
  TSK_INCLUDE_CYCLE: 'an @include or @name.tsk.get that leads back to a file being parsed',
  TSK_INCLUDE_NOT_FOUND: 'the file of an @include or @name.tsk.get does not exist',
  TSK_INCLUDE_FAILED: 'the file of an @include or @name.tsk.get is not a readable regular file, or is too large',
  TSK_INCLUDE_DEPTH: 'includes / cross-file gets nested too deeply',
  TSK_KEY_NOT_FOUND: 'the key of @name.tsk.get is not in that file; gives ""',
  TSK_KEY_CONFLICT: 'a section or block replaces a key that held a non-object value',
  TSK_DEPTH_LIMIT: 'nesting deeper than the parser allows; the excess is kept flat or as text',
  TSK_SIZE_LIMIT:
    'a $reference (or cross-file get) would copy more than the parser allows (1M values, depth 256); gives ""',
  TSK_NUMBER_RANGE: 'an integer beyond 2^53 (precision lost) or a number too large to represent (kept as text)',
  TSK_BLOCK_COMMENT: 'a `/* ... */` block comment: not TuskLang, skipped',
  TSK_TOO_MANY_DIAGNOSTICS: 'more diagnostics than the cap; the rest are dropped',
  TSK_INTERNAL_ERROR: 'a parser bug was caught; the result is partial (please report it)',
  TSK_FILE_UNREADABLE: 'parseTskFile could not read the file (thrown as TskParseError)',
} as const;

/** TskDiagnosticCode is one of the stable diagnostic codes. */
export type TskDiagnosticCode = keyof typeof TSK_CODES;

/**
 * ERROR_CODES are the codes reported with severity 'error' even in lenient mode: the document's
 * structure is probably not what the author meant (or content was skipped). All others are
 * 'warning'. In strict mode every diagnostic is an 'error'.
 */
export const ERROR_CODES: ReadonlySet<TskDiagnosticCode> = new Set<TskDiagnosticCode>([
  'TSK_BAD_SECTION',
  'TSK_UNCLOSED_BLOCK',
  'TSK_MISMATCHED_CLOSER',
  'TSK_UNEXPECTED_CLOSER',
  'TSK_UNCLOSED_MULTILINE',
  'TSK_UNBALANCED_BRACKETS',
  'TSK_INCLUDE_CYCLE',
  'TSK_INCLUDE_NOT_FOUND',
  'TSK_INCLUDE_FAILED',
  'TSK_INCLUDE_DEPTH',
  'TSK_DEPTH_LIMIT',
  'TSK_SIZE_LIMIT',
  'TSK_INTERNAL_ERROR',
  'TSK_FILE_UNREADABLE',
]);

/** MAX_DIAGNOSTICS caps the diagnostics of one parse (includes and cross-file reads included). */
export const MAX_DIAGNOSTICS = 500;

/** DiagnosticSink collects diagnostics for one parse; severity follows the strict flag. */
export class DiagnosticSink {
  readonly list: TskDiagnostic[] = [];
  private _dropped = 0;

  constructor(private readonly _strict: boolean) {}

  /** add records a diagnostic at `pos` unless the cap is reached; `severity` overrides the code's default. */
  add(code: TskDiagnosticCode, pos: SourcePos, message: string, severity?: 'error' | 'warning'): void {
    if (this.list.length >= MAX_DIAGNOSTICS) {
      this._dropped++;
      return;
    }
    const sev = this._strict ? 'error' : (severity ?? (ERROR_CODES.has(code) ? 'error' : 'warning'));
    this.list.push({ file: pos.file, line: pos.line, column: pos.column, code, severity: sev, message });
  }

  /** finish appends the "too many" note when diagnostics were dropped and returns the list. */
  finish(): TskDiagnostic[] {
    if (this._dropped > 0) {
      const last = this.list[this.list.length - 1];
      this.list.push({
        file: last.file,
        line: last.line,
        column: last.column,
        code: 'TSK_TOO_MANY_DIAGNOSTICS',
        severity: this._strict ? 'error' : 'warning',
        message: `${this._dropped} more diagnostics were dropped`,
      });
      this._dropped = 0;
    }
    return this.list;
  }
}

/** formatDiagnostic renders a diagnostic as `file:line:col: message [code]`. */
export function formatDiagnostic(d: TskDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message} [${d.code}]`;
}
