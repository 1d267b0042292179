/* eslint-disable @typescript-eslint/no-require-imports -- the official client is loaded on use: `collect` never needs it (transport-client.ts) */
import { readFileSync } from 'node:fs';
import type { Client, ClientOptions } from '@elastic/elasticsearch';
import * as esErrors from '@elastic/transport/errors';
import { AuditkitError, ExitCode, expandHome, type Logger, silentLogger } from '../core';
import type { ElasticsearchConfig } from './config';
import { readDevState } from './dev-node';

export type { Client };

export interface ResolvedTarget {
  readonly urls: readonly string[];
  /** Where the URL came from, for messages. */
  readonly origin: 'config' | 'dev-node';
  /** Dev-node credentials, when the URL came from its state file. */
  readonly devAuth?: { username: string; password: string };
  /** Credentials that were written into the URL (`https://user:pw@host`): moved out of it, so no URL the kit logs or prints carries them. */
  readonly urlAuth?: { username: string; password: string };
}

/** Takes `user:password@` out of node URLs; the credentials of the first URL that has them are returned apart. */
export function splitUrlCredentials(urls: readonly string[]): { urls: string[]; auth?: { username: string; password: string } } {
  let auth: { username: string; password: string } | undefined;
  const clean = urls.map((raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return raw;
    }
    if (!u.username && !u.password) return raw;
    auth ??= { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, raw.endsWith('/') ? '/' : '');
  });
  return auth ? { urls: clean, auth } : { urls: clean };
}

/**
 * The URL to talk to: the configured one, else the local dev node's (started by
 * `auditkit dev es start`), else a clear error saying how to get one.
 */
export async function resolveTarget(cfg: ElasticsearchConfig): Promise<ResolvedTarget> {
  if (cfg.url) {
    const { urls, auth } = splitUrlCredentials(Array.isArray(cfg.url) ? cfg.url : [cfg.url]);
    return { urls, origin: 'config', ...(auth ? { urlAuth: auth } : {}) };
  }
  const dev = await readDevState();
  if (dev) {
    return {
      urls: [dev.url],
      origin: 'dev-node',
      ...(dev.username && dev.password ? { devAuth: { username: dev.username, password: dev.password } } : {}),
    };
  }
  throw new AuditkitError(
    'AK_ES_NO_URL',
    'no Elasticsearch configured: set elasticsearch.url in auditkit.yml (or AUDITKIT_ELASTICSEARCH_URL, or --es-url), or start a local node with `auditkit dev es start`',
    { exitCode: ExitCode.Config },
  );
}

function normaliseFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase().match(/.{2}/g)?.join(':') ?? fp;
}

/** What both clients are built from (createClient here, createShippingClient in transport-client.ts). */
export interface ResolvedClientOptions {
  readonly urls: readonly string[];
  readonly requestTimeout: number;
  readonly maxRetries: number;
  readonly auth?: { apiKey: string } | { username: string; password: string };
  readonly tls: { rejectUnauthorized: boolean; ca?: Buffer };
  readonly caFingerprint?: string;
}

/** Credentials, TLS (verification on unless explicitly turned off), CA, timeouts: from config. */
export function clientOptions(cfg: ElasticsearchConfig, target: ResolvedTarget, log: Logger = silentLogger): ResolvedClientOptions {
  let auth: ResolvedClientOptions['auth'];
  if (cfg.api_key) auth = { apiKey: cfg.api_key };
  else if (cfg.username && cfg.password) auth = { username: cfg.username, password: cfg.password };
  else if (target.urlAuth) auth = { ...target.urlAuth };
  else if (target.devAuth) auth = { ...target.devAuth };
  const tls: { rejectUnauthorized: boolean; ca?: Buffer } = { rejectUnauthorized: cfg.tls_verify };
  if (cfg.ca_file) {
    try {
      tls.ca = readFileSync(expandHome(cfg.ca_file));
    } catch (err) {
      throw new AuditkitError('AK_ES_CA', `cannot read the CA file: ${(err as Error).message}`, { location: { file: cfg.ca_file }, exitCode: ExitCode.Config, cause: err });
    }
  }
  if (!cfg.tls_verify) log.warn({ 'url.full': target.urls[0] }, 'TLS certificate verification is off');
  return {
    urls: target.urls,
    requestTimeout: cfg.request_timeout_ms,
    maxRetries: cfg.max_retries,
    tls,
    ...(auth ? { auth } : {}),
    ...(cfg.ca_fingerprint ? { caFingerprint: normaliseFingerprint(cfg.ca_fingerprint) } : {}),
  };
}

