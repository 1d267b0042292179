/**
 * Assembles audit records into events by `audit(time:serial)` (and node).
 *
 * Invariants:
 * - Records of one event may arrive interleaved with, and out of order against,
 *   other events. An event is finished by EOE, by PROCTITLE (the kernel writes it
 *   last), by a single-record (user-space) type, by a timeout (wall clock since
 *   its first record, or event time behind the newest record seen), by the
 *   in-flight cap (oldest first) or by the per-event record cap.
 * - A record that arrives for an event already finished is counted as an error
 *   `AUDITD_LATE_RECORD` (EOE after PROCTITLE is expected and silently ignored).
 * - Serial gaps are counted as `lost` once the missing serial has not shown up
 *   within the reorder window; a backwards jump (reboot, u32 rollover) or a jump
 *   larger than `maxGap` restarts the counter without counting a loss.
 * - `pendingOffset(fileId)` is the lowest offset of any buffered record of that
 *   file, so a checkpoint never passes a record that is not an event yet.
 */
import type { LineParser, ParseContext, ParseOutput, RawRecord, RecordOrigin } from '../types';
import { isSingleRecordType } from './mappings';
import { normalizeEvent, typeNumber, type NormalizeOptions } from './normalize';
import { parseRecord, type AuditRecord } from './record';
import { fileResolver, type IdResolver } from './users';

export interface AssemblerOptions {
  /** Events buffered at most; beyond this the oldest is finished as is. */
  readonly maxInFlight: number;
  /** Finish an event this long after its first record (wall clock) or when the newest record is this far ahead (event time). */
  readonly timeoutMs: number;
  /** Records kept per event; more are dropped and counted (AUDITD_EVENT_TOO_LARGE). */
  readonly maxRecordsPerEvent: number;
  readonly maxArgsBytes: number;
  readonly maxArgs: number;
  /** Serial jumps above this are a discontinuity (other boot, rotated-in log), not a loss. */
  readonly maxGap: number;
  /** Lines longer than this are refused (AUDITD_LINE_TOO_LONG). The kernel's limit is ~8 KiB per record. */
  readonly maxLineBytes: number;
  readonly resolver?: IdResolver;
  readonly keepOriginal: boolean;
}

export const DEFAULT_ASSEMBLER_OPTIONS: AssemblerOptions = {
  maxInFlight: 8192,
  timeoutMs: 2000,
  maxRecordsPerEvent: 2048,
  maxArgsBytes: 128 * 1024,
  maxArgs: 8192,
  maxGap: 100_000,
  maxLineBytes: 256 * 1024,
  keepOriginal: false,
};

interface Pending {
  readonly key: string;
  readonly records: AuditRecord[];
  readonly lines: string[] | undefined;
  readonly origins: RecordOrigin[];
  readonly firstSeen: number;
  readonly ms: number;
  /** Push counter when the last record was added (event-time expiry needs some later records too). */
  lastPush: number;
  dropped: number;
}

interface NodeSerials {
  max: number;
  /** missing serial -> [event-time ms, push counter] when the gap was seen */
  missing: Map<number, [number, number]>;
}

const DONE_KEYS_KEPT = 4096;
/**
 * Event-time expiry (needed for file replays, where the wall clock hardly moves) also
 * waits for this many later records, so a record written a little out of order
 * (go-libaudit out_of_order.log) still finds its event.
 */
const REORDER_RECORDS = 64;
/** Serial gaps up to this size are tracked one by one (they may still arrive out of order); larger ones count as lost at once. */
const REORDER_SERIALS = 1024;
const LOST_REASON = 'auditd serial gap: events missing from the log (kernel backlog overflow, rate limit or filtered stream)';

export class AuditAssembler implements LineParser {
  private readonly pending = new Map<string, Pending>();
  private readonly done = new Set<string>();
  /** The keys in `done`, oldest first, as a ring (cheaper than a Set iterator per finished event). */
  private readonly doneRing: string[] = [];
  private doneAt = 0;
  private readonly serials = new Map<string, NodeSerials>();
  private latestMs = 0;
  private pushes = 0;
  private readonly opts: AssemblerOptions;
  private readonly norm: NormalizeOptions;

