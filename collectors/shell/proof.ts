/**
 * Per-uid proofs for the shell hook (issue 20: the prompt's wait). Attesting a sender
 * from the kernel's socket table costs a walk of the whole TCP hash table, 1.6–4 ms
 * on a 24 GB host even when it holds three sockets (the kernel steps through every
 * bucket: 262,144 of them here), and every prompt waited for it. So once a uid has been
 * attested from the table, the collector gives it a proof: a file only that uid (and
 * root) can read, `<dir>/<uid>`, holding `<uid>:<HMAC of the uid under a key drawn at
 * start>`. The hook reads it (one builtin read, no fork) and sends it with each record
 * over the loopback connection, never through its syslog fallback. A record whose proof
 * checks out is attested without the table walk; any other is attested as before.
 *
 * What it proves is what the table proved: a process running as that uid sent the
 * record. Other users cannot read the file (0400, owned by the uid, in a directory
 * owned by the collector's user that nobody else may write). A user who hands their
 * proof to another lets that one send records as them, which they could also do by
 * running that one's commands themselves. Root can read every proof; root can also
 * open a socket as any uid.
 *
 * The key lives only in the collector's memory: a restart makes every proof stale, the
 * next record of each uid is attested from the table, and its file is written anew.
 * The proof is removed from the record before it is journalled.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, constants as fsConstants, fchownSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditkitError } from '../../core';

const PROOF = /^(\d{1,10}):[0-9a-f]{32}$/;
const MAX_UID = 0xfffffffe;

export class UidProofs {
  private readonly key = randomBytes(32);
  private readonly given = new Set<number>();

  /** Makes `dir` (mode 0711), checks nobody else can write it, and removes proofs a previous run left. */
  constructor(private readonly dir: string, private readonly setting = 'listeners.hook.proof_dir') {
    const me = process.getuid?.() ?? 0;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      const st = lstatSync(dir);
      if (!st.isDirectory()) throw new Error('not a directory');
      if (st.uid !== me) throw new Error(`owned by uid ${st.uid}, not ${me}`);
      chmodSync(dir, 0o711);
      for (const name of readdirSync(dir)) if (/^\.?\d+(\.\d+\.tmp)?$/.test(name)) unlinkSync(join(dir, name));
    } catch (err) {
      throw new AuditkitError('SHELL_HOOK_PROOF_DIR', `${setting} (${dir}) must be a directory owned by the collector's user that no one else can write: ${(err as Error).message}`, { cause: err });
    }
  }

  /** `<uid>:<32 hex digits>`. */
  proof(uid: number): string {
    return `${uid}:${createHmac('sha256', this.key).update(`auditkit-hook-uid:${uid}`).digest('hex').slice(0, 32)}`;
  }

  /** The uid a record's `tok` proves; undefined for anything else (absent, malformed, forged, stale). */
  verify(tok: unknown): number | undefined {
    if (typeof tok !== 'string' || tok.length > 48) return undefined;
    const m = PROOF.exec(tok);
    if (!m) return undefined;
    const uid = Number(m[1]);
    if (uid > MAX_UID) return undefined;
    const want = Buffer.from(this.proof(uid));
    const got = Buffer.from(tok);
    return want.length === got.length && timingSafeEqual(want, got) ? uid : undefined;
  }

  /**
   * Writes the proof file of a uid the socket table just attested, once per run. Never
   * throws: a proof that cannot be written (a collector not running as root cannot give
   * a file away) only means that uid keeps being attested from the table.
   */
  give(uid: number): void {
    if (this.given.has(uid) || !Number.isInteger(uid) || uid < 0 || uid > MAX_UID) return;
    this.given.add(uid);
    const tmp = join(this.dir, `.${uid}.${process.pid}.tmp`);
    let fd: number | undefined;
    try {
      fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o400);
      writeSync(fd, `${this.proof(uid)}\n`);
      fchownSync(fd, uid, -1);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, join(this.dir, String(uid)));
    } catch {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        /* not there */
      }
    }
  }

  /** Removes the proofs this run wrote (one another collector replaced is left to it). */
  close(): void {
    for (const uid of this.given) {
      const file = join(this.dir, String(uid));
      try {
        if (readFileSync(file, 'latin1').trim() === this.proof(uid)) unlinkSync(file);
      } catch {
        /* gone */
      }
    }
    this.given.clear();
  }
}
