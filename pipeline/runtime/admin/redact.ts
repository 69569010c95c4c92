// Redacts secrets from a config document before it is shown on /v1/config.

const SECRET_KEY = /(password|passwd|secret|token|credential|api_?key|private_?key|auth(orization)?$|sasl)/i;
/** Keys that name where a secret is (a file path, an environment variable), not the secret: shown. */
const SECRET_LOCATION_KEY = /_(file|env)$/i;
const URL_WITH_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i;

/**
 * redact returns a deep copy of `value` with secret-looking keys and URL passwords replaced; keys ending in
 * `_file` or `_env` (e.g. `password_file`) only locate a secret and are kept.
 */
export function redact(value: unknown, key = ''): unknown {
  const secret = key !== '' && SECRET_KEY.test(key) && !SECRET_LOCATION_KEY.test(key);
  if (secret && (typeof value === 'string' || typeof value === 'number')) return '***';
  if (typeof value === 'string') return value.replace(URL_WITH_PASSWORD, '$1***@');
  if (Array.isArray(value)) return value.map((v) => redact(v, key));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k);
    return out;
  }
  return value;
}
