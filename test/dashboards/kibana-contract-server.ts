/**
 * A local HTTP server implementing Kibana's DOCUMENTED HTTP contract for the APIs
 * the kit calls. Kibana cannot run here, so this is the process boundary we
 * stand in for; it follows the docs, not our client:
 *
 * - GET /api/status → { name, version: { number }, status: { overall: { level } } };
 *   HTTP 503 with the same body while not available (Kibana status API docs).
 * - GET /api/spaces/space/{id} → 200 space | 404 (Spaces API docs).
 * - POST [/s/{space}]/api/saved_objects/_import?overwrite → multipart/form-data with
 *   field `file` (NDJSON); requires the `kbn-xsrf` header (400 without); response
 *   { success, successCount, successResults[], errors[] } with error types
 *   conflict | missing_references | unsupported_type | unknown; objects newer than
 *   this Kibana are refused (docs: "cannot be imported into an older version");
 *   the exporter's trailing details line is skipped.
 * - POST [/s/{space}]/api/saved_objects/_export { objects, includeReferencesDeep } →
 *   NDJSON + details line { exportedCount, missingRefCount, missingReferences };
 *   400 when a requested object does not exist.
 * - Authentication: `Authorization: ApiKey <encoded>` or `Basic`, 401 otherwise.
 *
 * Fault switches reproduce field reports: `dropOnStore` (kibana#127664: success
 * reported, object not stored).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ContractServerOptions {
  version?: string;
  level?: 'available' | 'degraded' | 'unavailable' | 'critical';
  apiKey?: string;
  basic?: { username: string; password: string };
  spaces?: string[];
  /** Types this Kibana knows. */
  types?: string[];
  /** Ids whose import "succeeds" but which are not stored. */
  dropOnStore?: string[];
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: Buffer; cert: Buffer };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Obj = Record<string, unknown>;

function cmp(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10));
  const pb = b.split('.').map((x) => parseInt(x, 10));
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Minimal multipart/form-data parsing: the parts' headers and bodies. */
function multipart(body: Buffer, contentType: string): Array<{ name: string | undefined; filename: string | undefined; data: Buffer }> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) return [];
  const boundary = Buffer.from(`--${m[1] ?? m[2] ?? ''}`);
  const parts: Array<{ name: string | undefined; filename: string | undefined; data: Buffer }> = [];
  let pos = body.indexOf(boundary);
  while (pos !== -1) {
    const start = pos + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(boundary, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after boundary and before the next one
    const sep = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, sep).toString();
    const data = part.subarray(sep + 4);
    parts.push({ name: /name="([^"]*)"/.exec(head)?.[1], filename: /filename="([^"]*)"/.exec(head)?.[1], data });
    pos = next;
  }
  return parts;
}

export class KibanaContractServer {
  readonly requests: RecordedRequest[] = [];
  /** space → "type/id" → object */
  readonly store = new Map<string, Map<string, Obj>>();
  opts: ContractServerOptions;
  private server: http.Server | https.Server;
  url = '';

