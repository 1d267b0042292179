import { cidrContains, cidrProblem, dummyVerify, hashPassword, inTimeWindow, Lockout, loginRefusal, parseLoginName, parseTimeWindow, resolveTargets, totpCode, verifyPassword, verifyTotp, newTotpSecret, type BastionUser, type Grant } from './access';
import { inventoryConfigSchema } from '../fleet/config';

const user = (over: Partial<BastionUser> = {}): BastionUser => ({ name: 'alice', groups: ['ops'], public_keys: [], disabled: false, allow_from: [], allow_times: [], created: '2026-01-01T00:00:00Z', updated: '2026-01-01T00:00:00Z', ...over });
const grant = (over: Partial<Grant>): Grant => ({ id: 'g1', account: 'deploy', port_forwarding: false, agent_forwarding: false, sftp: false, created: '2026-01-01T00:00:00Z', ...over });

describe('passwords', () => {
  it('are argon2id hashes that verify the right password only', async () => {
    const h = await hashPassword('correct horse battery');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batter', h)).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    expect(await dummyVerify('anything')).toBe(false);
  });
});

describe('TOTP', () => {
  const secret = newTotpSecret();
  const t = Date.UTC(2026, 0, 1, 12, 0, 10);
  it('accepts the code of now and of one step either side, not two', () => {
    const step = Math.floor(t / 30_000);
    expect(verifyTotp(secret, totpCode(secret, t), t, 1)).toBe(step);
    expect(verifyTotp(secret, totpCode(secret, t - 30_000), t, 1)).toBe(step - 1);
    expect(verifyTotp(secret, totpCode(secret, t + 30_000), t, 1)).toBe(step + 1);
    expect(verifyTotp(secret, totpCode(secret, t - 60_000), t, 1)).toBeUndefined();
    expect(verifyTotp(secret, totpCode(secret, t - 30_000), t, 0)).toBeUndefined();
  });
  it('refuses what is not six digits', () => {
    expect(verifyTotp(secret, '12345', t, 1)).toBeUndefined();
    expect(verifyTotp(secret, 'abcdef', t, 1)).toBeUndefined();
  });
});

describe('lockout', () => {
  it('locks a key after N failures within the window, for the lock time, and forgets old failures', () => {
    const l = new Lockout({ failures: 3, windowMs: 1000, lockMs: 5000 });
    expect(l.fail('u:alice', 0)).toBe(false);
    expect(l.fail('u:alice', 100)).toBe(false);
    expect(l.fail('u:alice', 200)).toBe(true);
    expect(l.lockedFor('u:alice', 300)).toBe(4900);
    expect(l.lockedFor('u:alice', 5200)).toBe(0);
    expect(l.fail('u:bob', 0)).toBe(false);
    expect(l.fail('u:bob', 1500)).toBe(false);
    expect(l.fail('u:bob', 1600)).toBe(false); // the first is out of the window
    l.succeed('u:bob');
    expect(l.fail('u:bob', 1700)).toBe(false);
  });
});

