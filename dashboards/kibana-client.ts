/**
 * A small Kibana HTTP client for the documented APIs the kit needs:
 *   GET  /api/status                                   version gate and readiness
 *   GET  /api/spaces/space/<id>                        the target space exists
 *   POST [/s/<space>]/api/saved_objects/_import        multipart/form-data, field `file` = NDJSON, `kbn-xsrf`
 *   POST [/s/<space>]/api/saved_objects/_export        read back with includeReferencesDeep: the trailing
 *                                                      details line lists missing references
 * node:http(s) rather than fetch: TLS options (CA file, verification off) need an
 * agent, and Node 20's fetch takes none without the undici package.
 *
 * Every failure becomes one AuditkitError saying what failed, where and what to do:
 * unreachable (exit 4), auth refused (exit 5), not ready (exit 4), API errors (exit 1).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditkitError, ExitCode, expandHome } from '../core';
import type { KibanaConfig } from './config';

export type KibanaAuth = { readonly apiKey: string } | { readonly username: string; readonly password: string };

export interface KibanaClientOptions {
  readonly url: string;
  readonly auth?: KibanaAuth;
  readonly ca?: Buffer;
  readonly tlsVerify?: boolean;
  readonly timeoutMs?: number;
}

export interface KibanaStatus {
  readonly name: string | undefined;
  readonly version: string;
  /** available | degraded | unavailable | critical (8.x), or the 7.x state mapped onto these. */
  readonly level: string;
  readonly summary: string | undefined;
}

export interface ImportError {
  readonly type: string;
  readonly id: string;
  readonly title?: string;
  readonly error: { readonly type: string; readonly message?: string; readonly references?: ReadonlyArray<{ type: string; id: string }> };
}

export interface ImportResult {
  readonly success: boolean;
  readonly successCount: number;
  readonly successResults: ReadonlyArray<{ type: string; id: string; destinationId?: string }>;
  readonly errors: readonly ImportError[];
}

export interface ExportDetails {
  readonly exportedCount: number;
  readonly missingRefCount: number;
  readonly missingReferences: ReadonlyArray<{ type: string; id: string }>;
}

interface RawResponse {
  readonly status: number;
  readonly body: string;
}

export function kibanaClientOptions(cfg: KibanaConfig): KibanaClientOptions {
  if (!cfg.url) {
    throw new AuditkitError('AK_KIBANA_NO_URL', 'no Kibana configured: set kibana.url in auditkit.yml (or AUDITKIT_KIBANA_URL)', { exitCode: ExitCode.Config });
  }
  let ca: Buffer | undefined;
  if (cfg.ca_file) {
    try {
      ca = readFileSync(expandHome(cfg.ca_file));
    } catch (err) {
      throw new AuditkitError('AK_KIBANA_CA', `cannot read the CA file: ${(err as Error).message}`, { location: { file: cfg.ca_file }, exitCode: ExitCode.Config, cause: err });
    }
  }
  const auth: KibanaAuth | undefined = cfg.api_key ? { apiKey: cfg.api_key } : cfg.username && cfg.password ? { username: cfg.username, password: cfg.password } : undefined;
  return { url: cfg.url, ...(auth ? { auth } : {}), ...(ca ? { ca } : {}), tlsVerify: cfg.tls_verify, timeoutMs: cfg.request_timeout_ms };
}

export function spacePrefix(space: string | undefined): string {
  return !space || space === 'default' ? '' : `/s/${encodeURIComponent(space)}`;
}

function short(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: string; error?: string };
    if (j.message) return j.message;
    if (j.error) return j.error;
  } catch {
    /* not JSON */
  }
  const t = body.replace(/\s+/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t || '(empty body)';
}

export class KibanaClient {
  readonly url: string;
  private readonly base: URL;
  private readonly opts: KibanaClientOptions;

  constructor(opts: KibanaClientOptions) {
    this.opts = opts;
    this.url = opts.url.replace(/\/+$/, '');
    this.base = new URL(this.url);
  }

