// Bearer-token authentication of the otlp receiver: tokens are loaded at start from an environment
// variable and/or a file, and compared in constant time (SHA-256 digests through crypto.timingSafeEqual,
// so neither the token's content nor its length leaks through timing).

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PipelineError } from '../../pipeline/sdk/errors';
import type { AuthConfig } from './config';

/** ERR_OTLP_RECEIVER_AUTH_CONFIG is raised at start when the configured token sources yield no token. */
export const ERR_OTLP_RECEIVER_AUTH_CONFIG = 'ERR_OTLP_RECEIVER_AUTH_CONFIG';

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** BearerAuth checks `Authorization` header values against a fixed set of tokens. */
export class BearerAuth {
  private readonly _digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new Error('BearerAuth needs at least one token');
    this._digests = tokens.map(digest);
  }

  /**
   * check tells whether an `Authorization` value ("Bearer <token>", scheme case-insensitive) carries one
   * of the tokens. Every token is compared (no early exit), each in constant time.
   */
  check(header: string | undefined): boolean {
    if (header === undefined) return false;
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return false;
    const d = digest(m[1]);
    let ok = false;
    for (const t of this._digests) ok = timingSafeEqual(d, t) || ok;
    return ok;
  }
}

/** parseTokens splits token text: commas, whitespace and newlines separate tokens; `#` starts a comment line. */
export function parseTokens(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('#'))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((t) => t !== '');
}

/**
 * loadBearerAuth reads the tokens of an `auth` block (undefined: no auth). Throws a PipelineError naming
 * the config path when a source is unreadable or no token is found.
 */
export async function loadBearerAuth(
  auth: AuthConfig | undefined,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BearerAuth | undefined> {
  if (auth === undefined) return undefined;
  const tokens: string[] = [];
  if (auth.bearer_tokens_env !== '') tokens.push(...parseTokens(env[auth.bearer_tokens_env] ?? ''));
  if (auth.bearer_tokens_file !== '') {
    try {
      tokens.push(...parseTokens(await readFile(auth.bearer_tokens_file, 'utf8')));
    } catch (err) {
      throw new PipelineError(
        ERR_OTLP_RECEIVER_AUTH_CONFIG,
        `${where}.bearer_tokens_file: cannot read ${auth.bearer_tokens_file}: ${(err as Error).message}`,
        { cause: err, retriable: false },
      );
    }
  }
  if (tokens.length === 0) {
    const sources = [
      auth.bearer_tokens_env && `environment variable ${auth.bearer_tokens_env}`,
      auth.bearer_tokens_file && `file ${auth.bearer_tokens_file}`,
    ]
      .filter(Boolean)
      .join(' and ');
    throw new PipelineError(ERR_OTLP_RECEIVER_AUTH_CONFIG, `${where}: no bearer token found in ${sources}`, {
      retriable: false,
    });
  }
  return new BearerAuth(tokens);
}
