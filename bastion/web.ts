/**
 * The web portal of `auditkit bastion serve` (on `bastion.web.listen`): log in with
 * the bastion password and TOTP, list the hosts one is granted, open a web terminal,
 * open a one-time token's terminal, replay one's sessions, and (admins) list, watch
 * and end live sessions.
 *
 * Invariants:
 * - Nothing here reaches a target by itself: a terminal is DoorApi.openShell, i.e. the
 *   ssh door's own session core (target connection with strict host keys, recording,
 *   command extraction, guard rail, documents). The target is resolved from the user's
 *   grants on the server at each open; what the page sends is only a name to look up.
 * - Every page and API needs a portal session, except /login, the token page /t/…,
 *   the assets and the login/session endpoints. Sessions are server-side (random id in
 *   a `__Host-` cookie: Secure, HttpOnly, SameSite=Strict, Path=/), expire
 *   (web.session_ttl_s, web.session_idle_s) and are renewed at login (no fixation).
 *   A user who was disabled, expired, or left the login ACL loses the session at the
 *   next request.
 * - Every state-changing request (POST) and every websocket carries the session's CSRF
 *   token (header `x-csrf-token`, or `csrf` in the websocket URL) and a same-origin
 *   Origin header; both are checked in constant time.
 * - Login is the door's login (same lockout per user and address, fixed delay, login
 *   documents), behind a rate limit per address.
 * - Strict CSP (scripts and styles only from the portal itself: the page ships with
 *   the kit, no CDN), no framing, no referrer, HSTS.
 */
import { randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import { AuditkitError, ExitCode, assertPrivateFile, expandHome, shippedAssetDir, type Logger } from '../core';
import type { Target } from './access';
import type { BastionConfig } from './config';
import { readCast } from './recording';
import type { DoorApi, LiveSession, SessionPeer, SessionVia } from './server';
import { TOKEN_RE, type TokenStore } from './tokens';
import { TaskError, type TaskRunner, type TaskState } from './batch';

/** A task as the task page shows it (from memory while it runs here, else from the tasks dataset). */
export interface TaskView {
  readonly id: string;
  readonly user: string;
  readonly command: string;
  readonly total: number;
  readonly done: number;
  readonly results: ReadonlyArray<{ host: string; account?: string; outcome: string; exit_code: number | null; stdout: string; stderr: string; truncated: boolean; error?: string; duration_ms: number; session?: string }>;
}

export function taskView(t: TaskState): TaskView {
  return {
    id: t.id,
    user: t.user,
    command: t.command,
    total: t.total,
    done: t.done,
    results: t.results.map((r) => ({ host: r.host, ...(r.account ? { account: r.account } : {}), outcome: r.outcome, exit_code: r.exitCode, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated, ...(r.error ? { error: r.error } : {}), duration_ms: r.end - r.start, ...(r.session ? { session: r.session } : {}) })),
  };
}

/** An ended session as the portal lists it (from the sessions dataset). */
export interface PastSession {
  readonly id: string;
  readonly user: string;
  readonly host: string;
  readonly account: string;
  readonly start: string;
  readonly end: string;
  readonly reason: string;
  readonly recording?: string;
}

export interface WebOptions {
  readonly config: BastionConfig;
  readonly door: DoorApi;
  readonly tokens: TokenStore;
  /** Ended sessions, newest first: of one user, or everyone's (user undefined), or one by id. */
  readonly pastSessions: (q: { user?: string; id?: string }) => Promise<PastSession[]>;
  readonly live: () => LiveSession[];
  readonly kill: (id: string) => boolean;
  /** Batch tasks (the page's task form and task page). */
  readonly tasks?: TaskRunner;
  /** A task not in memory here (ended on another instance, or before a restart). */
  readonly findTask?: (id: string) => Promise<TaskView | undefined>;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface WebPortal {
  readonly url: string;
  readonly port: number;
  /** SHA-256 fingerprint of the portal's certificate (AA:BB:…), when TLS. */
  readonly fingerprint?: string;
  /** The certificate was generated on this start. */
  readonly generated: boolean;
  close(): Promise<void>;
}

const COOKIE = '__Host-ak_sid';

/** The part of a `ws` WebSocket used here (@fastify/websocket hands us one). */
interface WebSocket {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: string | Buffer, opts?: { binary: boolean }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
}

interface WebSession {
  readonly id: string;
  readonly csrf: string;
  readonly created: number;
  lastSeen: number;
  user?: string;
  admin: boolean;
}

/** Where the page assets are: web/ beside the running file, or bastion/web in the source tree above it (dist/). */
export function webAssetsDir(): string {
  return shippedAssetDir('bastion', 'web', 'app.js');
}

/** The portal's certificate: the operator's, else one generated once into state_dir (mode 600). */
export async function loadWebCertificate(cfg: BastionConfig, host: string): Promise<{ cert: string; key: string; fingerprint: string; generated: boolean }> {
  const w = cfg.web;
  let certFile: string;
  let keyFile: string;
  let generated = false;
  if (w.cert || w.key) {
    if (!w.cert || !w.key) throw new AuditkitError('AK_BASTION_WEB_TLS', 'bastion.web.cert and bastion.web.key go together: give both, or neither to use a generated self-signed certificate', { exitCode: ExitCode.Config });
    certFile = path.resolve(expandHome(w.cert));
    keyFile = path.resolve(expandHome(w.key));
  } else {
    const dir = path.resolve(expandHome(cfg.state_dir));
    certFile = path.join(dir, 'web-cert.pem');
    keyFile = path.join(dir, 'web-key.pem');
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const selfsigned = require('selfsigned') as { generate(attrs: Array<{ name: string; value: string }>, o: Record<string, unknown>): Promise<{ private: string; cert: string }> };
      const names = [...new Set(['localhost', host].filter((h) => h && h !== '0.0.0.0' && h !== '::'))];
      const ip = /^[\d.]+$|:/.test(host) && host !== '0.0.0.0' && host !== '::' ? [host] : [];
      const pems = await selfsigned.generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
        keySize: 2048,
        algorithm: 'sha256',
        notAfterDate: new Date(Date.now() + 2 * 365 * 86_400_000),
        extensions: [{ name: 'subjectAltName', altNames: [...names.filter((n) => !/^[\d.]+$|:/.test(n)).map((value) => ({ type: 2, value })), ...['127.0.0.1', ...ip].map((v) => ({ type: 7, ip: v }))] }],
      });
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      await fsp.writeFile(keyFile, pems.private, { mode: 0o600, flag: 'wx' });
      await fsp.writeFile(certFile, pems.cert, { mode: 0o600, flag: 'wx' });
      generated = true;
    }
  }
  await assertPrivateFile(keyFile, 'the web portal key');
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([fsp.readFile(certFile, 'utf8'), fsp.readFile(keyFile, 'utf8')]);
  } catch (err) {
    throw new AuditkitError('AK_BASTION_WEB_TLS', `cannot read the web portal certificate or key: ${(err as Error).message}`, { location: { file: certFile }, exitCode: ExitCode.Config, cause: err });
  }
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(cert).fingerprint256;
  } catch (err) {
    throw new AuditkitError('AK_BASTION_WEB_TLS', `not a PEM certificate: ${(err as Error).message}`, { location: { file: certFile }, exitCode: ExitCode.Config, cause: err });
  }
  return { cert, key, fingerprint, generated };
}

/**
 * The portal's base URL as people outside this machine reach it (links in Kibana): web.public_url,
 * else https://<listen host>:<port> when the portal listens on a specific address; undefined when
 * the portal is off or listens on a wildcard address without a public_url (no name to link to).
 */
