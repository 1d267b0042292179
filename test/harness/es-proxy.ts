/**
 * The one proxy tests put in front of the test Elasticsearch node, the process boundary we
 * cannot make fail on demand otherwise: the code under test talks to ES through it, so a test
 * can make ES fail for that code alone without stopping the node other tests share. Modes:
 *  pass    forward every request
 *  reset   ES unreachable while its port still answers: open connections are closed, new ones
 *          closed at once
 *  refuse  stop listening: connections are refused (ES "down"); the port is taken again after
 *  429/503 answer every request with that status, never forwarding
 *  drop    accept the request, then close the connection without an answer
 *  cut     forward to ES (it indexes!), then close mid-response
 *  chaos   per request at random: pass, 429, 503, drop, cut
 * `stats` counts the requests by the mode that served them.
 *
 * close() closes every connection it holds and stops listening: call it from afterAll.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';

export type EsProxyMode = 'pass' | 'reset' | 'refuse' | '429' | '503' | 'drop' | 'cut' | 'chaos';

export class EsProxy {
  readonly stats: Record<string, number> = {};
  private current: EsProxyMode;
  private listening = 0;
  private readonly target: URL;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();

  /** `target`: the node's URL (credentials in it are kept in `url`); `mode`: from the start. */
  constructor(target: string, mode: EsProxyMode = 'pass') {
    this.target = new URL(target);
    this.current = mode;
    this.server = http.createServer((req, res) => this.serve(req, res));
    this.server.keepAliveTimeout = 1000;
    this.server.on('connection', (s: Socket) => {
      if (this.current === 'reset') {
        this.bump('reset');
        s.destroy();
        return;
      }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get mode(): EsProxyMode {
    return this.current;
  }

  get port(): number {
    return this.listening;
  }

  /** The URL to give the code under test (after listen()). */
  get url(): string {
    const t = this.target;
    return `${t.protocol}//${t.username ? `${t.username}:${t.password}@` : ''}127.0.0.1:${this.listening}`;
  }

  /** Listen on a free loopback port; the proxy's URL. */
  async listen(): Promise<string> {
    this.listening = await this.bind(0);
    if (this.current === 'refuse') await this.unbind();
    return this.url;
  }

  async setMode(m: EsProxyMode): Promise<void> {
    const was = this.current;
    this.current = m;
    if (m === 'refuse' && was !== 'refuse') return this.unbind();
    if (m === 'reset') this.closeConnections();
    if (m !== 'refuse' && was === 'refuse') {
      for (let i = 0; i < 50; i++) {
        try {
          await this.bind(this.listening);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error(`cannot listen again on ${this.listening}`);
    }
  }

  async close(): Promise<void> {
    if (this.current !== 'refuse') await this.unbind();
    this.closeConnections();
  }

  private bump(k: string): void {
    this.stats[k] = (this.stats[k] ?? 0) + 1;
  }

  private closeConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  private bind(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  }

  private unbind(): Promise<void> {
    return new Promise<void>((r) => {
      this.server.close(() => r());
      this.closeConnections();
    });
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    let m = this.current;
    if (m === 'chaos') {
      const r = Math.random();
      m = r < 0.4 ? 'pass' : r < 0.55 ? '429' : r < 0.7 ? '503' : r < 0.85 ? 'drop' : 'cut';
    }
    this.bump(m);
    if (m === 'reset') return void req.socket.destroy();
    if (m === 'pass' || m === 'refuse') return this.forward(req, res, false);
    if (m === 'cut') return this.forward(req, res, true);
    // Read the body first so the client is mid-request when the fault hits.
    req.resume();
    req.on('end', () => {
      if (m === 'drop') {
        req.socket.destroy();
        return;
      }
      const status = m === '429' ? 429 : 503;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: status === 429 ? 'es_rejected_execution_exception' : 'unavailable_shards_exception', reason: 'injected by the test proxy' }, status }));
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, cut: boolean): void {
    const up = http.request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      if (cut) {
        ur.once('data', () => {
          res.writeHead(ur.statusCode ?? 200, ur.headers);
          res.socket?.destroy();
          ur.destroy();
        });
        ur.once('end', () => res.socket?.destroy());
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  }
}
