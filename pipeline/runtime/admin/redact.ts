// Redacts secrets from a config document before it is shown on /v1/config.

const SECRET_KEY = /(password|passwd|secret|token|credential|api_?key|private_?key|auth(orization)?$|sasl)/i;
const URL_WITH_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i;

/** redact returns a deep copy of `value` with secret-looking keys and URL passwords replaced. */
export function redact(value: unknown, key = ''): unknown {
  if (key !== '' && SECRET_KEY.test(key) && (typeof value === 'string' || typeof value === 'number')) return '***';
  if (typeof value === 'string') return value.replace(URL_WITH_PASSWORD, '$1***@');
  if (Array.isArray(value)) return value.map((v) => redact(v, key));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k);
    return out;
  }
  return value;
}
