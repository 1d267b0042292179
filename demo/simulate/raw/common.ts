/**
 * What the raw writers share: account and group names as the hosts' passwd and
 * group files would have them, the login time of each session, and the set of
 * hosts that run the shell hook.
 */
import { createHash } from 'node:crypto';
import type { SimAction, SimFleet, SimHost, SimSession } from '../timeline';

/** Accounts every host has besides the fleet's people (name by uid, primary gid). */
const SYSTEM_ACCOUNTS: ReadonlyArray<readonly [name: string, uid: number, gid: number]> = [
  ['root', 0, 0], ['daemon', 1, 1], ['www-data', 33, 33], ['postgres', 112, 120], ['wang.fang', 1106, 1106], ['deploy-team', 1500, 1500],
];

export interface Accounts {
  /** passwd: uid → name (the first account with the uid, as getpwuid answers). */
  userName(uid: number): string | undefined;
  /** Primary gid of a uid (user-private groups: gid = uid). */
  gidOf(uid: number): number;
  groupName(gid: number): string | undefined;
}

export function fleetAccounts(fleet: SimFleet): Accounts {
  const users = new Map<number, string>();
  const gids = new Map<number, number>();
  for (const [n, u, g] of SYSTEM_ACCOUNTS) {
    if (!users.has(u)) users.set(u, n);
    gids.set(u, g);
  }
  for (const u of fleet.users) {
    if (!users.has(u.uid)) users.set(u.uid, u.name);
    gids.set(u.uid, u.uid);
  }
  const groups = new Map<number, string>([...users.entries()].map(([uid, n]) => [gids.get(uid) ?? uid, n] as const));
  groups.set(27, 'sudo');
  return {
    userName: (uid) => users.get(uid),
    gidOf: (uid) => gids.get(uid) ?? uid,
    groupName: (gid) => groups.get(gid),
  };
}

/**
 * Hosts where the shell hook is installed. The rest of the fleet is "not migrated
 * yet": databases and caches keep the old profile (HISTTIMEFORMAT, histappend), so
 * their commands come from ~/.bash_history files. A fleet mid-rollout is the common
 * case, and it shows both sources. The attack stories run on web/app hosts (hooked).
 */
export function hookedHosts(fleet: SimFleet): Set<string> {
  const legacy = fleet.hosts.filter((h) => h.role === 'db' || h.role === 'cache');
  // Keep at least one hooked host, whatever the fleet.
  const hooked = fleet.hosts.filter((h) => !legacy.includes(h));
  return new Set((hooked.length > 0 ? hooked : fleet.hosts).map((h) => h.name));
}

/** Login time of every session (its `login` action), by session id. */
export function sessionStarts(actions: readonly SimAction[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of actions) if (a.kind === 'login' && a.session) out.set(a.session.id, a.t);
  return out;
}

/** A small deterministic integer from some parts (inode numbers, sshd pids, durations). */
export function stableInt(min: number, max: number, ...parts: ReadonlyArray<string | number>): number {
  const h = createHash('sha256').update(parts.join('\u001f')).digest();
  return min + (h.readUInt32BE(0) % (max - min + 1));
}

/** sshd's per-connection process for a session (the shell's parent). */
export function sshdPid(s: SimSession): number {
  return s.leaderPid - stableInt(1, 3, s.id, 'sshd');
}

export function hostByName(fleet: SimFleet): Map<string, SimHost> {
  return new Map(fleet.hosts.map((h) => [h.name, h]));
}
