/**
 * Source checkpoints: for every file identity, the byte offset up to which its
 * events are durably in the spool.
 *
 * INVARIANT: `commit()` is called only after `Spool.sync()` covered every frame
 * produced from bytes before the offsets being committed (the pipeline stages a
 * snapshot when it appends, and commits the snapshot after the fsync). The file
 * is replaced atomically (temp file, fsync, rename), so a crash leaves either the
 * old or the new checkpoints, never a mix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core';

export interface FileCheckpoint {
  readonly path: string;
  /** `<dev>:<ino>` */
  readonly devIno: string;
  /** Fingerprint of the file's first line (or first bytes). */
  readonly fp: string;
  /** Truncation generation (copytruncate of the same inode bumps it). */
  readonly gen: number;
  readonly offset: number;
  /** A rotated file drained to its end: forgotten once committed. */
  readonly done?: boolean;
  /**
   * The input that read this file (`inputKey`). Each input's tailer is given only
   * its own checkpoints: a tailer handed another input's checkpoint would take the
   * file for one rotated away, read it with the wrong parser and mark it done.
   */
  readonly input?: string;
}

/** A stable name for an input: its path patterns, sorted. */
export function inputKey(paths: readonly string[]): string {
  return [...paths].sort().join('\n');
}

/** A path glob (`*`, `?`, `[...]` within one path component) as a regular expression. */
export function globRe(pattern: string): RegExp {
  return new RegExp('^' + pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
}

/**
 * Which input a checkpoint belongs to. Tagged checkpoints name it; untagged ones
 * (state written before inputs were tagged) go to the input one of whose patterns
 * matches the file's path, or the path of a rotated sibling (`<pattern>.1`,
 * `<pattern>-20240101`, ...). undefined: no configured input reads this file.
 */
export function ownerOf(cp: FileCheckpoint, inputs: ReadonlyArray<{ readonly key: string; readonly paths: readonly string[] }>): string | undefined {
  if (cp.input !== undefined) return inputs.some((i) => i.key === cp.input) ? cp.input : undefined;
  for (const i of inputs) if (i.paths.some((p) => globRe(p).test(cp.path))) return i.key;
  for (const i of inputs) {
    if (i.paths.some((p) => path.dirname(p) === path.dirname(cp.path) && globRe(path.basename(p) + '*').test(path.basename(cp.path)))) return i.key;
  }
  return undefined;
}

export function fileIdOf(cp: Pick<FileCheckpoint, 'devIno' | 'fp' | 'gen'>): string {
  return cp.gen > 0 ? `${cp.devIno}:${cp.fp}:g${cp.gen}` : `${cp.devIno}:${cp.fp}`;
}

export class CheckpointStore {
  readonly file: string;
  private committed = new Map<string, FileCheckpoint>();
  private dirty = false;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'checkpoints.json');
    try {
      const raw = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { files?: Record<string, FileCheckpoint> };
      for (const [id, cp] of Object.entries(raw.files ?? {})) this.committed.set(id, cp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // A damaged checkpoint file: start over rather than refuse to run; the
        // deterministic ids turn the re-read into 409s. Keep the damaged copy.
        try {
          fs.renameSync(this.file, `${this.file}.damaged-${Date.now()}`);
        } catch {
          /* ignore */
        }
      }
    }
  }

  all(): ReadonlyMap<string, FileCheckpoint> {
    return this.committed;
  }

  get(fileId: string): FileCheckpoint | undefined {
    return this.committed.get(fileId);
  }

  /** Drop checkpoints no input owns any more (persisted with the next commit that changes something). */
  forget(ids: Iterable<string>): number {
    let n = 0;
    for (const id of ids) if (this.committed.delete(id)) n++;
    if (n > 0) this.dirty = true;
    return n;
  }

  /** Merge a snapshot (taken when its events were appended) and persist it. */
  async commit(snapshot: ReadonlyMap<string, FileCheckpoint>): Promise<void> {
    let changed = this.dirty;
    for (const [id, cp] of snapshot) {
      const old = this.committed.get(id);
      if (cp.done) {
        if (old) {
          this.committed.delete(id);
          changed = true;
        }
        continue;
      }
      if (!old || old.offset !== cp.offset || old.path !== cp.path || old.input !== cp.input) {
        this.committed.set(id, cp);
        changed = true;
      }
    }
    if (!changed) return;
    const files: Record<string, FileCheckpoint> = {};
    for (const [id, cp] of this.committed) files[id] = cp;
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, files }, null, 1), 0o600);
    this.dirty = false;
  }
}
