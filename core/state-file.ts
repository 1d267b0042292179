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
 * With `boot` (this boot's id), a snapshot that records another boot (`boot` key) is
 * `{ stale: true }` without `value`: its owner starts empty and rewrites it.
 */
export function readStateFile<T extends { readonly boot?: string }>(file: string, valid: (v: unknown) => v is T, boot?: string): { value?: T; damaged: boolean; stale?: true } {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!valid(v)) throw new Error('not the expected snapshot');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { damaged: false };
    try {
      fs.renameSync(file, `${file}.damaged-${Date.now()}`);
    } catch {
      /* ignore */
    }
    return { damaged: true };
  }
  if (v.boot !== undefined && boot !== undefined && v.boot !== boot) return { damaged: false, stale: true };
  return { value: v, damaged: false };
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
