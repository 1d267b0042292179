/**
 * The collector pipeline shared by every input format:
 *
 *   tailer (raw records + origin) → parser unit → route → encode once → spool (disk) → ES sink
 *
 * INVARIANTS (see spool.ts and sink.ts for their halves):
 *  - Write-ahead: a snapshot of source positions is staged right after the events
 *    read up to those positions were appended to the spool, and committed to the
 *    checkpoint file only after `spool.sync()` returned. A parser's buffered
 *    records hold the checkpoint back (`pendingOffset`), so a crash never skips a
 *    line that had not become an event yet.
 *  - A bad record never stops the stream: parse errors and over-long lines become
 *    dead-letter documents (stage parse, with the original) in the same spool.
 *  - Nothing is dropped unless `spool.when_full: drop_newest` says so; then it is
 *    counted under `dropped.spool_full`.
 *  - Replays (after a crash the spool resends its segments, the sources re-read
 *    from their checkpoints) are harmless: `_id` = event.id, op_type create.
 */
import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sleep as pause, type Logger } from '../../core';
import { bulkLines } from '../../elastic';
import { documentId, eventEnvelope, streamName, type AgentFields, type AuditkitEvent, type Dataset, type HostFields } from '../../schema';
import { PARSERS } from '../parsers';
import type { LineParser, ParseContext, ParseOutput, ParserUnit, RecordOrigin } from '../types';
import { CheckpointStore, inputKey, ownerOf, type FileCheckpoint } from './checkpoints';
import { newCounters, totalDropped, type Counters } from './counters';
import { capOriginal, ElasticsearchSink, type SinkSettings } from './sink';
import { encodeFrame, FrameKind, Spool, type FsyncPolicy } from './spool';
import { FileTailer, type TailItem } from './tailer';

export interface PipelineInput {
  readonly paths: readonly string[];
  /** A parser kind, or 'auto'. */
  readonly format: string;
  readonly dataset?: Dataset;
  readonly namespace: string;
  readonly startAt: 'beginning' | 'end';
  readonly maxLineBytes: number;
}

export interface PipelineOptions {
  readonly inputs: readonly PipelineInput[];
  /** Spool and checkpoints live here. */
  readonly stateDir: string;
  /** Namespace of heartbeats. */
  readonly namespace: string;
  readonly host: HostFields;
  readonly agent: AgentFields;
  /** ingest: read every file once to its end, no checkpoints kept. */
  readonly oneShot?: boolean;
  /** collect --once: read to the current end of every file, ship everything, exit. */
  readonly once?: boolean;
  readonly pollIntervalMs: number;
  readonly rotatedGraceMs: number;
  readonly batchRecords: number;
  readonly spool: { readonly maxBytes: number; readonly segmentBytes: number; readonly fsync: FsyncPolicy; readonly fsyncIntervalMs: number; readonly whenFull: 'block' | 'drop_newest' };
  /** Absent: no cluster (`--stdout`): events go to `emit`. */
  readonly sink?: SinkSettings;
  readonly emit?: (doc: AuditkitEvent | Record<string, unknown>) => void;
  /**
   * Streaming detection: called with every event; the alert documents it returns
   * go to `logs-auditkit.alerts-<the event's namespace>` through the same spool,
   * appended with the event (so an alert is as durable as its event, and a replay
   * after a crash raises the same alert ids: 409, not a double). It must not throw;
   * if it does, the event is shipped anyway and counted under detectErrors.
   */
  readonly detect?: (doc: AuditkitEvent) => ReadonlyArray<{ readonly event: { readonly id: string } }>;
  readonly heartbeatIntervalMs: number;
  readonly log?: Logger;
  /** Stop (SIGTERM): stop reading, commit, give in-flight requests `stopGraceMs`, exit. */
  readonly signal?: AbortSignal;
  readonly stopGraceMs?: number;
  readonly onProgress?: (p: { counters: Counters; bytesRead: number }) => void;
  /** Injectable clock for parsers (tests). */
  readonly now?: () => number;
}

export interface PipelineResult {
  readonly counters: Counters;
  readonly bytesRead: number;
  /** Records still in the spool at exit (shipped at the next start). */
  readonly spooled: number;
  readonly rotatedMissing: number;
}

interface InputRuntime {
  readonly input: PipelineInput;
  readonly tailer: FileTailer;
  /** Parser per kind (auto: files may differ). */
  readonly parsers: Map<string, { unit: ParserUnit; parser: LineParser }>;
  /** fileId → parser kind. */
  readonly fileKinds: Map<string, string | null>;
}

