/**
 * What counts as a secret in a configuration, and how one is hidden when printed.
 *
 * Secrets hide in more places than keys named `password`: the user info of a URL
 * (`https://elastic:pw@es:9200`), a webhook URL whose path or query is its token
 * (Slack `/services/T…/B…/…`, DingTalk `access_token=`, WeCom `key=`), and webhook
 * headers (`Authorization`, `X-Api-Key`). A file holding any of them must be private,
 * and none of them may be printed or logged.
 */

/** Keys whose values are secrets: never printed, and their presence makes the file private. */
export const SECRET_KEYS = new Set(['password', 'api_key', 'token', 'secret', 'pass', 'webhook_secret', 'private_key']);

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key) || /(^|_)(password|secret|token|api_key)$/.test(key);
}

/** Query parameters that carry a credential in common webhook and API URLs. */
const SECRET_PARAMS = /^(access_token|token|key|api_key|apikey|secret|sign|signature|sig|password|pass|auth)$/i;

export const REDACTED = '[redacted]';

/** `https://user:pw@host/p?token=x` → `https://user:[redacted]@host/p?token=[redacted]`; a string that is not a URL is returned as it is. */
export function redactUrl(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return s;
  }
  if (!u.username && !u.password && ![...u.searchParams.keys()].some((k) => SECRET_PARAMS.test(k))) return s;
  if (u.password) u.password = REDACTED;
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAMS.test(k)) u.searchParams.set(k, REDACTED);
  return u.toString().replace(/%5Bredacted%5D/g, REDACTED);
}

/** A webhook URL's path and query are its token: only the scheme and host are shown. */
export function redactWebhookUrl(s: string): string {
  try {
    const u = new URL(s);
    return `${u.protocol}//${u.host}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/** Does a URL carry a credential (user info with a password, or a secret query parameter)? */
export function urlHasSecret(s: string): boolean {
  try {
    const u = new URL(s);
    return u.password !== '' || [...u.searchParams.keys()].some((k) => SECRET_PARAMS.test(k));
  } catch {
    return false;
  }
}

/** Webhook lists live under `webhooks` (rules.notify.webhooks): each entry's `url` and `headers` are secrets. */
const isWebhookPath = (path: readonly string[]): boolean => path.includes('webhooks');

function isUrlKey(k: string): boolean {
  return k === 'url' || k.endsWith('_url');
}

/** Is the value at `path` (ending with `key`) a secret that must not be printed? */
function secretAt(path: readonly string[], key: string, v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (typeof v !== 'object') {
    if (isSecretKey(key)) return true;
    if (path[path.length - 1] === 'headers') return true;
    if (typeof v === 'string' && isUrlKey(key)) return isWebhookPath(path) || urlHasSecret(v);
    return false;
  }
  return false;
}

/** Does this configuration hold any secret (so its file must be private)? */
export function containsSecret(v: unknown, path: readonly string[] = []): boolean {
  if (Array.isArray(v)) return v.some((x, i) => containsSecret(x, [...path, String(i)]));
  if (typeof v === 'object' && v !== null) {
    return Object.entries(v as Record<string, unknown>).some(([k, x]) => secretAt(path, k, x) || containsSecret(x, [...path, k]));
  }
  return false;
}

/** A copy of a config with every secret replaced, for printing. */
export function redactConfig<T>(v: T, path: readonly string[] = []): T {
  if (Array.isArray(v)) return v.map((x, i) => redactConfig(x, [...path, String(i)])) as T;
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!secretAt(path, k, x)) out[k] = redactConfig(x, [...path, k]);
      else if (typeof x === 'string' && isUrlKey(k)) out[k] = isWebhookPath(path) ? redactWebhookUrl(x) : redactUrl(x);
      else out[k] = REDACTED;
    }
    return out as T;
  }
  return v;
}
