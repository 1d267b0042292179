import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditkitEvent } from '../../schema';
import { BastionSessionJoin, type BastionJoinRefusal } from './bastion-join';

const B1 = '11111111-2222-4333-8444-555555555555';
const B2 = '66666666-7777-4888-8999-aaaaaaaaaaaa';

/** A hook event as parseHookRecord shapes it (only the fields the join reads). */
function hook(session: string, bastion: string, uid: string, luid: string, tags: string[] = []): AuditkitEvent {
  return { event: { dataset: 'auditkit.commands', id: 'h' }, user: { id: uid }, process: { entry_leader: { user: { id: luid } } }, auditkit: { source: { format: 'hook' }, session: { id: session }, bastion: { session_id: bastion } }, ...(tags.length ? { tags } : {}) } as unknown as AuditkitEvent;
}
/** An auditd event of a login session (auid from the kernel). */
function audit(session: string, auid: string): AuditkitEvent {
  return { event: { dataset: 'auditkit.auditd', id: 'a' }, process: { entry_leader: { user: { id: auid } } }, auditkit: { session: { id: session } } } as unknown as AuditkitEvent;
}
const bastionOf = (d: AuditkitEvent): unknown => (d as unknown as { auditkit: { bastion?: { session_id?: string } } }).auditkit.bastion?.session_id;

