/**
 * What `auditkit bastion user|grant|revoke|passwd|totp` do, over a StateStore:
 * validate, build the entity, write it with the store's optimistic concurrency.
 * Errors are AK_BASTION_* with the next step; secrets are returned only where the
 * operator must see them once (a new TOTP seed).
 */
import { randomBytes } from 'node:crypto';
import { AuditkitError, ExitCode } from '../core';
import type { InventoryConfig } from '../fleet';
import { cidrProblem, hashPassword, NAME_RE, newTotpSecret, normalisePublicKey, parseTimeWindow, passwordProblem, totpUri, type BastionUser, type Grant } from './access';
import type { StateStore } from './state';

const usage = (msg: string): AuditkitError => new AuditkitError('AK_BASTION_USAGE', msg, { exitCode: ExitCode.Usage });

function checkName(what: string, s: string): void {
  if (!NAME_RE.test(s)) throw usage(`${what} ${JSON.stringify(s)}: expected letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)`);
}

function isoOrThrow(what: string, s: string): string {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw usage(`${what} ${JSON.stringify(s)}: expected an ISO 8601 time, e.g. 2026-12-31T18:00:00Z`);
  return new Date(t).toISOString();
}

export interface NewUser {
  readonly name: string;
  readonly groups?: readonly string[];
  readonly publicKeys?: readonly string[];
  readonly password?: string;
  readonly expires?: string;
  readonly allowFrom?: readonly string[];
  readonly allowTimes?: readonly string[];
}

export async function addUser(store: StateStore, u: NewUser, now = Date.now()): Promise<BastionUser> {
  checkName('user name', u.name);
  for (const g of u.groups ?? []) checkName('group', g);
  const keys: string[] = [];
  for (const k of u.publicKeys ?? []) {
    const n = normalisePublicKey(k);
    if (typeof n === 'string') throw usage(`public key: ${n}`);
    keys.push(k.trim());
  }
  for (const c of u.allowFrom ?? []) {
    const p = cidrProblem(c);
    if (p) throw usage(`--allow-from ${p}`);
  }
  for (const w of u.allowTimes ?? []) {
    const p = parseTimeWindow(w);
    if (typeof p === 'string') throw usage(`--allow-times ${p}`);
  }
  if (u.password !== undefined) {
    const p = passwordProblem(u.password);
    if (p) throw usage(`the password ${p}`);
  }
  if (keys.length === 0 && u.password === undefined) throw usage(`user ${u.name} needs a public key (--key FILE) or a password (--password-stdin)`);
  const hash = u.password !== undefined ? await hashPassword(u.password) : undefined;
  const at = new Date(now).toISOString();
  let existed = false;
  const out = await store.update('user', u.name, (cur) => {
    if (cur) {
      existed = true;
      return undefined;
    }
    return {
      name: u.name,
      groups: [...new Set(u.groups ?? [])],
      ...(hash ? { password_hash: hash } : {}),
      public_keys: keys,
      disabled: false,
      ...(u.expires ? { expires: isoOrThrow('--expires', u.expires) } : {}),
      allow_from: [...(u.allowFrom ?? [])],
      allow_times: [...(u.allowTimes ?? [])],
      created: at,
      updated: at,
    };
  });
  if (existed || !out) throw new AuditkitError('AK_BASTION_EXISTS', `user ${u.name} exists already; change it with \`auditkit bastion passwd\`, or disable it`, { exitCode: ExitCode.Usage });
  return out;
}

export async function setUserDisabled(store: StateStore, name: string, disabled: boolean, now = Date.now()): Promise<BastionUser> {
  const out = await store.update('user', name, (cur) => (cur ? { ...cur, disabled, updated: new Date(now).toISOString() } : undefined));
  if (!out) throw new AuditkitError('AK_BASTION_NOT_FOUND', `no bastion user ${name}; \`auditkit bastion user list\` shows them`, { exitCode: ExitCode.Usage });
  return out;
}

export async function setPassword(store: StateStore, name: string, password: string, now = Date.now()): Promise<void> {
  const p = passwordProblem(password);
  if (p) throw usage(`the password ${p}`);
  const hash = await hashPassword(password);
  const out = await store.update('user', name, (cur) => (cur ? { ...cur, password_hash: hash, updated: new Date(now).toISOString() } : undefined));
  if (!out) throw new AuditkitError('AK_BASTION_NOT_FOUND', `no bastion user ${name}`, { exitCode: ExitCode.Usage });
}

