/**
 * The collector pipeline shared by every input format, as stages:
 *
 *   sources (sources.ts: tailers, checkpoints, parser per file)
 *     → parse and normalise (parse.ts: the parser units)
 *     → route and encode once (encode.ts: bulk lines; streaming detection; dead letters)
 *     → spool (write-ahead.ts over spool.ts: backpressure, sync, THEN checkpoint)
 *     → sink (sink.ts: Elasticsearch bulk, retries, dead letters, acknowledgements)
 *
 * This file wires them and runs the loop: poll every source, push what it read
 * through the stages, stage its positions, commit on the fsync interval, beat,
 * and on stop or end of input drain and shut down. The dead-letter and heartbeat
 * documents are built in documents.ts.
 *
 * INVARIANTS (each written where it is kept):
 *  - A source's checkpoint advances only after its events are durably spooled
 *    (write-ahead.ts); the loop stages a source's positions only after appending
 *    the frames of what it read.
 *  - A spool segment is deleted only after Elasticsearch accepted, or accepted the
 *    dead letter of, every record in it (spool.ts, sink.ts).
 *  - A bad record never stops the stream: parse errors and over-long lines become
 *    dead-letter documents (stage parse, with the original) in the same spool.
 *  - Nothing is dropped unless `spool.when_full: drop_newest` says so (counted).
 *  - Replays (after a crash the spool resends its segments, the sources re-read
 *    from their checkpoints) are harmless: `_id` = event.id, op_type create.
 */
import { randomUUID } from 'node:crypto';
import { sleep as pause, type Logger } from '../../core';
import { streamName, type AgentFields, type AuditkitEvent, type HostFields } from '../../schema';
import { CheckpointStore } from './checkpoints';
import { newCounters, type Counters } from './counters';
import { heartbeatDoc } from './documents';
import { Encoder } from './encode';
import { flushParsers, parseItem } from './parse';
import { bulkLines } from '../../elastic';
import { ElasticsearchSink, type SinkSettings } from './sink';
import { openSources, type InputSource, type PipelineInput } from './sources';
import { encodeFrame, FrameKind, Spool, type FsyncPolicy } from './spool';
import { WriteAhead } from './write-ahead';

export { sniffFormat, type PipelineInput } from './sources';

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
  /**
   * Rewrites each event before it is encoded and detected (collectors/auditd/bastion-join.ts); must
   * not throw, and returns a new object when it changes one (never edits it in place: an event it
   * returns as it came is shipped as the parser serialised it, ParseOutput.json).
   */
  readonly enrich?: (doc: AuditkitEvent) => AuditkitEvent;
  /**
   * Counts of entries the state memories (the bastion join's map, the hook parser's login
   * memory) forgot for lack of room since start, carried by each heartbeat under
   * `auditkit.agent.evicted.<key>` (every key declared in schema/kit-fields.ts).
   */
  readonly evicted?: () => Readonly<Record<string, number>>;
  /** Parser state shared by inputs and kept across runs (ParseContext.shared: the hook parser's login memory). */
  readonly parserShared?: ReadonlyMap<string, unknown>;
  /**
   * Called after each checkpoint commit (and the last one at stop), when everything read up
   * to the committed positions has been through `enrich`: the seam where state learnt from
   * events is saved (the bastion join's map). Its failure is logged and counted, never thrown.
   */
  readonly onCommit?: () => Promise<void>;
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
  /** What the state memories forgot for lack of room (PipelineOptions.evicted), at exit. */
  readonly evicted?: Readonly<Record<string, number>>;
}

/** Open the spool of a run with a cluster; what a previous run left in it is sent first. */
function openSpool(o: PipelineOptions, counters: Counters): Spool {
  const opened = Spool.open({ dir: `${o.stateDir}/spool`, maxBytes: o.spool.maxBytes, segmentBytes: o.spool.segmentBytes, durable: o.spool.fsync !== 'never' });
  if (opened.recovery.records > 0 || opened.recovery.tornBytes > 0) {
    o.log?.info({ 'auditkit.agent.spool.records': opened.recovery.records, torn_bytes: opened.recovery.tornBytes, corrupt: opened.recovery.corrupt }, 'spool recovered from the previous run; resending');
  }
  if (opened.recovery.corrupt > 0) counters.dropped['spool_corrupt'] = opened.recovery.corrupt;
  return opened.spool;
}

