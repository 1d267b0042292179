/**
 * Host inventory as state plus change events (`logs-auditkit.inventory-<ns>`):
 * logins and failed logins (wtmp/btmp), accounts and groups, installed packages,
 * listening sockets with their process and user (and whether the exposure policy
 * allows them), a process snapshot.
 *
 * - Change events (`event.kind: event`) compare with the state saved after the
 *   previous pass (`<state_dir>/inventory-state.json`); their ids hash the key and
 *   both states, so a replay after a crash (docs emitted, state not yet saved)
 *   yields the same ids.
 * - State documents (`event.kind: state`, one per item) are sent at most every
 *   `state_every_s`, sharing one `auditkit.inventory.scan_id`.
 * - wtmp/btmp are read from the offset after the last whole record read before
 *   (per file identity); record ids hash the record itself, so a re-read is harmless.
 * - The first pass records the state and reports only what is a problem on its own:
 *   exposed ports the policy does not allow, and accounts with uid 0 besides root.
 * - rpm: its database is Berkeley DB (RHEL ≤ 8) or SQLite (RHEL 9) with no reader
 *   in this kit's dependencies; rpm hosts get no package inventory (said in the README).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { documentId } from '../../schema';
import { writeFileAtomic } from '../../core';
import { baseDoc, hostId, idNames, rooted, type PostureContext } from './context';
import { isLoopback, isWildcard, parsePortRules, portAllowed } from './exposure';
import { readAccounts, readDpkg, readRpm, readListening, readProcesses, readUtmpFile, UT, type Account, type GroupEntry, type ListeningSocket, type Package, type UtmpRecord } from './inventory-sources';
import type { ExposureConfig, InventoryPartsConfig } from './config';

export interface InventoryState {
  readonly version: 1;
  readonly users: Record<string, Account>;
  readonly groups: Record<string, GroupEntry>;
  readonly packages: Record<string, Package> | null;
  /** Listening keys (`tcp/0.0.0.0/22`) with what listened there. */
  readonly listening: Record<string, { readonly process?: string; readonly exposed: boolean; readonly allowed: boolean }>;
  readonly utmp: Record<string, { readonly identity: string; readonly end: number }>;
  readonly lastStateAt: number;
  readonly initialised: boolean;
}

export interface InventoryResult {
  readonly docs: Record<string, unknown>[];
  readonly state: InventoryState;
  readonly counts: Readonly<Record<string, number>>;
}

const EMPTY: InventoryState = { version: 1, users: {}, groups: {}, packages: null, listening: {}, utmp: {}, lastStateAt: 0, initialised: false };

export function loadInventoryState(stateDir: string): InventoryState {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(stateDir, 'inventory-state.json'), 'utf8')) as InventoryState;
    return j.version === 1 ? { ...EMPTY, ...j } : EMPTY;
  } catch {
    return EMPTY;
  }
}

export async function saveInventoryState(stateDir: string, s: InventoryState): Promise<void> {
  await writeFileAtomic(path.join(stateDir, 'inventory-state.json'), JSON.stringify(s), 0o600);
}

const fp = (v: unknown): string => (v === undefined ? '-' : JSON.stringify(v));

