// Configuration errors with the place they come from (file:line:col) and the config path they concern.

import type { SourcePos } from '../tsk/parser';

/** ConfigIssue is one problem found in a pipeline file. */
export interface ConfigIssue {
  /** Stable code, e.g. ERR_CONFIG_UNKNOWN_KEY. */
  readonly code: string;
  /** Config path such as `processors.tail_sampling.policies[2].name`. */
  readonly path: string;
  readonly message: string;
  /** Where the offending key or value was written, when known. */
  readonly pos?: SourcePos;
}

/** formatIssue renders an issue as `file:line:col: path: message [code]`. */
export function formatIssue(issue: ConfigIssue, fallbackFile = '<config>'): string {
  const where = issue.pos ? `${issue.pos.file}:${issue.pos.line}:${issue.pos.column}` : fallbackFile;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}: ${path}${issue.message} [${issue.code}]`;
}

/** ConfigError is thrown when a pipeline file cannot be used; it carries every issue found. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], file = '<config>') {
    super(`${issues.length} configuration error${issues.length === 1 ? '' : 's'}:\n` + issues.map((i) => '  ' + formatIssue(i, file)).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