/** Records parsed between two turns of the event loop (the sink's I/O runs in between). */
const YIELD_EVERY = 500;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function bytesRead(sources: readonly InputSource[]): number {
  return sources.reduce((n, s) => n + s.tailer.bytesRead, 0);
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const counters = newCounters();
  const log = o.log;
  const now = o.now ?? Date.now;
  const startedAt = Date.now();
  const checkpoints = o.oneShot ? undefined : new CheckpointStore(o.stateDir);
  const spool = o.sink ? openSpool(o, counters) : undefined;
  const sink = o.sink && spool ? new ElasticsearchSink({ ...o.sink, spool, counters, host: o.host, agent: o.agent, ...(log ? { log } : {}) }) : undefined;
  const sinkRun = sink?.run();

  const sources = openSources(o.inputs, checkpoints, { rotatedGraceMs: o.rotatedGraceMs, oneShot: o.oneShot ?? false, parseContext: { host: o.host, agent: o.agent, now, ...(o.parserShared ? { shared: o.parserShared } : {}) }, ...(log ? { log } : {}) });
  const encoder = new Encoder({ counters, host: o.host, agent: o.agent, emit: o.emit, detect: o.detect, enrich: o.enrich, log });
  const wal = new WriteAhead(spool, checkpoints, o.spool, counters, log, o.onCommit);

  // Heartbeats go through the spool like events (durable, same ordering).
  let hbSeq = 0;
  let lastHeartbeat = 0;
  const agent = { ...o.agent, ephemeral_id: o.agent.ephemeral_id ?? randomUUID() };
  const heartbeat = (): void => {
    if (!spool || o.heartbeatIntervalMs <= 0) return;
    lastHeartbeat = Date.now();
    const doc = heartbeatDoc({ namespace: o.namespace, host: o.host, agent, seq: hbSeq++, startedAt, counters, spool, ...(o.evicted ? { evicted: o.evicted() } : {}) });
    if (spool.full) {
      counters.dropped['heartbeat_spool_full'] = (counters.dropped['heartbeat_spool_full'] ?? 0) + 1;
      return;
    }
    spool.append([encodeFrame(FrameKind.Heartbeat, Date.now(), bulkLines(streamName('agent', o.namespace), doc.event.id, doc))]);
  };
  heartbeat();
  log?.info({ inputs: o.inputs.length, 'auditkit.agent.spool.records': spool?.records ?? 0 }, 'pipeline started');

  const signal = o.signal;
  let finishing = false;
  try {
    for (;;) {
      if (signal?.aborted) break;
      let got = 0;
      for (const src of sources) {
        const items = src.tailer.poll(o.batchRecords, finishing);
        got += items.length;
        const t = now();
        for (let i = 0; i < items.length; i += YIELD_EVERY) {
          const end = Math.min(items.length, i + YIELD_EVERY);
          for (let j = i; j < end; j++) parseItem(src, items[j] as (typeof items)[number], counters, encoder.next);
          if (end < items.length) {
            // Let the sink run: without a turn of the event loop its requests are neither
            // sent nor answered while a big batch is parsed and encoded (reading, encoding
            // and sending would not overlap). Nothing is staged until the whole batch is in.
            await wal.append(encoder.take(), signal);
            await yieldToLoop();
          }
        }
        flushParsers(src, t, false, encoder.next);
        await wal.append(encoder.take(), signal);
        // Staged only now: everything read up to these positions is in the spool.
        wal.stage(src.safePositions());
      }
      if (wal.commitDue) await wal.commit();
      if (o.heartbeatIntervalMs > 0 && Date.now() - lastHeartbeat >= o.heartbeatIntervalMs) heartbeat();
      o.onProgress?.({ counters, bytesRead: bytesRead(sources) });
      if (got === 0) {
        if (o.oneShot || o.once) {
          if (!finishing) {
            finishing = true; // one more pass closing rotated files at their end
            continue;
          }
          // End of input: parsers give up what they hold.
          for (const src of sources) flushParsers(src, now(), true, encoder.next);
          wal.appendFinal(encoder.take());
          for (const src of sources) wal.stage(src.tailer.positions());
          break;
        }
        await pause(o.pollIntervalMs, signal);
      }
    }
    await wal.commit();
    if (sink && (o.oneShot || o.once) && !signal?.aborted) {
      heartbeat();
      sink.flushAll();
      await sink.drained(signal);
    }
  } finally {
    if (sink) {
      // Stop: in-flight requests get `stopGraceMs`, then their retries are abandoned
      // (their records stay in the spool for the next start).
      const grace = o.stopGraceMs ?? 5_000;
      sink.stop(false);
      const timer = setTimeout(() => sink.stop(true), grace);
      await sinkRun;
      clearTimeout(timer);
    }
    await wal.commit().catch(() => undefined);
    spool?.close();
    for (const src of sources) src.tailer.close();
  }
  return {
    counters,
    bytesRead: bytesRead(sources),
    spooled: spool?.records ?? 0,
    rotatedMissing: sources.reduce((n, s) => n + s.tailer.rotatedMissing, 0),
    ...(o.evicted ? { evicted: { ...o.evicted() } } : {}),
  };
}
