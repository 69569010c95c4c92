// Configuration errors with the place they come from (file:line:col) and the config path they concern,
// plus the warnings found beside them (parser warnings, an unset @env whose "" is legal).

import type { SourcePos, TskDiagnostic } from '../tsk/parser';

/** ConfigIssue is one problem found in a pipeline file. */
export interface ConfigIssue {
  /** Stable code, e.g. ERR_CONFIG_UNKNOWN_KEY. */
  readonly code: string;
  /** Config path such as `processors.tail_sampling.policies[2].name`. */
  readonly path: string;
  /** What is wrong, in our words; ends with `; did you mean "x"?` when there is a suggestion. */
  readonly message: string;
  /** Where the offending key or value was written, when known. */
  readonly pos?: SourcePos;
  /** The likely intended key, type, name or value, when one is close enough. */
  readonly suggestion?: string;
}

/** formatIssue renders an issue as `file:line:col: path: message [code]`. */
export function formatIssue(issue: ConfigIssue, fallbackFile = '<config>'): string {
  const where = issue.pos ? `${issue.pos.file}:${issue.pos.line}:${issue.pos.column}` : fallbackFile;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}: ${path}${issue.message} [${issue.code}]`;
}

/** formatWarning renders a warning as `file:line:col: warning: message [code]`. */
export function formatWarning(d: TskDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: warning: ${d.message} [${d.code}]`;
}

/** ConfigError is thrown when a pipeline file cannot be used; it carries every issue found, and the warnings. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];
  /** Warnings found while loading (printed beside the errors; they do not make the file invalid). */
  readonly warnings: readonly TskDiagnostic[];

  constructor(issues: readonly ConfigIssue[], file = '<config>', warnings: readonly TskDiagnostic[] = []) {
    const count = `${issues.length} configuration error${issues.length === 1 ? '' : 's'}`;
    super(`${count}:\n` + issues.map((i) => '  ' + formatIssue(i, file)).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
    this.warnings = warnings;
  }
}
