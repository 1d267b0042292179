/** Shared by the report tests: index a simulated fleet, a real SMTP server, a TLS certificate. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as EsClient, type Client } from '@elastic/elasticsearch';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { applySetup, detectCapabilities, elasticsearchConfigSchema, planSetup } from '../../elastic';
import { streamName, type Dataset } from '../../schema';
import type { SimDocument } from '../../demo';
import { testEsUrl } from '../harness/es';

/** Templates first (so every field has its ECS type), then the documents with op_type create. */
export async function indexDocuments(client: Client, ns: string, docs: readonly SimDocument[]): Promise<number> {
  const caps = await detectCapabilities(client);
  await applySetup(client, planSetup(elasticsearchConfigSchema.parse({ namespace: ns }), caps));
  // Its own client with a long timeout: on a busy CI box (2 cores shared by every suite) a bulk can take minutes.
  const loader = new EsClient({ node: testEsUrl(), requestTimeout: 600_000 });
  const result = await loader.helpers.bulk<SimDocument>({
    datasource: docs as SimDocument[],
    flushBytes: 2_000_000,
    concurrency: 1,
    retries: 5,
    refreshOnCompletion: true,
    onDocument: (d) => [{ create: { _index: streamName(d.dataset as Dataset, ns), _id: String((d.doc['event'] as { id: string }).id) } }, d.doc] as never,
    onDrop: (d) => {
      throw new Error(`document refused: ${JSON.stringify(d.error).slice(0, 500)}`);
    },
  }).finally(() => loader.close());
  return result.successful;
}

export function selfSignedCert(): { key: Buffer; cert: Buffer; certFile: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-smtp-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert), certFile: cert };
}

export interface TestSmtp {
  readonly port: number;
  readonly messages: Array<{ envelope: { from: string; to: string[] }; mail: ParsedMail; raw: Buffer }>;
  /** Reply to DATA with this code for the next N messages (e.g. 451 temporary, 550 permanent). */
  failNext(count: number, code: number): void;
  close(): Promise<void>;
}

export async function startSmtp(opts: { key: Buffer; cert: Buffer; user: string; pass: string }): Promise<TestSmtp> {
  const messages: TestSmtp['messages'] = [];
  let failures = 0;
  let failCode = 451;
  const options: SMTPServerOptions = {
    key: opts.key,
    cert: opts.cert,
    secure: false,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.pass) cb(null, { user: auth.username });
      else cb(new Error('invalid credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          const err = new Error(failCode >= 500 ? 'mailbox unavailable' : 'try again later') as Error & { responseCode: number };
          err.responseCode = failCode;
          cb(err);
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw, { keepCidLinks: true }).then(
          (mail) => {
            messages.push({ envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) }, mail, raw });
            cb();
          },
          (e: Error) => cb(e),
        );
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    messages,
    failNext(count, code) {
      failures = count;
      failCode = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