  constructor(opts: ContractServerOptions = {}) {
    this.opts = opts;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        try {
          this.handle(req, body, res);
        } catch (err) {
          this.json(res, 500, { statusCode: 500, error: 'Internal Server Error', message: (err as Error).message });
        }
      });
    };
    this.server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  objects(space = 'default'): Map<string, Obj> {
    let m = this.store.get(space);
    if (!m) {
      m = new Map();
      this.store.set(space, m);
    }
    return m;
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private authorised(req: http.IncomingMessage): boolean {
    const { apiKey, basic } = this.opts;
    if (!apiKey && !basic) return true;
    const h = req.headers.authorization ?? '';
    if (apiKey && h === `ApiKey ${apiKey}`) return true;
    if (basic && h === `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`) return true;
    return false;
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!this.authorised(req)) {
      this.json(res, 401, { statusCode: 401, error: 'Unauthorized', message: '[security_exception]: unable to authenticate user' });
      return;
    }
    const version = this.opts.version ?? '8.14.3';
    if (req.method === 'GET' && url.pathname === '/api/status') {
      const level = this.opts.level ?? 'available';
      this.json(res, level === 'available' || level === 'degraded' ? 200 : 503, {
        name: 'kibana-contract', uuid: '5b2de169-2785-441b-ae8c-186a1936b17d',
        version: { number: version, build_hash: '0', build_number: 1, build_snapshot: false },
        status: { overall: { level, summary: level === 'available' ? 'All services are available' : 'Elasticsearch is unavailable' }, core: {}, plugins: {} },
      });
      return;
    }
    const sp = /^\/api\/spaces\/space\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && sp) {
      const id = decodeURIComponent(sp[1] ?? '');
      if (id === 'default' || (this.opts.spaces ?? []).includes(id)) this.json(res, 200, { id, name: id, disabledFeatures: [] });
      else this.json(res, 404, { statusCode: 404, error: 'Not Found', message: 'Saved object [space/' + id + '] not found' });
      return;
    }
    const so = /^(?:\/s\/([^/]+))?\/api\/saved_objects\/(_import|_export)$/.exec(url.pathname);
    if (req.method === 'POST' && so) {
      const space = so[1] ? decodeURIComponent(so[1]) : 'default';
      if (space !== 'default' && !(this.opts.spaces ?? []).includes(space)) {
        this.json(res, 404, { statusCode: 404, error: 'Not Found', message: 'Not Found' });
        return;
      }
      if (!req.headers['kbn-xsrf']) {
        this.json(res, 400, { statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
        return;
      }
      if (so[2] === '_import') this.importObjects(req, url, body, space, version, res);
      else this.exportObjects(body, space, res);
      return;
    }
    this.json(res, 404, { statusCode: 404, error: 'Not Found', message: 'Not Found' });
  }

  private importObjects(req: http.IncomingMessage, url: URL, body: Buffer, space: string, version: string, res: http.ServerResponse): void {
    const ct = req.headers['content-type'] ?? '';
    if (!ct.startsWith('multipart/form-data')) {
      this.json(res, 415, { statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported Media Type' });
      return;
    }
    const file = multipart(body, ct).find((p) => p.name === 'file');
    if (!file) {
      this.json(res, 400, { statusCode: 400, error: 'Bad Request', message: '[request body.file]: expected value of type [Stream] but got [undefined]' });
      return;
    }
    if (file.filename && !file.filename.endsWith('.ndjson')) {
      this.json(res, 400, { statusCode: 400, error: 'Bad Request', message: `Invalid file extension ${file.filename}` });
      return;
    }
    const overwrite = url.searchParams.get('overwrite') === 'true';
    const objs: Obj[] = [];
    for (const line of file.data.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      let o: Obj;
      try {
        o = JSON.parse(line) as Obj;
      } catch {
        this.json(res, 400, { statusCode: 400, error: 'Bad Request', message: `Unexpected token in JSON: ${line.slice(0, 40)}` });
        return;
      }
      if ('exportedCount' in o && !('type' in o)) continue;
      objs.push(o);
    }
    const types = this.opts.types ?? ['index-pattern', 'search', 'dashboard', 'visualization', 'lens'];
    const store = this.objects(space);
    const inFile = new Set(objs.map((o) => `${String(o['type'])}/${String(o['id'])}`));
    const errors: Obj[] = [];
    const ok: Obj[] = [];
    for (const o of objs) {
      const key = `${String(o['type'])}/${String(o['id'])}`;
      const title = (o['attributes'] as Obj | undefined)?.['title'];
      const base = { type: o['type'], id: o['id'], ...(typeof title === 'string' ? { title, meta: { title } } : { meta: {} }) };
      if (!types.includes(String(o['type']))) {
        errors.push({ ...base, error: { type: 'unsupported_type' } });
        continue;
      }
      const newer = [o['coreMigrationVersion'], o['typeMigrationVersion']].find((v) => typeof v === 'string' && cmp(v, version) > 0);
      if (newer) {
        errors.push({ ...base, error: { type: 'unknown', statusCode: 400, message: `Document "${String(o['id'])}" belongs to a more recent version of Kibana [${String(newer)}] when the last known version is [${version}].` } });
        continue;
      }
      const missing = ((o['references'] as Array<{ type: string; id: string }> | undefined) ?? []).filter((r) => !inFile.has(`${r.type}/${r.id}`) && !store.has(`${r.type}/${r.id}`));
      if (missing.length > 0) {
        errors.push({ ...base, error: { type: 'missing_references', references: missing.map((r) => ({ type: r.type, id: r.id })) } });
        continue;
      }
      if (store.has(key) && !overwrite) {
        errors.push({ ...base, error: { type: 'conflict' } });
        continue;
      }
      if (!(this.opts.dropOnStore ?? []).includes(String(o['id']))) store.set(key, o);
      ok.push({ type: o['type'], id: o['id'], meta: base.meta, ...(overwrite ? { overwrite: true } : {}) });
    }
    this.json(res, 200, { success: errors.length === 0, successCount: ok.length, ...(ok.length ? { successResults: ok } : {}), ...(errors.length ? { errors } : {}) });
  }

  private exportObjects(body: Buffer, space: string, res: http.ServerResponse): void {
    const req = JSON.parse(body.toString('utf8')) as { objects?: Array<{ type: string; id: string }>; includeReferencesDeep?: boolean; excludeExportDetails?: boolean };
    const store = this.objects(space);
    const absent = (req.objects ?? []).filter((o) => !store.has(`${o.type}/${o.id}`));
    if (absent.length > 0) {
      this.json(res, 400, { statusCode: 400, error: 'Bad Request', message: 'Error fetching objects to export', attributes: { objects: absent.map((o) => ({ ...o, error: { statusCode: 404, error: 'Not Found' } })) } });
      return;
    }
    const out = new Map<string, Obj>();
    const missing: Array<{ type: string; id: string }> = [];
    const queue = [...(req.objects ?? [])];
    while (queue.length > 0) {
      const r = queue.shift()!;
      const key = `${r.type}/${r.id}`;
      if (out.has(key)) continue;
      const o = store.get(key);
      if (!o) {
        if (!missing.some((m) => m.type === r.type && m.id === r.id)) missing.push({ type: r.type, id: r.id });
        continue;
      }
      out.set(key, o);
      if (req.includeReferencesDeep) for (const ref of (o['references'] as Array<{ type: string; id: string }> | undefined) ?? []) queue.push({ type: ref.type, id: ref.id });
    }
    const lines = [...out.values()].map((o) => JSON.stringify(o));
    if (!req.excludeExportDetails) lines.push(JSON.stringify({ excludedObjects: [], excludedObjectsCount: 0, exportedCount: out.size, missingRefCount: missing.length, missingReferences: missing }));
    res.writeHead(200, { 'content-type': 'application/ndjson' });
    res.end(lines.join('\n'));
  }
}
