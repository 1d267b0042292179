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
}

export function fileIdOf(cp: Pick<FileCheckpoint, 'devIno' | 'fp' | 'gen'>): string {
  return cp.gen > 0 ? `${cp.devIno}:${cp.fp}:g${cp.gen}` : `${cp.devIno}:${cp.fp}`;
}

export class CheckpointStore {
  readonly file: string;
  private committed = new Map<string, FileCheckpoint>();

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

  /** Merge a snapshot (taken when its events were appended) and persist it. */
  async commit(snapshot: ReadonlyMap<string, FileCheckpoint>): Promise<void> {
    let changed = false;
    for (const [id, cp] of snapshot) {
      const old = this.committed.get(id);
      if (cp.done) {
        if (old) {
          this.committed.delete(id);
          changed = true;
        }
        continue;
      }
      if (!old || old.offset !== cp.offset || old.path !== cp.path) {
        this.committed.set(id, cp);
        changed = true;
      }
    }
    if (!changed) return;
    const files: Record<string, FileCheckpoint> = {};
    for (const [id, cp] of this.committed) files[id] = cp;
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, files }, null, 1), 0o600);
  }
}
