/**
 * Per-uid proofs for the shell hook (issue 20: the prompt's wait). Attesting a sender
 * from the kernel's socket table costs a walk of the whole TCP hash table, 1.6–4 ms
 * on a 24 GB host even when it holds three sockets (the kernel steps through every
 * bucket: 262,144 of them here), and every prompt waited for it. So a shell's first
 * record is attested from the table, and the collector answers it `OK <proof>`: the
 * HMAC of the attested uid under a key drawn at start and held only in memory. The hook
 * keeps the proof in a shell variable (never exported, never written anywhere) and
 * sends it as `tok` with its next records; a record whose proof checks out is attested
 * without the table walk. A hook asks for a proof by sending `tok` (empty at first), so
 * a client that does not ask keeps getting a bare `OK`.
 *
 * What it proves is what the table proved: the proof went, over loopback, only to a
 * connection the table attested as that uid, and lives in that uid's shell. A user who
 * hands their proof to another lets that one send records as them, which they could
 * also do by running that one's commands themselves; root can read any process's
 * memory, as it can open a socket as anyone.
 *
 * Keys rotate every PROOF_KEY_MS (a day): a proof under the key before still passes and
 * is answered with a new one; older ones, and every proof after a restart, are stale: the
 * next record of that shell is attested from the table and answered with a new proof. A
 * proof that leaked is good for two days at most. The proof is removed from the record
 * before it is journalled.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PROOF = /^(\d{1,10}):[0-9a-f]{32}$/;
const MAX_UID = 0xfffffffe;

/** How long a key signs new proofs; a proof stays valid for up to twice this (default a day). */
export const PROOF_KEY_MS = 24 * 3600 * 1000;

export class UidProofs {
  // keys[0] signs; keys[1] (the one before) still verifies, so a proof lives at most two periods.
  private keys: Buffer[] = [randomBytes(32)];
  private rotatedAt: number;

  constructor(private readonly keyMs = PROOF_KEY_MS, private readonly now: () => number = Date.now) {
    this.rotatedAt = now();
  }

  private rotate(): void {
    // Periods on fixed boundaries from the first key, so a key verifies for two at most.
    const since = this.now() - this.rotatedAt;
    if (since < this.keyMs) return;
    if (since < 2 * this.keyMs) {
      this.keys = [randomBytes(32), this.keys[0] as Buffer];
      this.rotatedAt += this.keyMs;
    } else {
      this.keys = [randomBytes(32)];
      this.rotatedAt = this.now();
    }
  }

  private sign(uid: number, key: Buffer): string {
    return `${uid}:${createHmac('sha256', key).update(`auditkit-hook-uid:${uid}`).digest('hex').slice(0, 32)}`;
  }

  /** `<uid>:<32 hex digits>`, under the current key. */
  proof(uid: number): string {
    this.rotate();
    return this.sign(uid, this.keys[0] as Buffer);
  }

  /**
   * The uid a record's `tok` proves, and whether under the current key (false: the one
   * before; the sender is then given a new proof); undefined for anything else (absent,
   * empty, malformed, forged, expired, from before a restart).
   */
  verify(tok: unknown): { uid: number; current: boolean } | undefined {
    if (typeof tok !== 'string' || tok.length > 48) return undefined;
    const m = PROOF.exec(tok);
    if (!m) return undefined;
    const uid = Number(m[1]);
    if (uid > MAX_UID) return undefined;
    this.rotate();
    const got = Buffer.from(tok);
    for (let i = 0; i < this.keys.length; i++) {
      const want = Buffer.from(this.sign(uid, this.keys[i] as Buffer));
      if (want.length === got.length && timingSafeEqual(want, got)) return { uid, current: i === 0 };
    }
    return undefined;
  }
}