/** Build a client from config. TLS verification is on unless explicitly turned off. */
export function createClient(cfg: ElasticsearchConfig, target: ResolvedTarget, log: Logger = silentLogger): Client {
  const { Client: EsClient, ClusterConnectionPool } = require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');
  const r = clientOptions(cfg, target, log);
  const opts: ClientOptions = {
    node: [...r.urls],
    requestTimeout: r.requestTimeout,
    maxRetries: r.maxRetries,
    // Compression off: bulk bodies are built once and sent as they are.
    compression: false,
    name: 'auditkit',
    // Errors carry their request: 'remove' drops its headers (credentials) and options.
    // The default 'replace' deep-copies the whole request, walking a bulk body Buffer
    // byte by byte: with Elasticsearch down, a collector spent its time in that copy
    // and its heap grew past 1 GB for a few MB of queued events.
    redaction: { type: 'remove' },
    // Several URLs: the classic pool. The client's default (WeightedConnectionPool) keeps a
    // current weight that is not lowered when a node is marked dead; once a dead node and a
    // timeout or two on the live ones drop the highest weight below it, it answers "no living
    // connection" without trying any node, once per request, for up to ~330 requests. In the
    // three-node kill test a client polling once a second got nothing but that for 140 s while
    // two nodes were healthy; a collector backing off up to 30 s between tries would sit out
    // hours. This pool round-robins over the nodes that answer, tries the dead ones when none
    // does, and pings a dead one (HEAD /) before using it again. No sniffing: the URLs are
    // used as given (a sniffed address may not be reachable from the host).
    ...(r.urls.length > 1 ? { ConnectionPool: ClusterConnectionPool } : {}),
    sniffOnStart: false,
    sniffOnConnectionFault: false,
    sniffInterval: false,
    tls: { ...r.tls },
  };
  if (r.auth) opts.auth = { ...r.auth };
  if (r.caFingerprint) opts.caFingerprint = r.caFingerprint;
  return new EsClient(opts);
}

/**
 * Turn a transport error into one clear line: what failed, where, and what to try.
 */
export function explainEsError(err: unknown, url: string): AuditkitError {
  if (err instanceof AuditkitError) return err;
  if (err instanceof esErrors.ResponseError) {
    const status = err.meta.statusCode;
    const body = err.meta.body as { error?: { type?: string; reason?: string } } | string | undefined;
    const reason = typeof body === 'object' && body?.error ? `${body.error.type ?? ''}: ${body.error.reason ?? ''}` : String(body ?? err.message);
    if (status === 401) return new AuditkitError('AK_ES_AUTH', `Elasticsearch at ${url} refused the credentials (401). Check elasticsearch.api_key or username/password`, { exitCode: ExitCode.Auth, cause: err });
    if (status === 403) return new AuditkitError('AK_ES_FORBIDDEN', `Elasticsearch at ${url} denied the request (403: ${reason}). The API key or user lacks a privilege this command needs; \`auditkit setup api-key --role admin\` makes one that can provision`, { exitCode: ExitCode.Auth, cause: err });
    return new AuditkitError('AK_ES_RESPONSE', `Elasticsearch at ${url} answered ${status}: ${reason}`, { exitCode: ExitCode.Failure, cause: err });
  }
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  const msg = e.message ?? String(err);
  const code = e.cause?.code ?? (/(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|CERT_[A-Z_]+|SELF_SIGNED_CERT[A-Z_]*|UNABLE_TO_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT)/.exec(msg)?.[1] ?? '');
  if (/CERT|SELF_SIGNED|UNABLE_TO/.test(code) || /certificate/i.test(msg)) {
    return new AuditkitError('AK_ES_TLS', `TLS verification of ${url} failed (${code || msg}). Set elasticsearch.ca_file or elasticsearch.ca_fingerprint to the cluster's CA`, { exitCode: ExitCode.Unavailable, cause: err });
  }
  if (code === 'ECONNREFUSED') {
    return new AuditkitError('AK_ES_UNREACHABLE', `cannot reach Elasticsearch at ${url} (connection refused). Is it running? For a local node run \`auditkit dev es start\``, { exitCode: ExitCode.Unavailable, cause: err });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new AuditkitError('AK_ES_UNREACHABLE', `cannot resolve the Elasticsearch host in ${url} (${code}). Check elasticsearch.url`, { exitCode: ExitCode.Unavailable, cause: err });
  }
  if (e.name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return new AuditkitError('AK_ES_TIMEOUT', `Elasticsearch at ${url} did not answer in time. Check the network, or raise elasticsearch.request_timeout_ms`, { exitCode: ExitCode.Unavailable, cause: err });
  }
  if (e.name === 'ConnectionError' || e.name === 'NoLivingConnectionsError') {
    return new AuditkitError('AK_ES_UNREACHABLE', `cannot reach Elasticsearch at ${url}: ${msg}. For a local node run \`auditkit dev es start\``, { exitCode: ExitCode.Unavailable, cause: err });
  }
  return new AuditkitError('AK_ES_ERROR', `Elasticsearch request to ${url} failed: ${msg}`, { exitCode: ExitCode.Failure, cause: err });
}

/** Fail fast with a clear line when the cluster cannot be reached or refuses us. */
export async function checkConnection(client: Client, url: string): Promise<{ clusterName: string; status: string }> {
  try {
    const h = await client.cluster.health({}, { requestTimeout: 10_000, maxRetries: 0 });
    return { clusterName: h.cluster_name, status: h.status };
  } catch (err) {
    throw explainEsError(err, url);
  }
}