/** Sniff a file's first lines for `--format auto`; undefined when no parser claims it. */
export function sniffFormat(file: string, parsers: readonly ParserUnit[] = PARSERS): ParserUnit | undefined {
  let sample: string[] = [];
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(16 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const lines = buf.toString('utf8', 0, n).split('\n');
      if (n === buf.length) lines.pop();
      sample = lines.filter((l) => l.trim() !== '').slice(0, 20);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (sample.length === 0) return undefined;
  return parsers.find((p) => p.sniff(sample));
}

function deadLetterFrame(o: PipelineOptions, ns: string, dataset: string, origin: RecordOrigin, code: string, message: string, raw: string): Buffer {
  const hostId = o.host.id ?? o.host.name;
  const id = documentId('deadletter', 'parse', hostId, origin.fileId, origin.offset);
  const now = new Date().toISOString();
  const doc = {
    '@timestamp': now,
    ...eventEnvelope('deadletter', ns),
    message: `could not parse a record of ${origin.file} at byte ${origin.offset}`,
    event: { kind: 'pipeline_error', dataset: 'auditkit.deadletter', id, created: now },
    error: { code, message },
    host: o.host,
    agent: o.agent,
    log: { file: { path: origin.file } },
    auditkit: {
      source: { file: origin.file, offset: origin.offset, ...(origin.line !== undefined ? { line: origin.line } : {}) },
      deadletter: { stage: 'parse', reason: code, message, target: dataset, original: capOriginal(raw) },
    },
  };
  return encodeFrame(FrameKind.DeadLetter, Date.now(), bulkLines(streamName('deadletter', ns), id, doc));
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const counters = newCounters();
  const log = o.log;
  const now = o.now ?? Date.now;
  const startedAt = Date.now();
  const persist = !o.oneShot;
  const checkpoints = persist ? new CheckpointStore(o.stateDir) : undefined;
  let spool: Spool | undefined;
  if (o.sink) {
    const opened = Spool.open({ dir: `${o.stateDir}/spool`, maxBytes: o.spool.maxBytes, segmentBytes: o.spool.segmentBytes });
    spool = opened.spool;
    if (opened.recovery.records > 0 || opened.recovery.tornBytes > 0) {
      log?.info({ 'auditkit.agent.spool.records': opened.recovery.records, torn_bytes: opened.recovery.tornBytes, corrupt: opened.recovery.corrupt }, 'spool recovered from the previous run; resending');
    }
    if (opened.recovery.corrupt > 0) counters.dropped['spool_corrupt'] = opened.recovery.corrupt;
  }
  const sink = o.sink && spool ? new ElasticsearchSink({ ...o.sink, spool, counters, host: o.host, agent: o.agent, ...(log ? { log } : {}) }) : undefined;
  const sinkRun = sink?.run();

  // Each tailer sees only its own input's checkpoints (see FileCheckpoint.input).
  const keyed = o.inputs.map((input) => ({ input, key: inputKey(input.paths), paths: input.paths }));
  const owned = new Map<string, Map<string, FileCheckpoint>>(keyed.map((k) => [k.key, new Map()]));
  const orphans: string[] = [];
  for (const [id, cp] of checkpoints?.all() ?? []) {
    const owner = ownerOf(cp, keyed);
    if (owner === undefined) orphans.push(id);
    else owned.get(owner)?.set(id, cp);
  }
  if (orphans.length > 0 && checkpoints) {
    log?.info({ count: orphans.length }, 'forgetting checkpoints of files no configured input reads any more');
    checkpoints.forget(orphans);
  }

  const inputs: InputRuntime[] = keyed.map(({ input, key }) => ({
    input,
    tailer: new FileTailer({
      paths: input.paths,
      startAt: input.startAt,
      maxLineBytes: input.maxLineBytes,
      rotatedGraceMs: o.rotatedGraceMs,
      oneShot: o.oneShot ?? false,
      // A copy: the tailer must see the checkpoints of the previous run, not the ones this run commits.
      checkpoints: owned.get(key) ?? new Map(),
      input: key,
      ...(log ? { log } : {}),
    }),
    parsers: new Map(),
    fileKinds: new Map(),
  }));

  const parserFor = (rt: InputRuntime, kind: string): { unit: ParserUnit; parser: LineParser } | undefined => {
    let p = rt.parsers.get(kind);
    if (!p) {
      const unit = PARSERS.find((u) => u.kind === kind);
      if (!unit) return undefined;
      const ctx: ParseContext = { host: o.host, agent: o.agent, namespace: rt.input.namespace, now };
      p = { unit, parser: unit.create(ctx) };
      rt.parsers.set(kind, p);
    }
    return p;
  };
  const kindOf = (rt: InputRuntime, fileId: string, file: string): string | null => {
    let k = rt.fileKinds.get(fileId);
    if (k === undefined) {
      k = rt.input.format !== 'auto' ? rt.input.format : (sniffFormat(file)?.kind ?? null);
      rt.fileKinds.set(fileId, k);
      if (k === null) log?.warn({ 'file.path': file }, 'no parser recognises this file (format auto); its lines are dead-lettered');
    }
    return k;
  };

  let dropNotice = false;
  const frames: Buffer[] = [];
  const encodeOutputs = (rt: InputRuntime, outs: readonly ParseOutput[], defaultDataset: Dataset): void => {
    for (const out of outs) {
      if (out.kind === 'event') {
        counters.parsed++;
        const dataset = rt.input.dataset ?? out.dataset;
        let doc: AuditkitEvent = out.doc;
        if (rt.input.dataset && doc.event.dataset !== `auditkit.${dataset}`) {
          doc = { ...doc, event: { ...doc.event, dataset: `auditkit.${dataset}` }, ...(doc.data_stream ? { data_stream: eventEnvelope(dataset, rt.input.namespace).data_stream } : {}) };
        }
        const id = doc.event.id;
        if (o.emit) o.emit(doc);
        else frames.push(encodeFrame(FrameKind.Event, Date.now(), bulkLines(streamName(dataset, rt.input.namespace), id, doc)));
        if (o.detect) {
          let alerts: ReadonlyArray<{ readonly event: { readonly id: string } }> = [];
          try {
            alerts = o.detect(doc);
          } catch (err) {
            counters.detectErrors++;
            if (counters.detectErrors === 1) log?.warn({ err, 'event.id': id }, 'the rules engine failed on an event (shipped anyway; counted as detect_errors)');
          }
          for (const a of alerts) {
            if (o.emit) o.emit(a as Record<string, unknown>);
            else frames.push(encodeFrame(FrameKind.Alert, Date.now(), bulkLines(streamName('alerts', rt.input.namespace), a.event.id, a)));
          }
        }
      } else if (out.kind === 'error') {
        counters.failed++;
        if (!o.emit) frames.push(deadLetterFrame(o, rt.input.namespace, streamName(rt.input.dataset ?? defaultDataset, rt.input.namespace), out.origin, out.code, out.message, out.raw));
        else log?.warn({ 'file.path': out.origin.file, 'auditkit.source.offset': out.origin.offset, 'error.code': out.code, 'error.message': out.message }, 'record not parsed');
      } else {
        counters.lost += out.count;
      }
    }
  };

  let staged = new Map<string, FileCheckpoint>();
  let lastSync = Date.now();
  const commit = async (): Promise<void> => {
    if (spool && o.spool.fsync !== 'never') spool.sync();
    lastSync = Date.now();
    if (checkpoints && staged.size > 0) {
      const snap = staged;
      staged = new Map();
      await checkpoints.commit(snap);
    }
  };

  // Heartbeats go through the spool like events (durable, same ordering).
  let hbSeq = 0;
  let lastHeartbeat = 0;
  const ephemeral = o.agent.ephemeral_id ?? randomUUID();
  const heartbeat = (): void => {
    if (!spool || o.heartbeatIntervalMs <= 0) return;
    lastHeartbeat = Date.now();
    const ts = new Date().toISOString();
    const id = documentId('heartbeat', o.host.id ?? o.host.name, ephemeral, hbSeq++);
    const doc = {
      '@timestamp': ts,
      ...eventEnvelope('agent', o.namespace),
      event: { kind: 'metric', dataset: 'auditkit.agent', id, module: 'auditkit' },
      host: o.host,
      agent: { ...o.agent, ephemeral_id: ephemeral },
      auditkit: {
        agent: {
          uptime_s: Math.floor((Date.now() - startedAt) / 1000),
          received: counters.received,
          parsed: counters.parsed,
          failed: counters.failed,
          sent: counters.sent,
          duplicates: counters.duplicates,
          alerts: counters.alerts,
          deadlettered: counters.deadlettered,
          dropped: totalDropped(counters),
          retries: counters.retries,
          lost: counters.lost,
          lag_ms: spool.oldestUnreadAt ? Date.now() - spool.oldestUnreadAt : 0,
          spool: { bytes: spool.bytes, records: spool.records },
        },
      },
    };
    if (spool.full) {
      counters.dropped['heartbeat_spool_full'] = (counters.dropped['heartbeat_spool_full'] ?? 0) + 1;
      return;
    }
    spool.append([encodeFrame(FrameKind.Heartbeat, Date.now(), bulkLines(streamName('agent', o.namespace), id, doc))]);
  };
  heartbeat();
  log?.info({ inputs: o.inputs.length, 'auditkit.agent.spool.records': spool?.records ?? 0 }, 'pipeline started');

  const signal = o.signal;
  let finishing = false;
  try {
    for (;;) {
      if (signal?.aborted) break;
      let got = 0;
      for (const rt of inputs) {
        const items: TailItem[] = rt.tailer.poll(o.batchRecords, finishing);
        got += items.length;
        const t = now();
        for (const item of items) {
          counters.received++;
          const origin = item.kind === 'record' ? item.record.origin : item.origin;
          const kind = kindOf(rt, origin.fileId, origin.file);
          const p = kind === null ? undefined : parserFor(rt, kind);
          const defaultDataset = p?.unit.dataset ?? rt.input.dataset ?? 'commands';
          if (item.kind === 'oversize') {
            encodeOutputs(rt, [{ kind: 'error', code: 'AK_LINE_TOO_LONG', message: `line of ${item.bytes} bytes is longer than max_line_bytes (${rt.input.maxLineBytes}); its first bytes are kept`, raw: item.head, origin }], defaultDataset);
          } else if (!p) {
            encodeOutputs(rt, [{ kind: 'error', code: 'AK_FORMAT_UNKNOWN', message: `no parser recognises ${origin.file} (format auto); set the input's format`, raw: item.record.text, origin }], defaultDataset);
          } else {
            encodeOutputs(rt, p.parser.push(item.record), p.unit.dataset);
          }
        }
        for (const p of rt.parsers.values()) encodeOutputs(rt, p.parser.flush(t, false), p.unit.dataset);
        if (frames.length > 0) {
          if (spool) {
            if (spool.full && o.spool.whenFull === 'drop_newest') {
              counters.dropped['spool_full'] = (counters.dropped['spool_full'] ?? 0) + frames.length;
              if (!dropNotice) log?.warn({ 'auditkit.agent.spool.bytes': spool.bytes }, 'spool full: dropping new records (when_full: drop_newest), counted as dropped.spool_full');
              dropNotice = true;
            } else {
              if (spool.full) {
                log?.warn({ 'auditkit.agent.spool.bytes': spool.bytes }, 'spool full: sources wait until Elasticsearch accepts what is queued');
                await commit();
                await spool.waitForSpace(signal);
              }
              spool.append(frames);
            }
          }
          frames.length = 0;
        }
        // Staged only now: everything read up to these positions is in the spool.
        for (const [id, cp] of rt.tailer.positions()) {
          let offset = cp.offset;
          for (const p of rt.parsers.values()) {
            const pend = p.parser.pendingOffset(id);
            if (pend !== undefined && pend < offset) offset = pend;
          }
          staged.set(id, offset === cp.offset ? cp : { ...cp, offset });
        }
      }
      if (o.spool.fsync === 'always' || Date.now() - lastSync >= o.spool.fsyncIntervalMs) await commit();
      if (o.heartbeatIntervalMs > 0 && Date.now() - lastHeartbeat >= o.heartbeatIntervalMs) heartbeat();
      o.onProgress?.({ counters, bytesRead: inputs.reduce((n, rt) => n + rt.tailer.bytesRead, 0) });
      if (got === 0) {
        if (o.oneShot || o.once) {
          if (!finishing) {
            finishing = true; // one more pass closing rotated files at their end
            continue;
          }
          // End of input: parsers give up what they hold.
          for (const rt of inputs) for (const p of rt.parsers.values()) encodeOutputs(rt, p.parser.flush(now(), true), p.unit.dataset);
          if (frames.length > 0 && spool) spool.append(frames);
          frames.length = 0;
          for (const rt of inputs) for (const [id, cp] of rt.tailer.positions()) staged.set(id, cp);
          break;
        }
        await pause(o.pollIntervalMs, signal);
      }
    }
    await commit();
    if (sink && (o.oneShot || o.once) && !signal?.aborted) {
      heartbeat();
      await sink.drained(signal);
    }
  } finally {
    if (sink) {
      const grace = o.stopGraceMs ?? 5_000;
      sink.stop(false);
      const timer = setTimeout(() => sink.stop(true), grace);
      await sinkRun;
      clearTimeout(timer);
    }
    await commit().catch(() => undefined);
    spool?.close();
    for (const rt of inputs) rt.tailer.close();
  }
  return {
    counters,
    bytesRead: inputs.reduce((n, rt) => n + rt.tailer.bytesRead, 0),
    spooled: spool?.records ?? 0,
    rotatedMissing: inputs.reduce((n, rt) => n + rt.tailer.rotatedMissing, 0),
  };
}