  constructor(
    private readonly ctx: ParseContext,
    opts: Partial<AssemblerOptions> = {},
  ) {
    this.opts = { ...DEFAULT_ASSEMBLER_OPTIONS, ...opts };
    this.norm = {
      maxArgsBytes: this.opts.maxArgsBytes,
      maxArgs: this.opts.maxArgs,
      resolver: this.opts.resolver ?? fileResolver(),
      keepOriginal: this.opts.keepOriginal,
    };
  }

  push(raw: RawRecord): ParseOutput[] {
    const out: ParseOutput[] = [];
    const text = raw.text;
    if (text.length === 0 || (text.length < 200 && text.trim().length === 0)) return out;
    if (text.length > this.opts.maxLineBytes) {
      out.push(this.error('AUDITD_LINE_TOO_LONG', `expected an audit record of at most ${this.opts.maxLineBytes} bytes, got ${text.length}; the line was skipped`, text, raw.origin));
      return out;
    }
    const p = parseRecord(text);
    if (!p.ok) {
      out.push(this.error(p.code, `${p.message}; the line was skipped`, text, raw.origin));
      return out;
    }
    const rec = p.record;
    this.pushes++;
    const key = `${rec.node ?? ''}|${rec.time}:${rec.serial}`;
    if (rec.ms > this.latestMs) this.latestMs = rec.ms;
    let ev = this.pending.get(key);
    if (ev === undefined) {
      if (this.done.has(key)) {
        if (rec.type !== 'EOE') out.push(this.error('AUDITD_LATE_RECORD', `record ${rec.type} of audit(${rec.time}:${rec.serial}) arrived after its event was finished; it was not merged`, text, raw.origin));
        return out;
      }
      if (rec.type === 'EOE') return out; // EOE of an event never seen (e.g. only EOE survived): nothing to emit
      this.trackSerial(rec, out);
      ev = { key, records: [], lines: this.opts.keepOriginal ? [] : undefined, origins: [], firstSeen: this.ctx.now(), ms: rec.ms, lastPush: this.pushes, dropped: 0 };
      this.pending.set(key, ev);
    }
    if (rec.type === 'EOE') {
      this.finish(ev, out);
    } else {
      if (ev.records.length >= this.opts.maxRecordsPerEvent) {
        ev.dropped++;
        if (ev.dropped === 1) out.push(this.error('AUDITD_EVENT_TOO_LARGE', `audit(${rec.time}:${rec.serial}) has more than ${this.opts.maxRecordsPerEvent} records; the rest were dropped`, text, raw.origin));
      } else {
        ev.records.push(rec);
        ev.lastPush = this.pushes;
        ev.lines?.push(text);
        ev.origins.push(raw.origin);
      }
      // PROCTITLE is the kernel's last record before EOE, but only trust it when the SYSCALL is
      // already here: with reordered input (laurel shell-proc-trace-reordered) it can come first.
      if (isSingleRecordType(rec.type, typeNumber(rec.type)) || (rec.type === 'PROCTITLE' && ev.records.some((r) => r.type === 'SYSCALL'))) this.finish(ev, out);
    }
    this.expire(out, this.ctx.now(), false);
    return out;
  }

  flush(now: number, final = false): ParseOutput[] {
    const out: ParseOutput[] = [];
    this.expire(out, now, final);
    return out;
  }

  pendingOffset(fileId: string): number | undefined {
    let min: number | undefined;
    for (const ev of this.pending.values()) {
      for (const o of ev.origins) if (o.fileId === fileId && (min === undefined || o.offset < min)) min = o.offset;
    }
    return min;
  }

  /** Events buffered now (for tests and heartbeats). */
  get inFlight(): number {
    return this.pending.size;
  }

  private error(code: string, message: string, raw: string, origin: RecordOrigin): ParseOutput {
    const where = `${origin.file}${origin.line !== undefined ? `:${origin.line}` : ''} (offset ${origin.offset})`;
    return { kind: 'error', code, message: `${where}: ${message}`, raw: raw.length > 4096 ? raw.slice(0, 4096) + '…' : raw, origin };
  }

