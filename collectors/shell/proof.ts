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
 * A restart makes every proof stale: the next record of each shell is attested from the
 * table and answered with a new one. The proof is removed from the record before it is
 * journalled.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PROOF = /^(\d{1,10}):[0-9a-f]{32}$/;
const MAX_UID = 0xfffffffe;

export class UidProofs {
  private readonly key = randomBytes(32);

  /** `<uid>:<32 hex digits>`. */
  proof(uid: number): string {
    return `${uid}:${createHmac('sha256', this.key).update(`auditkit-hook-uid:${uid}`).digest('hex').slice(0, 32)}`;
  }

  /** The uid a record's `tok` proves; undefined for anything else (absent, empty, malformed, forged, stale). */
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
}
