/**
 * Stage 4, spool: encoded frames go into the disk spool, and the sources'
 * checkpoints follow them there, never ahead.
 *
 * INVARIANTS (spool.ts and sink.ts hold the other halves):
 *  - Write-ahead: a source checkpoint advances only after the events read up to it
 *    are durably spooled. Positions are staged (`stage`) only after the frames of
 *    the events read up to them were appended, and `commit` writes them to the
 *    checkpoint file only after `spool.sync()` returned. A parser's buffered records
 *    hold a position back (InputSource.safePositions), so a crash never skips a line
 *    that had not become an event yet.
 *  - Nothing is dropped unless `spool.when_full: drop_newest` says so; then it is
 *    counted under `dropped.spool_full`. Otherwise a full spool is backpressure:
 *    the sources wait (their data stays in their files) until the sink made room,
 *    and what was staged so far is committed first, so the wait holds nothing back.
 */
import type { Logger } from '../../core';
import type { CheckpointStore, FileCheckpoint } from './checkpoints';
import type { Counters } from './counters';
import type { FsyncPolicy, Spool } from './spool';

export interface SpoolPolicy {
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly whenFull: 'block' | 'drop_newest';
}

export class WriteAhead {
  /** Positions whose events are in the spool, not yet committed. */
  private staged = new Map<string, FileCheckpoint>();
  private lastSync = Date.now();
  private dropNotice = false;
  private onCommitFailing = false;

  constructor(
    /** Absent without a cluster (`emit`): frames are not kept. */
    private readonly spool: Spool | undefined,
    /** Absent for one-shot reads (ingest): no checkpoints kept. */
    private readonly checkpoints: CheckpointStore | undefined,
    private readonly policy: SpoolPolicy,
    private readonly counters: Counters,
    private readonly log: Logger | undefined,
    /** Called after each commit (PipelineOptions.onCommit); its failure is logged, never thrown. */
    private readonly onCommit?: () => Promise<void>,
  ) {}

  /** Append frames, waiting while the spool is full (or dropping them, counted, under drop_newest). */
  async append(frames: readonly Buffer[], signal: AbortSignal | undefined): Promise<void> {
    const spool = this.spool;
    if (frames.length === 0 || !spool) return;
    if (spool.full && this.policy.whenFull === 'drop_newest') {
      this.counters.dropped['spool_full'] = (this.counters.dropped['spool_full'] ?? 0) + frames.length;
      if (!this.dropNotice) this.log?.warn({ 'auditkit.agent.spool.bytes': spool.bytes }, 'spool full: dropping new records (when_full: drop_newest), counted as dropped.spool_full');
      this.dropNotice = true;
      return;
    }
    if (spool.full) {
      this.log?.warn({ 'auditkit.agent.spool.bytes': spool.bytes }, 'spool full: sources wait until Elasticsearch accepts what is queued');
      await this.commit();
      await spool.waitForSpace(signal);
    }
    spool.append(frames);
  }

  /**
   * Append the last frames at the end of the input (ingest, collect --once) without
   * waiting for room: the run is about to drain the spool and exit.
   */
  appendFinal(frames: readonly Buffer[]): void {
    if (frames.length > 0 && this.spool) this.spool.append(frames);
  }

  /** Stage positions whose events were appended: the next `commit` makes them the checkpoints. */
  stage(positions: Iterable<[string, FileCheckpoint]>): void {
    for (const [id, cp] of positions) this.staged.set(id, cp);
  }

  /** fsync: always, or when the interval since the last sync has passed. */
  get commitDue(): boolean {
    return this.policy.fsync === 'always' || Date.now() - this.lastSync >= this.policy.fsyncIntervalMs;
  }

  /** Sync the spool, THEN commit the staged positions. */
  async commit(): Promise<void> {
    if (this.spool && this.policy.fsync !== 'never') this.spool.sync();
    this.lastSync = Date.now();
    if (this.checkpoints && this.staged.size > 0) {
      const snap = this.staged;
      this.staged = new Map();
      await this.checkpoints.commit(snap);
    }
    if (this.onCommit) {
      try {
        await this.onCommit();
        this.onCommitFailing = false;
      } catch (err) {
        // Logged once per failing streak: it is retried at every commit (each 250 ms by default).
        if (!this.onCommitFailing) this.log?.error({ err }, 'saving state at the checkpoint commit failed; retried at each commit');
        this.onCommitFailing = true;
      }
    }
  }
}
