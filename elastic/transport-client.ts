/* eslint-disable @typescript-eslint/no-require-imports -- loaded on use: `collect` must not load what it does not call */
/**
 * The collector's Elasticsearch client: the transport layer the official client is
 * built on (@elastic/transport, the same package at the same version: connection
 * pool, node:http connections, TLS, retries, the product check, redaction), without the
 * official client's API surface (~250 modules: every namespace, the helpers and the
 * ES|QL Apache Arrow reader), which a collector that only sends `_bulk` never calls.
 *
 * Built from the same options as `createClient` (client.ts): TLS verification on
 * unless turned off, CA file or fingerprint, API key or basic auth, the URLs'
 * credentials moved out of them, the classic pool for several URLs, the same
 * vendored `compatible-with=8` headers. `writeBulk` (bulk.ts) takes either client.
 */
import type * as TransportModule from '@elastic/transport';
import type { Logger } from '../core';
import { silentLogger } from '../core';
import { clientOptions, type ResolvedTarget } from './client';
import type { ElasticsearchConfig } from './config';

/** What the collector needs of a client: `transport.request` and `close`. */
export interface ShippingClient {
  readonly transport: TransportModule.Transport;
  close(): Promise<void>;
}

const VENDORED = {
  jsonContentType: 'application/vnd.elasticsearch+json; compatible-with=8',
  ndjsonContentType: 'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
  accept: 'application/vnd.elasticsearch+json; compatible-with=8,text/plain',
};

export function createShippingClient(cfg: ElasticsearchConfig, target: ResolvedTarget, log: Logger = silentLogger): ShippingClient {
  const o = clientOptions(cfg, target, log);
  const Transport = (require('@elastic/transport/Transport') as { default: typeof TransportModule.Transport }).default;
  // node:http, not undici: undici parses HTTP with llhttp compiled to WebAssembly, and
  // compiling it at the first request took ~30 MB of malloc'd compiler memory that glibc
  // kept as RSS for the collector's life (V8 peak_malloced_memory 39.8 vs 6.7 MB; issue
  // 20, fourth pass). node:http's parser is the same llhttp, built into the binary.
  // Same package, same TLS (https.Agent with `tls`: verification on unless turned off, CA,
  // fingerprint check), auth headers, timeouts, and Transport's retries.
  const HttpConnection = (require('@elastic/transport/connection/HttpConnection') as { default: typeof TransportModule.HttpConnection }).default;
  const Pool = o.urls.length > 1
    ? (require('@elastic/transport/pool/ClusterConnectionPool') as { default: typeof TransportModule.ClusterConnectionPool }).default
    : (require('@elastic/transport/pool/WeightedConnectionPool') as { default: typeof TransportModule.WeightedConnectionPool }).default;
  const Diagnostic = (require('@elastic/transport/Diagnostic') as { default: typeof TransportModule.Diagnostic }).default;
  const Serializer = (require('@elastic/transport/Serializer') as { default: typeof TransportModule.Serializer }).default;
  const { version } = require('@elastic/transport/package.json') as { version: string };
  const headers = { 'user-agent': `auditkit-collector (${process.platform}; Node.js ${process.version}; Transport ${version})` };
  const diagnostic = new Diagnostic();
  const pool = new Pool({
    Connection: HttpConnection,
    diagnostic,
    pingTimeout: 3000,
    resurrectStrategy: 'ping',
    tls: o.tls,
    ...(o.auth ? { auth: o.auth } : {}),
    ...(o.caFingerprint ? { caFingerprint: o.caFingerprint } : {}),
  });
  pool.addConnection(
    o.urls.map((u) => ({
      url: new URL(u),
      tls: o.tls,
      headers,
      timeout: o.requestTimeout,
      ...(o.auth ? { auth: o.auth } : {}),
      ...(o.caFingerprint ? { caFingerprint: o.caFingerprint } : {}),
    })),
  );
  const transport = new Transport({
    diagnostic,
    connectionPool: pool,
    serializer: new Serializer(),
    maxRetries: o.maxRetries,
    requestTimeout: o.requestTimeout,
    compression: false,
    headers,
    name: 'auditkit',
    productCheck: 'Elasticsearch',
    vendoredHeaders: VENDORED,
    redaction: { type: 'remove', additionalKeys: [] },
  });
  return { transport, close: () => pool.empty() };
}