/** A new TOTP seed for the user (replacing any): the URI is shown once, for the authenticator app. */
export async function enrollTotp(store: StateStore, name: string, now = Date.now()): Promise<{ secret: string; uri: string }> {
  const secret = newTotpSecret();
  const out = await store.update('user', name, (cur) => (cur ? { ...cur, totp: { secret, enrolled_at: new Date(now).toISOString() }, updated: new Date(now).toISOString() } : undefined));
  if (!out) throw new AuditkitError('AK_BASTION_NOT_FOUND', `no bastion user ${name}`, { exitCode: ExitCode.Usage });
  return { secret, uri: totpUri(name, secret) };
}

export interface NewGrant {
  readonly user?: string;
  readonly userGroup?: string;
  readonly host?: string;
  readonly hostGroup?: string;
  readonly account: string;
  readonly validFrom?: string;
  readonly validUntil?: string;
  readonly portForwarding?: boolean;
  readonly agentForwarding?: boolean;
  readonly sftp?: boolean;
}

export async function addGrant(store: StateStore, inv: InventoryConfig, g: NewGrant, now = Date.now()): Promise<Grant> {
  if ((g.user === undefined) === (g.userGroup === undefined)) throw usage('a grant names exactly one of a user or --user-group');
  if ((g.host === undefined) === (g.hostGroup === undefined)) throw usage('a grant names exactly one of --host or --host-group');
  if (g.user !== undefined) checkName('user', g.user);
  if (g.userGroup !== undefined) checkName('user group', g.userGroup);
  if (g.host !== undefined && !(g.host in inv.hosts)) throw new AuditkitError('AK_BASTION_NOT_FOUND', `--host ${g.host}: no such host in the inventory (the inventory: section deploy uses); hosts: ${Object.keys(inv.hosts).join(', ') || '(none)'}`, { exitCode: ExitCode.Usage });
  if (g.hostGroup !== undefined && !(g.hostGroup in inv.groups)) throw new AuditkitError('AK_BASTION_NOT_FOUND', `--host-group ${g.hostGroup}: no such group in the inventory; groups: ${Object.keys(inv.groups).join(', ') || '(none)'}`, { exitCode: ExitCode.Usage });
  if (!/^[a-z_][a-z0-9_.-]*\$?$/.test(g.account)) throw usage(`--account ${JSON.stringify(g.account)}: expected a Unix account name`);
  const from = g.validFrom ? isoOrThrow('--from', g.validFrom) : undefined;
  const until = g.validUntil ? isoOrThrow('--until', g.validUntil) : undefined;
  if (from && until && Date.parse(until) <= Date.parse(from)) throw usage('--until must be after --from');
  const id = randomBytes(6).toString('hex');
  const grant: Grant = {
    id,
    ...(g.user !== undefined ? { user: g.user } : { user_group: g.userGroup as string }),
    ...(g.host !== undefined ? { host: g.host } : { host_group: g.hostGroup as string }),
    account: g.account,
    ...(from ? { valid_from: from } : {}),
    ...(until ? { valid_until: until } : {}),
    port_forwarding: g.portForwarding ?? false,
    agent_forwarding: g.agentForwarding ?? false,
    sftp: g.sftp ?? false,
    created: new Date(now).toISOString(),
  };
  const out = await store.update('grant', id, (cur) => (cur ? undefined : grant));
  if (!out) throw new AuditkitError('AK_BASTION_STATE', 'grant id collision; run again', { exitCode: ExitCode.Unavailable });
  return out;
}

export async function revokeGrant(store: StateStore, id: string): Promise<void> {
  let found = false;
  await store.update('grant', id, (cur) => {
    found = cur !== undefined;
    return cur ? null : undefined;
  });
  if (!found) throw new AuditkitError('AK_BASTION_NOT_FOUND', `no grant ${id}; \`auditkit bastion user list\` shows users, \`auditkit bastion grant --list\` the grants`, { exitCode: ExitCode.Usage });
}
