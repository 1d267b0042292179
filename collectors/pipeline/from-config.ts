import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BulkClient } from '../../elastic';
import { expandHome, KIT_VERSION, type Logger } from '../../core';
import type { AgentFields, HostFields } from '../../schema';
import type { CollectorConfig } from '../config';
import type { PipelineOptions } from './pipeline';

/** host.* of this machine: name, id from /etc/machine-id where readable, non-internal IPs. */
export function collectorHost(cfg: Pick<CollectorConfig, 'host_name'>): HostFields {
  const name = cfg.host_name ?? os.hostname();
  let id: string | undefined;
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      id = fs.readFileSync(f, 'utf8').trim() || undefined;
      if (id) break;
    } catch {
      /* not readable */
    }
  }
  const ip: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (!a.internal) ip.push(a.address.replace(/%.*$/, ''));
  // host.architecture as `uname -m` says it (x86_64, aarch64), as auditd and the rest of the data do; not Node's os.arch() (x64).
  return { name, hostname: os.hostname(), ...(id ? { id } : {}), ...(ip.length > 0 ? { ip } : {}), architecture: os.machine(), os: { type: os.platform(), kernel: os.release() } };
}

/** agent.*: a stable id kept in the state directory (created on first run). */
export function collectorAgent(stateDir: string, hostName: string, persist = true): AgentFields {
  const file = path.join(stateDir, 'agent-id');
  let id: string | undefined;
  try {
    id = fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    /* first run */
  }
  if (!id) {
    id = randomUUID();
    if (persist) try {
      fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, id + '\n', { mode: 0o600 });
    } catch {
      /* read-only state dir: an id per run */
    }
  }
  return { type: 'auditkit', version: KIT_VERSION, id, name: hostName };
}

/** The sink part of the pipeline options, from `collector.sink` (shared by collect, ingest and demo). */
export function sinkOptionsFromConfig(cfg: Pick<CollectorConfig, 'sink'>, client: BulkClient): NonNullable<PipelineOptions['sink']> {
  return {
    client,
    flushBytes: cfg.sink.flush_bytes,
    flushIntervalMs: cfg.sink.flush_interval_ms,
    maxDocs: cfg.sink.max_docs,
    maxInflight: cfg.sink.max_inflight,
    backoffInitialMs: cfg.sink.backoff_initial_ms,
    backoffMaxMs: cfg.sink.backoff_max_ms,
    requestTimeoutMs: cfg.sink.request_timeout_ms,
  };
}

/** The pipeline options `auditkit collect` runs with. */
export function pipelineOptionsFromConfig(
  cfg: CollectorConfig,
  opts: { client?: BulkClient; namespace: string; log?: Logger; once?: boolean; signal?: AbortSignal; stateDir?: string },
): PipelineOptions {
  const stateDir = path.resolve(expandHome(opts.stateDir ?? cfg.state_dir));
  const host = collectorHost(cfg);
  const ns = cfg.namespace ?? opts.namespace;
  return {
    inputs: cfg.inputs.map((i) => ({
      paths: (i.paths ?? (i.path ? [i.path] : [])).map((p) => path.resolve(expandHome(p))),
      format: i.format,
      ...(i.dataset ? { dataset: i.dataset } : {}),
      namespace: i.namespace ?? ns,
      startAt: i.start_at,
      maxLineBytes: i.max_line_bytes,
    })),
    stateDir,
    namespace: ns,
    host,
    agent: collectorAgent(stateDir, host.name),
    once: opts.once ?? false,
    pollIntervalMs: cfg.poll_interval_ms,
    rotatedGraceMs: cfg.rotated_grace_ms,
    batchRecords: cfg.batch_records,
    spool: { maxBytes: cfg.spool.max_bytes, segmentBytes: cfg.spool.segment_bytes, fsync: cfg.spool.fsync, fsyncIntervalMs: cfg.spool.fsync_interval_ms, whenFull: cfg.spool.when_full },
    ...(opts.client ? { sink: sinkOptionsFromConfig(cfg, opts.client) } : {}),
    heartbeatIntervalMs: cfg.heartbeat_interval_s * 1000,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
}