describe('bastion join (auditd side)', () => {
  it('tags the auditd events of a login with the bastion id its own account declared', () => {
    const j = new BastionSessionJoin();
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBeUndefined();
    j.apply(hook('S1', B1, '1000', '1000'));
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBe(B1);
    expect(bastionOf(j.apply(audit('S2', '1000')))).toBeUndefined();
    // Root (after sudo -i) may speak for the login.
    j.apply(hook('S3', B2, '0', '1001'));
    expect(bastionOf(j.apply(audit('S3', '1001')))).toBe(B2);
  });

  it('refuses unattested senders, other accounts, remapping a login and reusing a bastion id', () => {
    const refusals: BastionJoinRefusal[] = [];
    const j = new BastionSessionJoin({ onRefused: (r) => refusals.push(r) });
    j.apply(hook('S1', B1, '1000', '1000', ['auditkit_sender_unverified']));
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBeUndefined();
    // bob (1001) claims alice's login (its id derives from luid 1000).
    j.apply(hook('S1', B1, '1001', '1000'));
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBeUndefined();
    // A claim whose session turns out (kernel auid) to belong to someone else is dropped when checked.
    j.apply(hook('S9', B2, '1001', '1001'));
    expect(bastionOf(j.apply(audit('S9', '1000')))).toBeUndefined();
    expect(bastionOf(j.apply(audit('S9', '1001')))).toBeUndefined();
    expect(bastionOf(j.apply(hook('S1', B1, '1000', '1000')))).toBe(B1);
    const remap = j.apply(hook('S1', B2, '1000', '1000'));
    expect(bastionOf(remap)).toBeUndefined();
    expect((remap as unknown as { tags: string[] }).tags).toEqual(['auditkit_bastion_session_refused']);
    expect((remap as unknown as { auditkit: { claimed?: unknown } }).auditkit.claimed).toEqual({ bastion_session_id: B2 });
    expect(bastionOf(j.apply(hook('S2', B1, '1001', '1001')))).toBeUndefined();
    // The same id again from the login's own account or root: consistent, kept; from another
    // account (a su to it inside the login, or a forger naming the login): refused all the same.
    expect(bastionOf(j.apply(hook('S1', B1, '1000', '1000')))).toBe(B1);
    expect(bastionOf(j.apply(hook('S1', B1, '0', '1000')))).toBe(B1);
    expect(bastionOf(j.apply(hook('S1', B1, '1002', '1000')))).toBeUndefined();
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBe(B1);
    expect(bastionOf(j.apply(audit('S2', '1001')))).toBeUndefined();
    expect(j.refused).toEqual({ unverified_sender: 1, not_session_owner: 3, session_already_mapped: 1, bastion_session_elsewhere: 1 });
    expect(refusals.sort()).toEqual(['bastion_session_elsewhere', 'not_session_owner', 'session_already_mapped', 'unverified_sender']);
  });

  it('is bounded: at most maxSessions mappings, each forgotten after ttlMs without an event', () => {
    let now = 0;
    const j = new BastionSessionJoin({ maxSessions: 3, ttlMs: 1000, now: () => now });
    const id = (i: number): string => `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
    for (let i = 0; i < 10; i++) j.apply(hook(`S${i}`, id(i), '1000', '1000'));
    expect(j.size).toBe(3);
    expect(bastionOf(j.apply(audit('S9', '1000')))).toBe(id(9));
    expect(bastionOf(j.apply(audit('S0', '1000')))).toBeUndefined();
    now = 500;
    j.apply(audit('S9', '1000'));
    now = 1400;
    expect(bastionOf(j.apply(audit('S9', '1000')))).toBe(id(9));
    expect(bastionOf(j.apply(audit('S8', '1000')))).toBeUndefined();
    now = 3000;
    expect(bastionOf(j.apply(audit('S9', '1000')))).toBeUndefined();
    // An expired mapping frees its bastion id.
    j.apply(hook('S20', id(9), '1000', '1000'));
    expect(bastionOf(j.apply(audit('S20', '1000')))).toBe(id(9));
  });
});

describe('bastion join: the map survives a collector restart', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-bjoin-unit-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** sshd's (or sudo's) end of a PAM session of the login. */
  function end(session: string, auid: string, exe: string): AuditkitEvent {
    return { event: { dataset: 'auditkit.auditd', id: 'e', action: 'ended-session' }, process: { executable: exe, entry_leader: { user: { id: auid } } }, auditkit: { session: { id: session } } } as unknown as AuditkitEvent;
  }

  it('saves its mappings (mode 600) and a new instance tags the login\'s later auditd events', async () => {
    const file = path.join(dir, 'restart.json');
    const a = new BastionSessionJoin({ file });
    a.apply(hook('S1', B1, '1000', '1000'));
    a.apply(audit('S1', '1000'));
    expect(await a.save()).toBe(true);
    expect(await a.save()).toBe(false); // nothing changed since
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const b = new BastionSessionJoin({ file });
    expect(b.load()).toEqual({ loaded: 1, damaged: false });
    expect(bastionOf(b.apply(audit('S1', '1000')))).toBe(B1);
    // What was decided before the restart still holds: first id wins, one login per id.
    expect(bastionOf(b.apply(hook('S1', B2, '1000', '1000')))).toBeUndefined();
    expect(bastionOf(b.apply(hook('S2', B1, '1001', '1001')))).toBeUndefined();
  });

  it('does not load what was saved before this host last booted (the kernel numbers ses from 1 again)', async () => {
    const file = path.join(dir, 'reboot.json');
    const a = new BastionSessionJoin({ file, boot: 'boot-a' });
    a.apply(hook('S1', B1, '1000', '1000'));
    a.apply(audit('S1', '1000'));
    expect(await a.save()).toBe(true);
    // After a reboot a new login of another account gets the same session number.
    const b = new BastionSessionJoin({ file, boot: 'boot-b' });
    expect(b.load()).toEqual({ loaded: 0, damaged: false });
    expect(bastionOf(b.apply(audit('S1', '1001')))).toBeUndefined();
    expect(bastionOf(b.apply(hook('S1', B2, '1001', '1001')))).toBe(B2);
    // The same boot reads it back.
    const c = new BastionSessionJoin({ file, boot: 'boot-a' });
    expect(c.load()).toEqual({ loaded: 1, damaged: false });
  });

  it('forgets a login some minutes after sshd ends it (not when sudo does), and keeps a damaged file aside', async () => {
    let now = 0;
    const file = path.join(dir, 'ended.json');
    const j = new BastionSessionJoin({ file, endedTtlMs: 600_000, now: () => now });
    j.apply(hook('S1', B1, '1000', '1000'));
    j.apply(end('S1', '1000', '/usr/bin/sudo'));
    now = 3600_000;
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBe(B1);
    expect(bastionOf(j.apply(end('S1', '1000', '/usr/sbin/sshd')))).toBe(B1);
    now += 300_000;
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBe(B1);
    await j.save();
    now += 400_000;
    expect(new BastionSessionJoin({ file, endedTtlMs: 600_000, now: () => now }).load()).toEqual({ loaded: 0, damaged: false });
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBeUndefined();
    fs.writeFileSync(file, '{"version":1,"sessions":[');
    expect(new BastionSessionJoin({ file }).load()).toEqual({ loaded: 0, damaged: true });
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('ended.json.damaged-'))).toHaveLength(1);
  });

  it('is capped: the oldest mappings are evicted and counted, and the saved file holds at most the cap', async () => {
    const file = path.join(dir, 'cap.json');
    const j = new BastionSessionJoin({ file, maxSessions: 100 });
    const id = (i: number): string => `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
    for (let i = 0; i < 150; i++) j.apply(hook(`S${i}`, id(i), '1000', '1000'));
    expect(j.size).toBe(100);
    expect(j.evicted).toBe(50);
    await j.save();
    const k = new BastionSessionJoin({ file, maxSessions: 100 });
    expect(k.load().loaded).toBe(100);
    expect(bastionOf(k.apply(audit('S149', '1000')))).toBe(id(149));
    expect(bastionOf(k.apply(audit('S0', '1000')))).toBeUndefined();
    // Saved at most once a second unless forced (the agent forces the last one at stop).
    k.apply(hook('S-new', '99999999-0000-4000-8000-000000000000', '1000', '1000'));
    expect(await k.save()).toBe(true);
    k.apply(hook('S-new2', '99999998-0000-4000-8000-000000000000', '1000', '1000'));
    expect(await k.save()).toBe(false);
    expect(await k.save(true)).toBe(true);
  });

  it('lets a flood of claims for fictitious logins evict only pending claims, never a confirmed login', () => {
    const j = new BastionSessionJoin({ maxSessions: 100, maxPending: 10 });
    const id = (i: number): string => `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
    for (let i = 0; i < 50; i++) {
      j.apply(hook(`S${i}`, id(i), '1000', '1000'));
      j.apply(audit(`S${i}`, '1000'));
    }
    // bob claims 500 logins of his own uid that the kernel never gave him (no auditd record ever confirms them).
    for (let i = 0; i < 500; i++) j.apply(hook(`F${i}`, id(1000 + i), '1001', '1001'));
    expect(j.size).toBe(60);
    expect(j.evicted).toBe(490);
    for (let i = 0; i < 50; i++) expect(bastionOf(j.apply(audit(`S${i}`, '1000')))).toBe(id(i));
  });
});
