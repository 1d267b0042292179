/**
 * The TCP proxy tests put in front of the test Elasticsearch node: the code under test talks
 * to ES through it, so a test can make ES unreachable for that code alone (every connection
 * reset, new ones closed at once) without stopping the node other tests share.
 *
 * close() stops it and resets every connection it holds: call it from afterAll.
 */
import * as net from 'node:net';

export class EsProxy {
  down = false;
  readonly server: net.Server;
  private readonly socks = new Set<net.Socket>();
  constructor(private readonly target: URL) {
    this.server = net.createServer((c) => {
      if (this.down) return void c.destroy();
      const up = net.connect(Number(target.port || 80), target.hostname);
      for (const x of [c, up]) {
        this.socks.add(x);
        x.on('close', () => this.socks.delete(x));
        x.on('error', () => undefined);
      }
      c.pipe(up).pipe(c);
      c.on('close', () => up.destroy());
      up.on('close', () => c.destroy());
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as net.AddressInfo).port;
    return `${this.target.protocol}//${this.target.username ? `${this.target.username}:${this.target.password}@` : ''}127.0.0.1:${port}`;
  }
  stop(): void {
    this.down = true;
    for (const x of this.socks) x.destroy();
  }
  start(): void {
    this.down = false;
  }
  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