/** One inventory pass: read the host, compare with `prev`, return the documents and the new state. */
export function collectInventory(ctx: PostureContext, cfg: InventoryPartsConfig, exposure: ExposureConfig, prev: InventoryState): InventoryResult {
  const now = ctx.now();
  const hid = hostId(ctx);
  const docs: Record<string, unknown>[] = [];
  const counts: Record<string, number> = {};
  const sendState = cfg.state_every_s === 0 || now - prev.lastStateAt >= cfg.state_every_s * 1000 || !prev.initialised;
  const scanId = documentId('inventory-scan', hid, now);
  const first = !prev.initialised;
  const names = idNames(ctx.root);
  const base = (kind: string, ts = now): Record<string, unknown> => ({ ...baseDoc(ctx, 'inventory', ts), auditkit: { inventory: { kind, scan_id: scanId } } });
  const inv = (d: Record<string, unknown>): Record<string, unknown> => (d['auditkit'] as { inventory: Record<string, unknown> }).inventory;
  const stateDoc = (kind: string, key: string, body: Record<string, unknown>, category: string[], type: string[]): void => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (!sendState) return;
    const d = base(kind);
    docs.push({ ...d, ...body, event: { kind: 'state', category, type, action: `${kind}_state`, dataset: 'auditkit.inventory', module: 'inventory', id: documentId('inventory-state', hid, kind, key, scanId) }, auditkit: { ...(body['auditkit'] as object | undefined), inventory: { ...inv(d), ...((body['auditkit'] as { inventory?: object } | undefined)?.inventory ?? {}) } } });
  };
  const changeDoc = (kind: string, action: string, key: string, before: unknown, after: unknown, body: Record<string, unknown>, category: string[], type: string[], message: string, ts = now): void => {
    const d = base(kind, ts);
    docs.push({ ...d, ...body, message, event: { kind: 'event', category, type, action, dataset: 'auditkit.inventory', module: 'inventory', id: documentId('inventory-change', hid, kind, action, key, fp(before), fp(after)) }, auditkit: { ...(body['auditkit'] as object | undefined), inventory: { ...inv(d), ...((body['auditkit'] as { inventory?: object } | undefined)?.inventory ?? {}) } } });
  };

  // --- accounts
  let users = prev.users;
  let groups = prev.groups;
  if (cfg.accounts) {
    const acc = readAccounts(ctx.root);
    users = Object.fromEntries(acc.users);
    groups = Object.fromEntries(acc.groups);
    const userBody = (a: Account, extra: Record<string, unknown> = {}): Record<string, unknown> => {
      const group = names.group(a.gid);
      return {
        user: { name: a.name, id: a.uid, ...(a.fullName ? { full_name: a.fullName } : {}), group: { id: a.gid, ...(group ? { name: group } : {}) } },
        related: { user: [a.name] },
        auditkit: { inventory: { account: { home: a.home, shell: a.shell, password_state: a.passwordState, ...(a.lastchg !== undefined ? { password_changed: new Date(a.lastchg * 86_400_000).toISOString().slice(0, 10) } : {}), ...extra } } },
      };
    };
    for (const a of acc.users.values()) stateDoc('account', a.name, userBody(a), ['iam'], ['user', 'info']);
    for (const g of acc.groups.values()) stateDoc('group', g.name, { group: { name: g.name, id: g.gid }, auditkit: { inventory: { account: { members: [...g.members] } } } }, ['iam'], ['group', 'info']);
    for (const a of acc.users.values()) {
      const was = prev.users[a.name];
      const uid0 = a.uid === '0' && a.name !== 'root' && was?.uid !== '0';
      if (!was) {
        if (first && !uid0) continue;
        changeDoc('account', uid0 ? 'user_uid0_added' : 'user_added', a.name, undefined, a, userBody(a), ['iam'], uid0 ? ['user', 'creation', 'admin'] : ['user', 'creation'], uid0 ? `account ${a.name} with uid 0 (a second root) exists` : `account ${a.name} created (uid ${a.uid})`);
        continue;
      }
      if (uid0) changeDoc('account', 'user_uid0_added', a.name, was, a, userBody(a, { previous_uid: was.uid }), ['iam'], ['user', 'change', 'admin'], `account ${a.name} changed from uid ${was.uid} to uid 0`);
      else if (was.uid !== a.uid || was.gid !== a.gid || was.home !== a.home || was.shell !== a.shell) changeDoc('account', 'user_changed', a.name, was, a, userBody(a, was.uid !== a.uid ? { previous_uid: was.uid } : {}), ['iam'], ['user', 'change'], `account ${a.name} changed`);
      if (was.lastchg !== a.lastchg || (was.passwordState !== a.passwordState && a.passwordState !== 'locked' && was.passwordState !== 'locked')) changeDoc('account', 'password_changed', a.name, { l: was.lastchg, p: was.passwordState }, { l: a.lastchg, p: a.passwordState }, userBody(a), ['iam'], ['user', 'change'], `password of ${a.name} changed`);
      if (was.passwordState !== a.passwordState && (a.passwordState === 'locked' || was.passwordState === 'locked')) changeDoc('account', a.passwordState === 'locked' ? 'user_locked' : 'user_unlocked', a.name, was.passwordState, a.passwordState, userBody(a), ['iam'], ['user', 'change'], `account ${a.name} ${a.passwordState === 'locked' ? 'locked' : 'unlocked'}`);
    }
    if (!first) {
      for (const [n, was] of Object.entries(prev.users)) if (!acc.users.has(n)) changeDoc('account', 'user_removed', n, was, undefined, userBody(was), ['iam'], ['user', 'deletion'], `account ${n} removed`);
      for (const g of acc.groups.values()) {
        const was = prev.groups[g.name];
        if (!was) changeDoc('group', 'group_added', g.name, undefined, g, { group: { name: g.name, id: g.gid }, auditkit: { inventory: { account: { members: [...g.members] } } } }, ['iam'], ['group', 'creation'], `group ${g.name} created`);
        else if (was.gid !== g.gid || was.members.join(',') !== g.members.join(',')) changeDoc('group', 'group_changed', g.name, was, g, { group: { name: g.name, id: g.gid }, auditkit: { inventory: { account: { members: [...g.members] } } } }, ['iam'], ['group', 'change'], `group ${g.name} changed (members ${g.members.join(', ') || 'none'})`);
      }
      for (const [n, was] of Object.entries(prev.groups)) if (!acc.groups.has(n)) changeDoc('group', 'group_removed', n, was, undefined, { group: { name: n, id: was.gid } }, ['iam'], ['group', 'deletion'], `group ${n} removed`);
    }
  }

  // --- packages
  let packages = prev.packages;
  if (cfg.packages) {
    const dpkg = readDpkg(ctx.root);
    const rpm = readRpm(ctx.root);
    const pk = dpkg && rpm ? new Map([...dpkg, ...[...rpm].map(([k, p]): [string, Package] => [dpkg.has(k) ? `rpm:${k}` : k, p])]) : dpkg ?? rpm;
    if (pk) {
      packages = Object.fromEntries(pk);
      const body = (p: Package): Record<string, unknown> => ({ package: { name: p.name, version: p.version, type: p.type, ...(p.architecture ? { architecture: p.architecture } : {}), ...(p.description ? { description: p.description } : {}), ...(p.size !== undefined ? { size: p.size } : {}) } });
      for (const [k, p] of pk) stateDoc('package', k, body(p), ['package'], ['info']);
      if (prev.packages && !first) {
        for (const [k, p] of pk) {
          const was = prev.packages[k];
          if (!was) changeDoc('package', 'package_installed', k, undefined, p.version, body(p), ['package'], ['installation'], `package ${p.name} ${p.version} installed`);
          else if (was.version !== p.version) changeDoc('package', 'package_updated', k, was.version, p.version, body(p), ['package'], ['change'], `package ${p.name} ${was.version} → ${p.version}`);
        }
        for (const [k, was] of Object.entries(prev.packages)) if (!pk.has(k)) changeDoc('package', 'package_removed', k, was.version, undefined, body(was), ['package'], ['deletion'], `package ${was.name} removed`);
      }
    }
  }

  // --- processes (and the socket → process map)
  const procs = cfg.processes || cfg.sockets ? readProcesses(ctx.root, cfg.max_processes, cfg.sockets) : { processes: [], truncated: 0 };
  if (cfg.processes) {
    for (const p of procs.processes) {
      const user = names.user(p.uid);
      stateDoc('process', `${p.pid}:${p.start ?? ''}`, {
        process: { pid: p.pid, parent: { pid: p.ppid }, name: p.name, ...(p.executable ? { executable: p.executable } : {}), ...(p.args.length > 0 ? { args: [...p.args], command_line: p.args.join(' ') } : {}), ...(p.start !== undefined ? { start: new Date(p.start).toISOString() } : {}) },
        user: { id: p.uid, ...(user ? { name: user } : {}) },
      }, ['process'], ['info']);
    }
  }

  // --- listening sockets and exposure
  let listening = prev.listening;
  if (cfg.sockets) {
    const rules = parsePortRules(exposure.allowed_ports);
    const byInode = new Map<string, { pid: number; name: string; executable?: string }>();
    for (const p of procs.processes) for (const s of p.sockets ?? []) byInode.set(s, { pid: p.pid, name: p.name, ...(p.executable ? { executable: p.executable } : {}) });
    const socks = readListening(ctx.root);
    const next: Record<string, { process?: string; exposed: boolean; allowed: boolean }> = {};
    const body = (s: ListeningSocket, exposed: boolean, allowed: boolean): Record<string, unknown> => {
      const owner = byInode.get(s.inode);
      const user = names.user(s.uid);
      return {
        server: { ip: s.ip, port: s.port, address: s.ip },
        network: { transport: s.transport, type: s.family },
        ...(owner ? { process: { pid: owner.pid, name: owner.name, ...(owner.executable ? { executable: owner.executable } : {}) } } : {}),
        user: { id: s.uid, ...(user ? { name: user } : {}) },
        related: { ip: [s.ip] },
        auditkit: { inventory: { socket: { state: s.state, inode: s.inode }, exposure: { ...(exposed ? { allowed } : {}), wildcard: isWildcard(s.ip), policy: exposure.policy, source: 'local' } } },
      };
    };
    for (const s of socks) {
      const exposed = !(exposure.ignore_loopback && isLoopback(s.ip));
      const allowed = portAllowed(rules, s.port, s.transport);
      const key = `${s.transport}/${s.ip}/${s.port}`;
      const owner = byInode.get(s.inode);
      next[key] = { ...(owner ? { process: owner.name } : {}), exposed, allowed };
      stateDoc('socket', key, body(s, exposed, allowed), ['network'], ['info']);
      const was = prev.listening[key];
      if (!was && !first) changeDoc('socket', 'socket_opened', key, undefined, key, body(s, exposed, allowed), ['network'], ['start'], `${s.transport} ${s.ip}:${s.port} listening${owner ? ` (${owner.name})` : ''}`);
      // A port the policy does not allow, exposed now and not before (the first pass reports every one).
      if (exposed && !allowed && !(was && was.exposed && !was.allowed)) {
        changeDoc('exposure', 'port_exposed', key, was, next[key], body(s, exposed, allowed), ['network'], ['start', 'denied'], `${s.transport} port ${s.port} exposed on ${s.ip}${owner ? ` by ${owner.name}` : ''}, not allowed by exposure policy ${exposure.policy}`);
      }
    }
    if (!first) {
      for (const [key, was] of Object.entries(prev.listening)) {
        if (next[key]) continue;
        const [transport, ip, port] = key.split('/');
        changeDoc('socket', 'socket_closed', key, was, undefined, { server: { ip: ip ?? '', port: Number(port), address: ip ?? '' }, network: { transport: transport ?? '' } }, ['network'], ['end'], `${transport ?? ''} ${ip ?? ''}:${port ?? ''} no longer listening`);
      }
    }
    listening = next;
  }

  // --- logins (wtmp: sessions and boots; btmp: failed logins)
  const utmp: Record<string, { identity: string; end: number }> = { ...prev.utmp };
  if (cfg.logins) {
    for (const file of ['/var/log/wtmp', '/var/log/btmp']) {
      const r = readUtmpFile(rooted(ctx.root, file), prev.utmp[file], cfg.max_login_records);
      if (!r) continue;
      utmp[file] = { identity: r.identity, end: r.end };
      const failed = file.endsWith('btmp');
      for (const rec of r.records) {
        const d = loginDoc(rec, failed, file);
        if (!d) continue;
        counts['login'] = (counts['login'] ?? 0) + 1;
        const ts = rec.sec * 1000 + Math.floor(rec.usec / 1000);
        const b = base('login', ts);
        docs.push({ ...b, ...d.body, message: d.message, event: { ...d.event, dataset: 'auditkit.inventory', module: 'inventory', id: documentId('utmp', hid, file, rec.sec, rec.usec, rec.pid, rec.line, rec.user, rec.type) }, auditkit: { inventory: { ...inv(b), login: { type: rec.typeName, file } }, ...(rec.line ? { tty: rec.line } : {}) } });
      }
    }
  }

  return {
    docs,
    counts,
    state: { version: 1, users, groups, packages, listening, utmp, lastStateAt: sendState ? now : prev.lastStateAt, initialised: true },
  };
}

