/**
 * A fault-injecting HTTP proxy in front of the real Elasticsearch node (the
 * process boundary we cannot make fail on demand otherwise). Modes:
 *  pass    forward everything
 *  refuse  stop listening: connections are refused (ES "down")
 *  429/503 answer every request with that status, never forwarding
 *  drop    accept the request, then close the connection without an answer
 *  cut     forward to ES (it indexes!), then close mid-response
 *  chaos   per request at random: pass, 429, 503, drop, cut
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';

export type FaultMode = 'pass' | 'refuse' | '429' | '503' | 'drop' | 'cut' | 'chaos';

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  mode: FaultMode;
  readonly stats: Record<string, number>;
  setMode(m: FaultMode): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const stats: Record<string, number> = {};
  const bump = (k: string): void => {
    stats[k] = (stats[k] ?? 0) + 1;
  };
  let mode: FaultMode = 'pass';
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, cut: boolean): void => {
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
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
  };
  const server = http.createServer((req, res) => {
    let m: FaultMode = mode;
    if (m === 'chaos') {
      const r = Math.random();
      m = r < 0.4 ? 'pass' : r < 0.55 ? '429' : r < 0.7 ? '503' : r < 0.85 ? 'drop' : 'cut';
    }
    bump(m);
    if (m === 'pass' || m === 'refuse') return forward(req, res, false);
    if (m === 'cut') return forward(req, res, true);
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
  });
  server.keepAliveTimeout = 1000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  const port = await listen(0);
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    get mode() {
      return mode;
    },
    set mode(m: FaultMode) {
      mode = m;
    },
    stats,
    async setMode(m) {
      if (m === 'refuse' && mode !== 'refuse') {
        mode = m;
        await new Promise<void>((r) => {
          server.close(() => r());
          for (const s of sockets) s.destroy();
        });
        return;
      }
      if (m !== 'refuse' && mode === 'refuse') {
        mode = m;
        for (let i = 0; i < 50; i++) {
          try {
            await listen(port);
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        throw new Error(`cannot listen again on ${port}`);
      }
      mode = m;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}
