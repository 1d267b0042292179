/**
 * Inventory: load (from auditkit.yml's `inventory:` or a separate YAML), resolve
 * each host's settings through its groups, and select hosts by --group/--host.
 */
import { promises as fsp } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { AuditkitError, ExitCode, expandHome, loadConfig } from '../core';
import { inventoryConfigSchema, type InventoryConfig } from './config';

export interface ResolvedHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly key?: string;
  readonly agent?: string;
  /** Name of the environment variable holding the password (never the password). */
  readonly passwordEnv?: string;
  /** Name of the environment variable holding the sudo password (default: passwordEnv). */
  readonly sudoPasswordEnv?: string;
  readonly sudo: boolean;
  readonly tags: readonly string[];
  /** Groups the host is in (directly or through nesting). */
  readonly groups: readonly string[];
  readonly connectTimeoutMs: number;
  /** Overrides of the collector section for this host, merged in group order. */
  readonly collector: Readonly<Record<string, unknown>>;
}

/**
 * Load an inventory file: either a whole auditkit.yml-like file with an
 * `inventory:` key, or a file whose top level is the inventory itself.
 */
export async function loadInventoryFile(file: string): Promise<InventoryConfig> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new AuditkitError('AK_DEPLOY_INVENTORY', 'inventory file cannot be read; check the --inventory path', { location: { file }, exitCode: ExitCode.Config, cause: err });
  }
  let wrapped = false;
  try {
    const js = parseDocument(text).toJS() as unknown;
    wrapped = typeof js === 'object' && js !== null && 'inventory' in js;
  } catch {
    /* loadConfig reports syntax errors with positions */
  }
  // Only the inventory is read from a wrapped file; its other sections belong to the config loader.
  const schema = wrapped ? z.object({ inventory: inventoryConfigSchema }) : inventoryConfigSchema;
  const loaded = await loadConfig(schema, { file, env: {} });
  return wrapped ? (loaded.value as { inventory: InventoryConfig }).inventory : (loaded.value as InventoryConfig);
}

/** Depth of each group: 0 for groups no other group contains. */
function groupDepths(inv: InventoryConfig): Map<string, number> {
  const parents = new Map<string, string[]>();
  for (const [g, def] of Object.entries(inv.groups)) for (const c of def.groups) parents.set(c, [...(parents.get(c) ?? []), g]);
  const memo = new Map<string, number>();
  const depth = (g: string, seen: Set<string>): number => {
    const m = memo.get(g);
    if (m !== undefined) return m;
    if (seen.has(g)) return 0;
    seen.add(g);
    const d = Math.max(-1, ...(parents.get(g) ?? []).map((p) => depth(p, seen))) + 1;
    memo.set(g, d);
    return d;
  };
  for (const g of Object.keys(inv.groups)) depth(g, new Set());
  return memo;
}

/** Every host of a group, through nested groups. */
export function groupMembers(inv: InventoryConfig, group: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(group)) return out;
  seen.add(group);
  const def = inv.groups[group];
  if (!def) return out;
  for (const h of def.hosts) out.add(h);
  for (const c of def.groups) for (const h of groupMembers(inv, c, seen)) out.add(h);
  return out;
}

export function resolveHosts(inv: InventoryConfig): ResolvedHost[] {
  const depths = groupDepths(inv);
  const groupOrder = Object.keys(inv.groups);
  const memberOf = new Map<string, string[]>();
  for (const g of groupOrder) for (const h of groupMembers(inv, g)) memberOf.set(h, [...(memberOf.get(h) ?? []), g]);
  return Object.entries(inv.hosts).map(([name, h]) => {
    const groups = (memberOf.get(name) ?? []).sort((a, b) => (depths.get(a) ?? 0) - (depths.get(b) ?? 0) || groupOrder.indexOf(a) - groupOrder.indexOf(b));
    const layers = [inv.defaults, ...groups.map((g) => inv.groups[g]).filter((x) => x !== undefined), h];
    const pick = <K extends 'port' | 'user' | 'key' | 'agent' | 'password_env' | 'sudo_password_env' | 'sudo' | 'connect_timeout_ms'>(k: K): (typeof h)[K] | undefined => {
      let v: (typeof h)[K] | undefined;
      for (const l of layers) if (l[k] !== undefined) v = l[k] as (typeof h)[K];
      return v;
    };
    const collector: Record<string, unknown> = {};
    for (const l of layers) Object.assign(collector, l.collector ?? {});
    const user = pick('user') ?? 'root';
    const key = pick('key');
    const agentSetting = pick('agent');
    const agent = agentSetting === true ? process.env['SSH_AUTH_SOCK'] : agentSetting === false ? undefined : agentSetting;
    const passwordEnv = pick('password_env');
    const sudoPasswordEnv = pick('sudo_password_env');
    return {
      name,
      address: h.address ?? name,
      port: pick('port') ?? 22,
      user,
      ...(key ? { key: expandHome(key) } : {}),
      ...(agent ? { agent } : {}),
      ...(passwordEnv ? { passwordEnv } : {}),
      ...(sudoPasswordEnv ? { sudoPasswordEnv } : {}),
      sudo: pick('sudo') ?? user !== 'root',
      tags: h.tags,
      groups,
      connectTimeoutMs: pick('connect_timeout_ms') ?? 10_000,
      collector,
    };
  });
}

/** Hosts chosen by --group/--host (the union); none given: every host. */
export function selectHosts(inv: InventoryConfig, sel: { groups?: readonly string[]; hosts?: readonly string[] }): ResolvedHost[] {
  const all = resolveHosts(inv);
  const groups = sel.groups ?? [];
  const hosts = sel.hosts ?? [];
  if (all.length === 0) {
    throw new AuditkitError('AK_DEPLOY_NO_HOSTS', 'the inventory has no hosts: add them under inventory.hosts (in auditkit.yml or the --inventory file)', { exitCode: ExitCode.Config });
  }
  if (groups.length === 0 && hosts.length === 0) return all;
  const wanted = new Set<string>();
  for (const g of groups) {
    if (!(g in inv.groups)) throw new AuditkitError('AK_DEPLOY_SELECTION', `--group ${g}: no such group; the inventory has: ${Object.keys(inv.groups).join(', ') || '(none)'}`, { exitCode: ExitCode.Usage });
    for (const h of groupMembers(inv, g)) wanted.add(h);
  }
  for (const h of hosts) {
    if (!(h in inv.hosts)) throw new AuditkitError('AK_DEPLOY_SELECTION', `--host ${h}: no such host in the inventory`, { exitCode: ExitCode.Usage });
    wanted.add(h);
  }
  return all.filter((h) => wanted.has(h.name));
}