function loginDoc(rec: UtmpRecord, failed: boolean, file: string): { body: Record<string, unknown>; event: Record<string, unknown>; message: string } | undefined {
  const src = rec.ip ?? (/^[\d.]+$|^[0-9a-f:]+$/i.test(rec.host) && rec.host.includes('.') ? rec.host : undefined);
  const body: Record<string, unknown> = {};
  if (rec.user) {
    body['user'] = { name: rec.user };
    body['related'] = { user: [rec.user], ...(src ? { ip: [src] } : {}) };
  }
  if (src) body['source'] = { ip: src, address: src };
  else if (rec.host) body['source'] = { address: rec.host };
  if (rec.pid > 0) body['process'] = { pid: rec.pid };
  if (failed) {
    return { body, event: { kind: 'event', category: ['authentication'], type: ['start'], action: 'user_login', outcome: 'failure' }, message: `failed login of ${rec.user || '(unknown)'} on ${rec.line || '?'}${rec.host ? ` from ${rec.host}` : ''} (${path.basename(file)})` };
  }
  if (rec.type === UT.USER_PROCESS) return { body, event: { kind: 'event', category: ['authentication', 'session'], type: ['start'], action: 'user_login', outcome: 'success' }, message: `${rec.user} logged in on ${rec.line}${rec.host ? ` from ${rec.host}` : ''}` };
  if (rec.type === UT.DEAD_PROCESS && rec.line) return { body, event: { kind: 'event', category: ['session'], type: ['end'], action: 'user_logout' }, message: `session on ${rec.line} ended` };
  if (rec.type === UT.BOOT_TIME) return { body: {}, event: { kind: 'event', category: ['host'], type: ['start'], action: 'boot' }, message: 'system boot' };
  return undefined;
}