describe('login ACL', () => {
  it('matches IPv4, IPv6 and v4-mapped addresses against CIDRs', () => {
    expect(cidrContains('10.1.0.0/16', '10.1.2.3')).toBe(true);
    expect(cidrContains('10.1.0.0/16', '10.2.0.1')).toBe(false);
    expect(cidrContains('10.1.0.0/16', '::ffff:10.1.9.9')).toBe(true);
    expect(cidrContains('2001:db8::/32', '2001:db8:1::5')).toBe(true);
    expect(cidrContains('2001:db8::/32', '2001:db9::5')).toBe(false);
    expect(cidrContains('192.168.1.7', '192.168.1.7')).toBe(true);
    expect(cidrContains('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(cidrProblem('10.0.0.0/33')).toMatch(/prefix length/);
    expect(cidrProblem('web01')).toMatch(/not an address/);
  });
  it('reads time windows with days, and windows across midnight', () => {
    const w = parseTimeWindow('mon-fri 08:00-18:00');
    if (typeof w === 'string') throw new Error(w);
    expect(inTimeWindow(w, new Date(2026, 0, 5, 9, 0))).toBe(true); // Monday
    expect(inTimeWindow(w, new Date(2026, 0, 5, 18, 0))).toBe(false);
    expect(inTimeWindow(w, new Date(2026, 0, 4, 9, 0))).toBe(false); // Sunday
    const n = parseTimeWindow('fri 22:00-06:00');
    if (typeof n === 'string') throw new Error(n);
    expect(inTimeWindow(n, new Date(2026, 0, 9, 23, 0))).toBe(true); // Friday night
    expect(inTimeWindow(n, new Date(2026, 0, 10, 5, 0))).toBe(true); // Saturday early: Friday's window
    expect(inTimeWindow(n, new Date(2026, 0, 11, 5, 0))).toBe(false);
    expect(parseTimeWindow('weekdays 8-18')).toMatch(/expected/);
    expect(parseTimeWindow('mon-fry 08:00-18:00')).toMatch(/unknown day/);
  });
  it('refuses disabled and expired accounts, foreign addresses and hours outside the windows', () => {
    const t = new Date(2026, 0, 5, 9, 0).getTime();
    expect(loginRefusal(user(), '10.0.0.1', t)).toBeUndefined();
    expect(loginRefusal(user({ disabled: true }), '10.0.0.1', t)).toBe('account disabled');
    expect(loginRefusal(user({ expires: new Date(t - 1).toISOString() }), '10.0.0.1', t)).toBe('account expired');
    expect(loginRefusal(user({ allow_from: ['192.168.0.0/16'] }), '10.0.0.1', t)).toMatch(/not allowed/);
    expect(loginRefusal(user({ allow_from: ['192.168.0.0/16', '10.0.0.0/8'] }), '10.0.0.1', t)).toBeUndefined();
    expect(loginRefusal(user({ allow_times: ['sat,sun 00:00-24:00'] }), '10.0.0.1', t)).toMatch(/hours/);
  });
});

describe('grant resolution over the inventory', () => {
  const inv = inventoryConfigSchema.parse({
    hosts: { web01: { address: '10.0.0.11' }, web02: { address: '10.0.0.12' }, db01: { address: '10.0.0.21' }, lb01: {} },
    groups: { web: { hosts: ['web01', 'web02'] }, prod: { groups: ['web'], hosts: ['db01'] } },
  });
  const t = Date.UTC(2026, 0, 1);
  it('expands host groups through nesting, for the user and the user\'s groups, and merges flags per (host, account)', () => {
    const grants = [
      grant({ id: 'a', user: 'alice', host_group: 'prod', account: 'deploy' }),
      grant({ id: 'b', user_group: 'ops', host: 'web01', account: 'deploy', port_forwarding: true }),
      grant({ id: 'c', user_group: 'dba', host: 'db01', account: 'postgres' }),
      grant({ id: 'd', user: 'bob', host: 'lb01', account: 'root' }),
    ];
    const ts = resolveTargets(user(), grants, inv, t);
    expect(ts.map((x) => `${x.account}@${x.host.name}`)).toEqual(['deploy@web01', 'deploy@web02', 'deploy@db01']);
    expect(ts[0]?.portForwarding).toBe(true);
    expect(ts[0]?.grants.map((g) => g.id)).toEqual(['a', 'b']);
    expect(ts[1]?.portForwarding).toBe(false);
    expect(ts[0]?.host.address).toBe('10.0.0.11');
  });
  it('leaves out grants outside their validity window', () => {
    const grants = [grant({ id: 'x', user: 'alice', host: 'web01', valid_until: new Date(t).toISOString() }), grant({ id: 'y', user: 'alice', host: 'web02', valid_from: new Date(t + 1000).toISOString() })];
    expect(resolveTargets(user(), grants, inv, t)).toEqual([]);
    expect(resolveTargets(user(), grants, inv, t - 1).map((x) => x.host.name)).toEqual(['web01']);
  });
  it('reads login names with a host and an account', () => {
    expect(parseLoginName('alice')).toEqual({ user: 'alice' });
    expect(parseLoginName('alice@web01')).toEqual({ user: 'alice', host: 'web01' });
    expect(parseLoginName('alice@deploy@web01')).toEqual({ user: 'alice', account: 'deploy', host: 'web01' });
  });
});
