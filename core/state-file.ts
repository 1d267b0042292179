/**
 * State a collector learns from events and keeps across restarts (the bastion join's map,
 * the hook parser's login memory): one JSON snapshot per owner in the root-only state
 * directory, replaced atomically (mode 600) when it changed, at most every
 * `minIntervalMs` unless forced (the agent forces the last save at stop), and read at
 * start. A snapshot that cannot be read is renamed `<file>.damaged-<ms>` and the owner
 * starts empty.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from './fsutil';

/**
 * This boot of the host (/proc/sys/kernel/random/boot_id), or undefined where it cannot be
 * read. Snapshots keyed by the kernel's audit session numbers record it: the kernel numbers
 * `ses` from 1 again at each boot, so a snapshot from an earlier boot names other logins.
 */
export function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Read a snapshot. Never throws: a missing file is `{ damaged: false }` without `value`;
 * one that is not JSON, or that `valid` refuses, is kept aside and `{ damaged: true }`.
 */
export function readStateFile<T>(file: string, valid: (v: unknown) => v is T): { value?: T; damaged: boolean } {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!valid(v)) throw new Error('not the expected snapshot');
    return { value: v, damaged: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { damaged: false };
    try {
      fs.renameSync(file, `${file}.damaged-${Date.now()}`);
    } catch {
      /* ignore */
    }
    return { damaged: true };
  }
}

/** Writes one owner's snapshot: only when `dirty`, rate-limited, atomically, mode 600. */
export class StateFileWriter {
  /** Something the snapshot would hold has changed since the last save. */
  dirty = false;
  private lastSave = -Infinity;

  constructor(
    readonly file: string,
    private readonly serialize: () => string,
    private readonly minIntervalMs = 1_000,
  ) {}

  /** true when it wrote. A failed write leaves the snapshot dirty (retried at the next call) and throws. */
  async save(force = false): Promise<boolean> {
    if (!this.dirty) return false;
    const now = Date.now();
    if (!force && now - this.lastSave < this.minIntervalMs) return false;
    this.lastSave = now;
    this.dirty = false;
    try {
      await writeFileAtomic(this.file, this.serialize(), 0o600);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
    return true;
  }
}