export function portalBaseUrl(w: BastionConfig['web']): string | undefined {
  if (w.public_url) return w.public_url.replace(/\/+$/, '');
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(w.listen ?? '');
  if (!m?.[1] || ['0.0.0.0', '[::]', '::'].includes(m[1])) return undefined;
  return `${w.tls ? 'https' : 'http'}://${m[1]}:${m[2] ?? ''}`;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The websocket as a SessionPeer for the session core: binary frames are terminal bytes
 * both ways; text frames are JSON control messages (resize in; exit and session id out).
 */
class SocketPeer extends EventEmitter implements SessionPeer {
  readable = true;
  writable = true;
  readonly stderr = { write: (d: string | Buffer): boolean => this.write(d) };
  constructor(private readonly ws: WebSocket) {
    super();
    ws.on('close', () => {
      this.readable = false;
      this.writable = false;
      this.emit('close');
    });
  }
  write(d: string | Buffer): boolean {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(typeof d === 'string' ? Buffer.from(d) : d, { binary: true });
    return true;
  }
  control(msg: Record<string, unknown>): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
  exit(code: number | string): void {
    this.control({ exit: code });
  }
  end(): void {
    this.writable = false;
    this.ws.close(1000, 'session ended');
  }
}

/** What a page may say about a target (no address of a host the user cannot reach, no grant ids). */
const targetView = (t: Target): Record<string, unknown> => ({ host: t.host.name, address: t.host.address, account: t.account, tags: t.host.tags });

export async function startWebPortal(o: WebOptions): Promise<WebPortal> {
  const cfg = o.config;
  const w = cfg.web;
  const now = o.now ?? Date.now;
  const listen = w.listen;
  if (!listen) throw new AuditkitError('AK_BASTION_WEB_TLS', 'bastion.web.listen is not set', { exitCode: ExitCode.Config });
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
  const host = m?.[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  const wantPort = Number(m?.[2] ?? 8443);
  const tls = w.tls ? await loadWebCertificate(cfg, host) : undefined;
  const assets = webAssetsDir();
  const xtermDir = path.dirname(require.resolve('@xterm/xterm/package.json'));
  const fitDir = path.dirname(require.resolve('@xterm/addon-fit/package.json'));
  const ASSETS: Record<string, { file: string; type: string }> = {
    'app.js': { file: path.join(assets, 'app.js'), type: 'text/javascript; charset=utf-8' },
    'app.css': { file: path.join(assets, 'app.css'), type: 'text/css; charset=utf-8' },
    'xterm.js': { file: path.join(xtermDir, 'lib', 'xterm.js'), type: 'text/javascript; charset=utf-8' },
    'xterm.css': { file: path.join(xtermDir, 'css', 'xterm.css'), type: 'text/css; charset=utf-8' },
    'addon-fit.js': { file: path.join(fitDir, 'lib', 'addon-fit.js'), type: 'text/javascript; charset=utf-8' },
  };
  const PAGES = new Set(['hosts', 'terminal', 'replay', 'sessions', 'live', 'watch']);
  const pageCache = new Map<string, Buffer>();
  const readAsset = async (file: string): Promise<Buffer> => {
    let b = pageCache.get(file);
    if (!b) {
      b = await fsp.readFile(file);
      pageCache.set(file, b);
    }
    return b;
  };

  const sessions = new Map<string, WebSession>();
  const newSession = (): WebSession => {
    const s: WebSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), created: now(), lastSeen: now(), admin: false };
    sessions.set(s.id, s);
    return s;
  };
  const setCookie = (reply: FastifyReply, s: WebSession): void => {
    reply.setCookie(COOKIE, s.id, { path: '/', httpOnly: true, secure: true, sameSite: 'strict', maxAge: w.session_ttl_s });
  };
  const source = (req: FastifyRequest): { ip: string; port: number } => ({ ip: req.ip.replace(/^::ffff:/, ''), port: req.socket.remotePort ?? 0 });

  /** The request's live session, checked against expiry and the user's current standing; or undefined. */
  const sessionOf = (req: FastifyRequest): WebSession | undefined => {
    const id = req.cookies[COOKIE];
    if (!id) return undefined;
    const s = sessions.get(id);
    if (!s) return undefined;
    const t = now();
    if (t - s.created > w.session_ttl_s * 1000 || t - s.lastSeen > w.session_idle_s * 1000) {
      sessions.delete(id);
      return undefined;
    }
    if (s.user !== undefined) {
      const u = o.door.activeUser(s.user, source(req).ip);
      if (!u) {
        sessions.delete(id);
        return undefined;
      }
      s.admin = u.groups.includes(w.admin_group);
    }
    s.lastSeen = t;
    return s;
  };
  const userOf = (req: FastifyRequest): WebSession | undefined => {
    const s = sessionOf(req);
    return s?.user !== undefined ? s : undefined;
  };
  const origins = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin;
    const hostHeader = req.headers.host;
    if (!origin || !hostHeader) return false;
    try {
      const u = new URL(origin);
      // Without TLS here the portal sits behind a TLS proxy on loopback: the browser's origin is https.
      return u.host === hostHeader && (u.protocol === 'https:' || (!tls && u.protocol === 'http:'));
    } catch {
      return false;
    }
  };
  const csrfOk = (req: FastifyRequest, s: WebSession, token: string | undefined): boolean => origins(req) && typeof token === 'string' && same(token, s.csrf);

  const app: FastifyInstance = Fastify({
    logger: false,
    trustProxy: false,
    bodyLimit: 64 * 1024,
    ...(tls ? { https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' as const } } : {}),
  });
  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
    hsts: { maxAge: 31_536_000, includeSubDomains: false },
  });
  await app.register(fastifyRateLimit, { max: w.rate_limit_per_min, timeWindow: 60_000, keyGenerator: (req) => source(req).ip });
  await app.register(fastifyWebsocket, { options: { maxPayload: 1024 * 1024 } });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  // ---------------------------------------------------------------- assets and pages
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const a = ASSETS[req.params.name];
    if (!a) return reply.code(404).send({ error: 'not found' });
    return reply.type(a.type).send(await readAsset(a.file));
  });
  const page = async (reply: FastifyReply, name: 'app' | 'login'): Promise<FastifyReply> => reply.type('text/html; charset=utf-8').send(await readAsset(path.join(assets, `${name}.html`)));
  app.get('/', async (req, reply) => reply.redirect(userOf(req) ? '/hosts' : '/login'));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/login', async (_req, reply) => page(reply, 'login'));
  app.get<{ Params: { page: string } }>('/:page', async (req, reply) => {
    if (!PAGES.has(req.params.page)) return reply.code(404).send({ error: 'not found' });
    if (!userOf(req)) return reply.redirect('/login');
    return page(reply, 'app');
  });
  app.get<{ Params: { page: string; id: string } }>('/:page/:id', async (req, reply) => {
    if (req.params.page === 't') return page(reply, 'app'); // a token terminal: the token is the credential
    if (!PAGES.has(req.params.page) && req.params.page !== 'task') return reply.code(404).send({ error: 'not found' });
    if (!userOf(req)) return reply.redirect('/login');
    return page(reply, 'app');
  });

  // ---------------------------------------------------------------- login
  app.get('/api/session', async (req, reply) => {
    let s = sessionOf(req);
    if (!s) {
      s = newSession();
      setCookie(reply, s);
    }
    return { csrf: s.csrf, user: s.user ?? null, admin: s.admin };
  });
  app.post<{ Body: { user?: unknown; password?: unknown; code?: unknown } }>(
    '/api/login',
    { config: { rateLimit: { max: Math.max(5, Math.floor(w.rate_limit_per_min / 10)), timeWindow: 60_000 } } },
    async (req, reply) => {
      const s = sessionOf(req);
      if (!s || !csrfOk(req, s, req.headers['x-csrf-token'] as string | undefined)) return reply.code(403).send({ error: 'CSRF check failed: reload the page' });
      const b = req.body ?? {};
      const str = (v: unknown): string => (typeof v === 'string' ? v : '');
      const [user, password, code] = [str(b.user), str(b.password), str(b.code)];
      if (!user || user.length > 64 || password.length > 1024 || code.length > 16) return reply.code(400).send({ error: 'user, password and code are needed' });
      const r = await o.door.login(user, password, code, source(req));
      // One answer for every refusal (unknown user, wrong password or code, locked): the reason is in the login document.
      if (!r.ok) return reply.code(401).send({ error: 'login refused' });
      sessions.delete(s.id);
      const fresh = newSession();
      fresh.user = r.user.name;
      fresh.admin = r.user.groups.includes(w.admin_group);
      setCookie(reply, fresh);
      return { user: fresh.user, admin: fresh.admin, csrf: fresh.csrf };
    },
  );
  app.post('/api/logout', async (req, reply) => {
    const s = sessionOf(req);
    if (!s || !csrfOk(req, s, req.headers['x-csrf-token'] as string | undefined)) return reply.code(403).send({ error: 'CSRF check failed' });
    sessions.delete(s.id);
    reply.clearCookie(COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' });
    return { ok: true };
  });

  // ---------------------------------------------------------------- API (a logged-in session for all of it)
  app.addHook('preHandler', async (req, reply) => {
    const url = req.url.split('?')[0] ?? '';
    if (!url.startsWith('/api/') || url === '/api/session' || url === '/api/login' || url === '/api/logout') return;
    if (url.startsWith('/api/ws/token/')) return; // the token is the credential
    const s = userOf(req);
    if (!s) return reply.code(401).send({ error: 'log in first' });
    if (req.method !== 'GET' && !csrfOk(req, s, req.headers['x-csrf-token'] as string | undefined)) return reply.code(403).send({ error: 'CSRF check failed' });
  });
  const me = (req: FastifyRequest): WebSession => userOf(req) as WebSession;

  app.get('/api/hosts', async (req) => {
    const s = me(req);
    return { user: s.user, admin: s.admin, targets: o.door.targets(s.user as string).map(targetView) };
  });

  app.get<{ Querystring: { all?: string } }>('/api/sessions', async (req) => {
    const s = me(req);
    const all = s.admin && req.query.all === '1';
    return { sessions: await o.pastSessions(all ? {} : { user: s.user as string }) };
  });

  app.get<{ Params: { id: string } }>('/api/replay/:id', async (req, reply) => {
    const s = me(req);
    if (!/^[0-9a-f-]{36}$/.test(req.params.id)) return reply.code(400).send({ error: 'not a session id' });
    const [sess] = await o.pastSessions({ id: req.params.id });
    // Someone else's session is "not found" for a non-admin (no oracle of which ids exist).
    if (!sess || (!s.admin && sess.user !== s.user) || !sess.recording) return reply.code(404).send({ error: 'no such session' });
    const cast = await readCast(sess.recording).catch(() => undefined);
    if (!cast) return reply.code(404).send({ error: 'the recording is not on this bastion' });
    // Input is not replayed in the page (it may hold masked secrets' lengths; the output shows what ran).
    return { session: sess, header: cast.header, events: cast.events.filter((e) => e[1] === 'o' || e[1] === 'r' || e[1] === 'm') };
  });

  app.get('/api/live', async (req, reply) => {
    const s = me(req);
    if (!s.admin) return reply.code(403).send({ error: 'admins only' });
    return { live: o.live() };
  });
  app.post<{ Params: { id: string } }>('/api/live/:id/kill', async (req, reply) => {
    const s = me(req);
    if (!s.admin) return reply.code(403).send({ error: 'admins only' });
    if (!o.kill(req.params.id)) return reply.code(404).send({ error: 'not live on this bastion' });
    o.log.info({ 'user.name': s.user, session: req.params.id }, 'bastion session ended from the portal');
    return { ok: true };
  });

  // ---------------------------------------------------------------- batch tasks
  app.post<{ Body: { command?: unknown; groups?: unknown; hosts?: unknown; account?: unknown } }>('/api/tasks', async (req, reply) => {
    const s = me(req);
    if (!o.tasks) return reply.code(404).send({ error: 'batch tasks are off' });
    const b = req.body ?? {};
    const names = (v: unknown): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,]+/) : []).map(String).filter(Boolean).slice(0, 1000);
    try {
      const t = o.tasks.start({ user: s.user as string, command: typeof b.command === 'string' ? b.command : '', groups: names(b.groups), hosts: names(b.hosts), ...(typeof b.account === 'string' && b.account ? { account: b.account } : {}), source: source(req) });
      return { task: t.id, hosts: t.total };
    } catch (err) {
      if (err instanceof TaskError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });
  app.get<{ Params: { id: string } }>('/api/tasks/:id', async (req, reply) => {
    const s = me(req);
    if (!/^[0-9a-f-]{36}$/.test(req.params.id)) return reply.code(400).send({ error: 'not a task id' });
    const mem = o.tasks?.get(req.params.id);
    const t = mem ? taskView(mem) : await o.findTask?.(req.params.id);
    if (!t || (!s.admin && t.user !== s.user)) return reply.code(404).send({ error: 'no such task' });
    return t;
  });

  // ---------------------------------------------------------------- terminals
  const parseSize = (q: { cols?: string; rows?: string }): { cols: number; rows: number } => ({
    cols: Math.min(500, Math.max(10, Number(q.cols) || 80)),
    rows: Math.min(200, Math.max(5, Number(q.rows) || 24)),
  });
  /** Pipe a websocket into the session core; the page gets {session} first, then terminal bytes. */
  const runTerminal = (ws: WebSocket, req: FastifyRequest, user: string, target: Target, size: { cols: number; rows: number }, via: SessionVia): void => {
    const peer = new SocketPeer(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        peer.emit('data', data);
        return;
      }
      try {
        const msg = JSON.parse(data.toString('utf8')) as { resize?: { cols?: unknown; rows?: unknown } };
        if (msg.resize) {
          const r = parseSize({ cols: String(msg.resize.cols), rows: String(msg.resize.rows) });
          o.door.resize(peer, r.cols, r.rows);
        }
      } catch {
        /* not a control message: ignored */
      }
    });
    void o.door
      .openShell(user, target, peer, { source: source(req), cols: size.cols, rows: size.rows, via, onStart: (id) => peer.control({ session: id, host: target.host.name, account: target.account }) })
      .catch((err: unknown) => {
        o.log.error({ err }, 'web terminal failed');
        peer.end();
      });
  };
  const refuse = (ws: WebSocket, message: string): void => {
    ws.send(JSON.stringify({ error: message }));
    ws.close(4403, 'refused');
  };

  app.get<{ Querystring: { host?: string; account?: string; csrf?: string; cols?: string; rows?: string } }>('/api/ws/terminal', { websocket: true }, (ws, req) => {
    const s = userOf(req);
    if (!s) return refuse(ws, 'log in first');
    if (!csrfOk(req, s, req.query.csrf)) return refuse(ws, 'CSRF check failed');
    // The target is looked up in the user's grants NOW: a host name the page did not list is refused the same way.
    const t = o.door.target(s.user as string, String(req.query.host ?? ''), req.query.account ? String(req.query.account) : undefined);
    if (typeof t === 'string') {
      o.door.audit({ user: s.user as string, source: source(req), method: 'web-terminal', outcome: 'failure', reason: t });
      return refuse(ws, t);
    }
    runTerminal(ws, req, s.user as string, t, parseSize(req.query), 'web');
  });

  app.get<{ Params: { token: string }; Querystring: { cols?: string; rows?: string } }>('/api/ws/token/:token', { websocket: true }, (ws, req) => {
    void (async () => {
      if (!origins(req)) return refuse(ws, 'cross-origin request refused');
      const value = req.params.token;
      const use = await o.tokens.consume(TOKEN_RE.test(value) ? value : '');
      const who = use.token?.user ?? '(unknown token)';
      if (!use.ok) {
        o.door.audit({ user: who, source: source(req), method: 'web-token', outcome: 'failure', reason: `token ${use.reason}` });
        return refuse(ws, use.reason === 'used' ? 'this link was used already' : use.reason === 'expired' ? 'this link has expired' : 'this link is not valid');
      }
      const tk = use.token;
      if (!o.door.activeUser(tk.user, source(req).ip)) {
        o.door.audit({ user: tk.user, source: source(req), method: 'web-token', outcome: 'failure', reason: 'user disabled, expired or outside the login ACL' });
        return refuse(ws, 'this link is not valid');
      }
      const t = o.door.target(tk.user, tk.host, tk.account);
      if (typeof t === 'string') {
        o.door.audit({ user: tk.user, source: source(req), method: 'web-token', outcome: 'failure', reason: `grant no longer valid: ${t}` });
        return refuse(ws, `no longer allowed: ${t}`);
      }
      o.door.audit({ user: tk.user, source: source(req), method: 'web-token', outcome: 'success' });
      runTerminal(ws, req, tk.user, t, parseSize(req.query), 'token');
    })().catch((err: unknown) => {
      o.log.error({ err }, 'token terminal failed');
      refuse(ws, 'internal error');
    });
  });

  app.get<{ Params: { id: string }; Querystring: { csrf?: string } }>('/api/ws/watch/:id', { websocket: true }, (ws, req) => {
    const s = userOf(req);
    if (!s || !s.admin) return refuse(ws, 'admins only');
    if (!csrfOk(req, s, req.query.csrf)) return refuse(ws, 'CSRF check failed');
    // Read-only: messages from the watcher are ignored.
    const stop = o.door.watch(req.params.id, (d) => ws.readyState === ws.OPEN && ws.send(d, { binary: true }));
    if (!stop) return refuse(ws, 'not live on this bastion');
    o.log.info({ 'user.name': s.user, session: req.params.id }, 'bastion session watched from the portal');
    ws.on('close', stop);
  });

  const sweep = setInterval(() => {
    const t = now();
    for (const [id, s] of sessions) if (t - s.created > w.session_ttl_s * 1000 || t - s.lastSeen > w.session_idle_s * 1000) sessions.delete(id);
  }, 60_000);
  sweep.unref();

  await app.listen({ host, port: wantPort });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : wantPort;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const url = w.public_url?.replace(/\/$/, '') ?? `${tls ? 'https' : 'http'}://${shownHost}:${port}`;
  return {
    url,
    port,
    ...(tls ? { fingerprint: tls.fingerprint } : {}),
    generated: tls?.generated ?? false,
    async close() {
      clearInterval(sweep);
      for (const c of app.websocketServer?.clients ?? []) c.terminate();
      await app.close();
    },
  };
}
