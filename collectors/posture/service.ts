/**
 * One posture pass (FIM, inventory, baseline checks) and the long-running service
 * the collector agent runs on an interval, with real-time FIM in between.
 *
 * INVARIANT (every module): documents are emitted (durable) before the state that
 * no longer shows their change is saved; ids are deterministic, so a crash between
 * the two re-emits the same documents and Elasticsearch keeps one of each.
 */
import * as fs from 'node:fs';
import type { Logger } from '../../core';
import { parserByKind } from '../parsers';
import type { PostureContext } from './context';
import type { PostureConfig } from './config';
import { baselineDocs, loadPostureState, savePostureState, type BaselineRunner } from './baseline';
import { runBaseline as builtinBaseline } from './checks';
import { FimMonitor, type FimChange } from './fim';
import { WriterIndex } from './fim-who';
import { collectInventory, loadInventoryState, saveInventoryState } from './inventory';

export interface PassSummary {
  readonly fim: { readonly changes: number; readonly files: number; readonly joined: number; readonly truncated: number } | undefined;
  readonly inventory: Readonly<Record<string, number>> | undefined;
  readonly posture: { readonly score: number; readonly checks: number; readonly failed: number; readonly regressions: readonly string[] } | undefined;
  readonly documents: number;
}

export interface PostureServiceOptions {
  readonly ctx: PostureContext;
  readonly config: PostureConfig;
  /** Resolves when the document is durable (journal fsync, or collected by `posture scan`). */
  readonly emit: (doc: Record<string, unknown>) => Promise<void>;
  readonly who?: WriterIndex | undefined;
  readonly runBaseline?: BaselineRunner;
  readonly whoWaitMs?: number;
}

export class PostureService {
  readonly fim: FimMonitor | undefined;
  private lastFull = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private emitted = 0;
  private closed = false;

  constructor(private readonly o: PostureServiceOptions) {
    fs.mkdirSync(o.ctx.stateDir, { recursive: true, mode: 0o700 });
    this.fim = o.config.fim.enabled
      ? new FimMonitor({
          ctx: o.ctx,
          config: o.config.fim,
          who: o.who,
          ...(o.whoWaitMs !== undefined ? { whoWaitMs: o.whoWaitMs } : {}),
          emit: (d) => this.emit(d),
        })
      : undefined;
  }

  private async emit(d: Record<string, unknown>): Promise<void> {
    this.emitted++;
    await this.o.emit(d);
  }

  private get log(): Logger | undefined {
    return this.o.ctx.log;
  }

  /**
   * One pass. `full`: the FIM full scan too (at start, and every scan_interval_s);
   * else only the real-time set is rehashed. `detectedBy` of the FIM part.
   */
  async pass(opts: { full: boolean; start?: boolean }): Promise<PassSummary> {
    const before = this.emitted;
    let fim: PassSummary['fim'];
    if (this.fim) {
      const s0 = { ...this.fim.stats };
      let changes: FimChange[];
      if (opts.full) {
        changes = await this.fim.scanAll(opts.start ? 'start' : 'scan');
        this.lastFull = this.o.ctx.now();
      } else changes = await this.fim.scanCritical('scan');
      fim = { changes: changes.length, files: this.fim.stats.files - s0.files, joined: this.fim.stats.joined - s0.joined, truncated: this.fim.stats.truncated - s0.truncated };
    }
    let inventory: PassSummary['inventory'];
    if (this.o.config.inventory.enabled) {
      const prev = loadInventoryState(this.o.ctx.stateDir);
      const r = collectInventory(this.o.ctx, this.o.config.inventory, this.o.config.exposure, prev);
      for (const d of r.docs) await this.emit(d);
      await saveInventoryState(this.o.ctx.stateDir, r.state);
      inventory = r.counts;
    }
    let posture: PassSummary['posture'];
    if (this.o.config.baseline.enabled) {
      const run = this.o.runBaseline ?? builtinBaseline;
      const report = await run({ root: this.o.ctx.root, ...(this.o.config.baseline.policies.length > 0 ? { policies: this.o.config.baseline.policies } : {}) });
      const b = baselineDocs(this.o.ctx, report, loadPostureState(this.o.ctx.stateDir));
      for (const d of b.docs) await this.emit(d);
      await savePostureState(this.o.ctx.stateDir, b.state);
      posture = { score: b.score, checks: report.results.length, failed: report.results.filter((r) => r.status === 'fail').length, regressions: b.regressions };
    }
    return { fim, inventory, posture, documents: this.emitted - before };
  }

  /**
   * Run as the collector does: a start pass (FIM full scan reports what changed while
   * the collector was down), real-time FIM, then a pass every interval_s (full FIM
   * scan when scan_interval_s is due). Errors of a pass are logged; the next pass runs.
   */
  start(): Promise<PassSummary | undefined> {
    const first = this.guard(() => this.pass({ full: true, start: true }));
    this.running = first;
    void first.then(() => {
      if (this.closed) return;
      this.fim?.startWatching((err) => this.log?.error({ err }, 'FIM real-time check failed'));
      this.schedule();
    });
    return first;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      const full = this.o.ctx.now() - this.lastFull >= this.o.config.fim.scan_interval_s * 1000;
      this.running = this.guard(() => this.pass({ full })).then(() => {
        this.fim?.watching?.refresh();
        this.schedule();
      });
    }, this.o.config.interval_s * 1000);
    this.timer.unref?.();
  }

  private async guard(fn: () => Promise<PassSummary>): Promise<PassSummary | undefined> {
    try {
      const s = await fn();
      this.log?.info({ 'auditkit.posture.score': s.posture?.score, documents: s.documents, fim_changes: s.fim?.changes, fim_files: s.fim?.files }, 'posture pass done');
      return s;
    } catch (err) {
      this.log?.error({ err }, 'posture pass failed; the next one runs at its time');
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    await this.fim?.close();
    this.o.who?.close();
  }
}

/**
 * Fill a writer index from the last `maxBytes` of audit logs (what `posture scan`
 * has instead of the collector's live tap), through the collector's own auditd parser.
 */
export function seedWriterIndex(who: WriterIndex, files: readonly string[], ctx: Pick<PostureContext, 'host' | 'agent' | 'namespace'>, maxBytes = 16 * 1024 * 1024): number {
  const unit = parserByKind('auditd');
  if (!unit) return 0;
  let fed = 0;
  for (const file of files) {
    let text: string;
    try {
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile()) continue;
        const start = Math.max(0, st.size - maxBytes);
        const buf = Buffer.alloc(st.size - start);
        const n = fs.readSync(fd, buf, 0, buf.length, start);
        text = buf.toString('utf8', 0, n);
        if (start > 0) text = text.slice(text.indexOf('\n') + 1);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      continue;
    }
    const parser = unit.create({ host: ctx.host, agent: ctx.agent, namespace: ctx.namespace, now: Date.now });
    let off = 0;
    for (const line of text.split('\n')) {
      for (const o of parser.push({ text: line, origin: { file, fileId: file, offset: off, end: off + line.length + 1 } })) if (o.kind === 'event') who.observe(o.doc);
      off += line.length + 1;
    }
    for (const o of parser.flush(Date.now(), true)) if (o.kind === 'event') who.observe(o.doc);
    fed++;
  }
  return fed;
}