  private authHeader(): Record<string, string> {
    const a = this.opts.auth;
    if (!a) return {};
    if ('apiKey' in a) return { authorization: `ApiKey ${a.apiKey}` };
    return { authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}` };
  }

  /** One HTTP exchange; transport failures become AK_KIBANA_UNREACHABLE / AK_KIBANA_TLS / AK_KIBANA_TIMEOUT. */
  async request(method: 'GET' | 'POST', path: string, opts: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
    const target = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    const isHttps = target.protocol === 'https:';
    const mod = isHttps ? https : http;
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      // Kibana refuses state-changing requests without it (CSRF protection); harmless on GETs.
      'kbn-xsrf': 'auditkit',
      'user-agent': 'auditkit',
      ...this.authHeader(),
      ...(opts.headers ?? {}),
      ...(body ? { 'content-length': String(body.length) } : {}),
    };
    const timeout = this.opts.timeoutMs ?? 30_000;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = mod.request(
        target,
        {
          method,
          headers,
          timeout,
          ...(isHttps ? { rejectUnauthorized: this.opts.tlsVerify !== false, ...(this.opts.ca ? { ca: this.opts.ca } : {}) } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (err) => reject(this.transportError(err)));
        },
      );
      req.on('timeout', () => {
        req.destroy(new AuditkitError('AK_KIBANA_TIMEOUT', `Kibana at ${this.url} did not answer ${method} ${path} within ${timeout} ms. Check the network, or raise kibana.request_timeout_ms`, { exitCode: ExitCode.Unavailable }));
      });
      req.on('error', (err) => reject(this.transportError(err)));
      if (body) req.write(body);
      req.end();
    });
  }

  private transportError(err: unknown): AuditkitError {
    if (err instanceof AuditkitError) return err;
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS/.test(code) || /certificate/i.test(e.message)) {
      return new AuditkitError('AK_KIBANA_TLS', `TLS verification of Kibana at ${this.url} failed (${code || e.message}). Set kibana.ca_file to the CA that signed Kibana's certificate`, { exitCode: ExitCode.Unavailable, cause: err });
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new AuditkitError('AK_KIBANA_UNREACHABLE', `cannot resolve the Kibana host in ${this.url} (${code}). Check kibana.url`, { exitCode: ExitCode.Unavailable, cause: err });
    }
    const what = code === 'ECONNREFUSED' ? 'connection refused' : code || e.message;
    return new AuditkitError('AK_KIBANA_UNREACHABLE', `cannot reach Kibana at ${this.url} (${what}). Is it running and is kibana.url right? With the compose stack, Kibana listens on http://localhost:5601`, { exitCode: ExitCode.Unavailable, cause: err });
  }

  /** 401/403 and other statuses, explained. */
  private httpError(what: string, res: RawResponse): AuditkitError {
    if (res.status === 401) {
      return new AuditkitError('AK_KIBANA_AUTH', `Kibana at ${this.url} refused the credentials (401) for ${what}. Check kibana.api_key or kibana.username/password`, { exitCode: ExitCode.Auth });
    }
    if (res.status === 403) {
      return new AuditkitError('AK_KIBANA_FORBIDDEN', `Kibana at ${this.url} denied ${what} (403: ${short(res.body)}). The user or API key needs the "Saved Objects Management" and "Dashboard" privileges (all) in the target space`, { exitCode: ExitCode.Auth });
    }
    return new AuditkitError('AK_KIBANA_RESPONSE', `Kibana at ${this.url} answered ${res.status} to ${what}: ${short(res.body)}`, { exitCode: ExitCode.Failure });
  }

  private parseJson<T>(what: string, res: RawResponse): T {
    try {
      return JSON.parse(res.body) as T;
    } catch {
      throw new AuditkitError('AK_KIBANA_RESPONSE', `Kibana at ${this.url} answered ${what} with something that is not JSON (${short(res.body)}). Is kibana.url the Kibana base URL (not Elasticsearch, not a proxy login page)?`, { exitCode: ExitCode.Failure });
    }
  }

  async status(): Promise<KibanaStatus> {
    const res = await this.request('GET', '/api/status');
    // 503 carries the status body too: Kibana answers it while not (yet) available.
    if (res.status !== 200 && res.status !== 503) throw this.httpError('GET /api/status', res);
    const j = this.parseJson<{ name?: string; version?: { number?: string }; status?: { overall?: { level?: string; state?: string; summary?: string; title?: string } } }>('GET /api/status', res);
    const version = j.version?.number;
    if (!version) {
      throw new AuditkitError('AK_KIBANA_STATUS', `Kibana at ${this.url} did not report its version in GET /api/status (version.number missing; anonymous access may get a redacted status). Configure kibana.api_key or username/password`, { exitCode: ExitCode.Auth });
    }
    const overall = j.status?.overall;
    const legacy: Record<string, string> = { green: 'available', yellow: 'degraded', red: 'unavailable' };
    const level = overall?.level ?? (overall?.state ? legacy[overall.state] ?? overall.state : res.status === 200 ? 'available' : 'unavailable');
    return { name: j.name, version, level, summary: overall?.summary ?? overall?.title };
  }

  /** Whether a space exists (the default space always does). */
  async spaceExists(space: string): Promise<boolean> {
    if (space === 'default') return true;
    const res = await this.request('GET', `/api/spaces/space/${encodeURIComponent(space)}`);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw this.httpError(`GET /api/spaces/space/${space}`, res);
  }

  async importObjects(ndjson: string, opts: { space?: string; overwrite: boolean; filename?: string }): Promise<ImportResult> {
    const boundary = `----auditkit${randomBytes(12).toString('hex')}`;
    const filename = (opts.filename ?? 'auditkit-dashboards.ndjson').replace(/["\r\n]/g, '_');
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/ndjson\r\n\r\n`),
      Buffer.from(ndjson),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const path = `${spacePrefix(opts.space)}/api/saved_objects/_import?overwrite=${opts.overwrite ? 'true' : 'false'}`;
    const res = await this.request('POST', path, { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    if (res.status === 413) {
      throw new AuditkitError('AK_KIBANA_IMPORT', `Kibana at ${this.url} refused the import as too large (413). Raise savedObjects.maxImportPayloadBytes in kibana.yml`, { exitCode: ExitCode.Failure });
    }
    if (res.status === 404 && opts.space && opts.space !== 'default') {
      throw new AuditkitError('AK_KIBANA_SPACE', `Kibana at ${this.url} has no space "${opts.space}" (404 on import). Create it in Stack Management → Spaces, or pass another --space`, { exitCode: ExitCode.Config });
    }
    if (res.status !== 200) throw this.httpError(`POST ${path}`, res);
    const j = this.parseJson<Partial<ImportResult>>(`POST ${path}`, res);
    return { success: j.success === true, successCount: j.successCount ?? 0, successResults: j.successResults ?? [], errors: j.errors ?? [] };
  }

  /**
   * Read objects back through the export API with their references followed: the
   * trailing details line counts the references that point at nothing. (Kibana has
   * reported dashboards with missing references as imported, kibana#127664, so the
   * import response alone is not proof.)
   */
  async exportObjects(objects: ReadonlyArray<{ type: string; id: string }>, space?: string): Promise<{ objects: Array<Record<string, unknown>>; details: ExportDetails }> {
    const path = `${spacePrefix(space)}/api/saved_objects/_export`;
    const res = await this.request('POST', path, {
      body: JSON.stringify({ objects: objects.map((o) => ({ type: o.type, id: o.id })), includeReferencesDeep: true, excludeExportDetails: false }),
      headers: { 'content-type': 'application/json' },
    });
    if (res.status === 400) {
      throw new AuditkitError('AK_KIBANA_READBACK', `Kibana at ${this.url} could not export the objects just imported (400: ${short(res.body)}): some were not stored`, { exitCode: ExitCode.Failure });
    }
    if (res.status !== 200) throw this.httpError(`POST ${path}`, res);
    const lines = res.body.split('\n').filter((l) => l.trim() !== '');
    const out: Array<Record<string, unknown>> = [];
    let details: ExportDetails | undefined;
    for (const l of lines) {
      const o = this.parseJson<Record<string, unknown>>(`POST ${path}`, { status: res.status, body: l });
      if ('exportedCount' in o && !('type' in o)) details = o as unknown as ExportDetails;
      else out.push(o);
    }
    if (!details) {
      throw new AuditkitError('AK_KIBANA_READBACK', `Kibana at ${this.url} returned an export without its details line, so missing references cannot be checked`, { exitCode: ExitCode.Failure });
    }
    return { objects: out, details };
  }
}
