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
    // The same id again from the login (any shell of it, e.g. after su): consistent, kept.
    expect(bastionOf(j.apply(hook('S1', B1, '1002', '1000')))).toBe(B1);
    expect(bastionOf(j.apply(audit('S1', '1000')))).toBe(B1);
    expect(bastionOf(j.apply(audit('S2', '1001')))).toBeUndefined();
    expect(j.refused).toEqual({ unverified_sender: 1, not_session_owner: 2, session_already_mapped: 1, bastion_session_elsewhere: 1 });
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