  private trackSerial(rec: AuditRecord, out: ParseOutput[]): void {
    const nodeKey = rec.node ?? '';
    let st = this.serials.get(nodeKey);
    if (st === undefined) {
      st = { max: rec.serial, missing: new Map() };
      this.serials.set(nodeKey, st);
      return;
    }
    const s = rec.serial;
    if (s > st.max) {
      const gap = s - st.max - 1;
      if (gap > this.opts.maxGap) {
        // discontinuity: another boot or a log spliced in; not a measurable loss
        this.expireMissing(st, out, true);
      } else if (gap > REORDER_SERIALS) {
        // far more than any reordering: lost now (tracking each serial would cost O(gap))
        out.push({ kind: 'lost', count: gap, reason: LOST_REASON });
      } else {
        for (let m = st.max + 1; m < s; m++) st.missing.set(m, [rec.ms, this.pushes]);
      }
      st.max = s;
    } else if (st.missing.delete(s)) {
      // an out-of-order serial filled its gap
    } else if (st.max - s > this.opts.maxGap) {
      // Serial went backwards a lot. Near the u32 limit it is a rollover (the serials skipped
      // across the wrap are lost); otherwise a reboot or another log: restart from here.
      this.expireMissing(st, out, true);
      const U32 = 4294967296;
      const skipped = U32 - 1 - st.max + s;
      if (st.max > U32 - 1 - this.opts.maxGap && s < this.opts.maxGap && skipped > 0 && skipped <= this.opts.maxGap) {
        out.push({ kind: 'lost', count: skipped, reason: LOST_REASON });
      }
      st.max = s;
    }
  }

  private expireMissing(st: NodeSerials, out: ParseOutput[], all: boolean): void {
    if (st.missing.size === 0) return;
    let lost = 0;
    const horizon = this.latestMs - this.opts.timeoutMs;
    // insertion order is (nearly) event-time order: stop at the first one still inside the window
    for (const [serial, [seenMs, seenPush]] of st.missing) {
      if (!all && (seenMs >= horizon || this.pushes - seenPush < REORDER_RECORDS)) break;
      st.missing.delete(serial);
      lost++;
    }
    if (lost > 0) out.push({ kind: 'lost', count: lost, reason: LOST_REASON });
  }

  private expire(out: ParseOutput[], now: number, final: boolean): void {
    if (this.pending.size > 0) {
      const wallHorizon = now - this.opts.timeoutMs;
      const timeHorizon = this.latestMs - this.opts.timeoutMs;
      // Map iteration is insertion order: the head is (close to) the oldest event
      for (const ev of this.pending.values()) {
        if (final || this.pending.size > this.opts.maxInFlight || ev.firstSeen <= wallHorizon || (ev.ms < timeHorizon && this.pushes - ev.lastPush >= REORDER_RECORDS)) this.finish(ev, out);
        else break;
      }
      if (final) for (const ev of [...this.pending.values()]) this.finish(ev, out);
    }
    for (const st of this.serials.values()) this.expireMissing(st, out, final);
  }

  private finish(ev: Pending, out: ParseOutput[]): void {
    this.pending.delete(ev.key);
    // keys are unique here (a key in `done` never becomes pending again), so the ring and the set agree
    this.done.add(ev.key);
    if (this.doneRing.length < DONE_KEYS_KEPT) this.doneRing.push(ev.key);
    else {
      this.done.delete(this.doneRing[this.doneAt] as string);
      this.doneRing[this.doneAt] = ev.key;
      this.doneAt = (this.doneAt + 1) % DONE_KEYS_KEPT;
    }
    if (ev.records.length === 0) return;
    try {
      const doc = normalizeEvent(
        { records: ev.records, lines: ev.lines, origin: ev.origins[0], host: this.ctx.host, agent: this.ctx.agent, namespace: this.ctx.namespace },
        this.norm,
      );
      out.push({ kind: 'event', dataset: 'auditd', doc });
    } catch (err) {
      // A bug in the normaliser must not stop the stream: count it with the event's first line.
      const origin = ev.origins[0] as RecordOrigin;
      out.push(this.error('AUDITD_NORMALIZE_FAILED', `could not normalise audit event ${ev.key}: ${(err as Error).message}`, ev.lines?.[0] ?? ev.key, origin));
    }
  }
}
