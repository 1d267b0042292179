/**
 * Alert documents for `logs-auditkit.alerts-*`: ECS `event.kind: alert`, rule.*,
 * threat.* (MITRE ATT&CK), event.severity / event.risk_score, a readable
 * event.reason, the key fields of the source event, and the kit's
 * auditkit.alert.* fields. Ids are deterministic (rule + key + event time or
 * source event id), so re-running a rule over the same events never duplicates.
 * Converted Sigma rules keep their author and licence (DRL 1.1 requires it).
 */
import { ECS_VERSION } from '../schema';
import { compilePath, type Doc } from './condition';
import type { RuleDef, Severity } from './types';

export type AlertDoc = Record<string, unknown> & { readonly event: { readonly id: string } };

/** ECS event.severity is numeric: 1 low … 4 critical. */
export const SEVERITY_NUMBER: Readonly<Record<Severity, number>> = { low: 1, medium: 2, high: 3, critical: 4 };

export interface AlertInput {
  readonly id: string;
  /** The triggering event first, then earlier ones (sequence/threshold). */
  readonly events: readonly Doc[];
  readonly ids: readonly string[];
  readonly first: number;
  readonly last: number;
  readonly count: number;
  readonly key: string;
  readonly mode: 'streaming' | 'scheduled';
  readonly namespace?: string | undefined;
  readonly sourceIndex?: string | undefined;
}

/** Source fields copied into the alert (what an analyst needs without opening the event). */
const COPY = [
  'host.name',
  'host.hostname',
  'host.id',
  'host.ip',
  'user.name',
  'user.id',
  'user.effective.name',
  'user.effective.id',
  'source.ip',
  'source.port',
  'process.command_line',
  'process.args',
  'process.executable',
  'process.name',
  'process.pid',
  'process.working_directory',
  'process.entry_leader.user.name',
  'process.entry_leader.user.id',
  'process.parent.executable',
  'file.path',
  'destination.ip',
  'destination.port',
  'event.category',
  'event.type',
  'event.action',
  'event.outcome',
  'auditkit.tty',
  'auditkit.session.id',
] as const;
const getters = COPY.map((f) => [f.split('.'), compilePath(f)] as const);
const getDataset = compilePath('event.dataset');

function setPath(o: Record<string, unknown>, parts: readonly string[], v: unknown): void {
  let cur = o;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i] as string;
    let next = cur[k];
    if (typeof next !== 'object' || next === null) {
      next = {};
      cur[k] = next;
    }
    cur = next as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = v;
}

const G = {
  user: compilePath('user.name'),
  login: compilePath('process.entry_leader.user.name'),
  effective: compilePath('user.effective.name'),
  host: compilePath('host.name'),
  cmd: compilePath('process.command_line'),
  src: compilePath('source.ip'),
  dst: compilePath('destination.ip'),
};

function reasonOf(def: RuleDef, ev: Doc, count: number): string {
  const user = G.user(ev);
  const login = G.login(ev);
  const host = G.host(ev);
  const cmd = G.cmd(ev);
  const src = G.src(ev);
  let s = `${def.name}`;
  if (user !== undefined) s += ` by ${String(user)}${login !== undefined && login !== user ? ` (login ${String(login)})` : ''}`;
  if (host !== undefined) s += ` on ${String(host)}`;
  if (src !== undefined) s += ` from ${String(src)}`;
  if (typeof cmd === 'string') s += `: ${cmd.length > 300 ? cmd.slice(0, 300) + '…' : cmd}`;
  if (count > 1) s += ` (${count} events)`;
  return s;
}

export function buildAlert(def: RuleDef, a: AlertInput): AlertDoc {
  const ev = a.events[0] ?? {};
  const doc: Record<string, unknown> = {};
  for (const [parts, g] of getters) {
    const v = g(ev);
    if (v !== undefined && v !== null) setPath(doc, parts, v);
  }
  const event = (doc['event'] as Record<string, unknown> | undefined) ?? {};
  const category = event['category'];
  const type = event['type'];
  const users = new Set<string>();
  const ips = new Set<string>();
  const hosts = new Set<string>();
  for (const e of a.events) {
    for (const g of [G.user, G.login, G.effective]) {
      const v = g(e);
      if (typeof v === 'string') users.add(v);
    }
    for (const g of [G.src, G.dst]) {
      const v = g(e);
      if (typeof v === 'string') ips.add(v);
    }
    const h = G.host(e);
    if (typeof h === 'string') hosts.add(h);
  }
  const threat = def.threat.length
    ? {
        framework: 'MITRE ATT&CK',
        tactic: {
          id: [...new Set(def.threat.map((t) => t.tactic.id))],
          name: [...new Set(def.threat.map((t) => t.tactic.name))],
          reference: [...new Set(def.threat.map((t) => `https://attack.mitre.org/tactics/${t.tactic.id}/`))],
        },
        ...(def.threat.some((t) => t.technique)
          ? {
              technique: {
                id: [...new Set(def.threat.flatMap((t) => (t.technique ? [t.technique.id] : [])))],
                name: [...new Set(def.threat.flatMap((t) => (t.technique ? [t.technique.name] : [])))],
                reference: [...new Set(def.threat.flatMap((t) => (t.technique ? [`https://attack.mitre.org/techniques/${t.technique.id.replace('.', '/')}/`] : [])))],
              },
            }
          : {}),
      }
    : undefined;
  const out: Record<string, unknown> = {
    ...doc,
    '@timestamp': new Date(a.last).toISOString(),
    ecs: { version: ECS_VERSION },
    data_stream: { type: 'logs', dataset: 'auditkit.alerts', namespace: a.namespace ?? 'default' },
    agent: { type: 'auditkit' },
    event: {
      kind: 'alert',
      ...(category !== undefined ? { category } : {}),
      ...(type !== undefined ? { type } : {}),
      dataset: 'auditkit.alerts',
      id: a.id,
      severity: SEVERITY_NUMBER[def.severity],
      risk_score: def.risk_score,
      reason: reasonOf(def, ev, a.count),
      start: new Date(a.first).toISOString(),
      end: new Date(a.last).toISOString(),
    },
    rule: {
      id: def.id,
      name: def.name,
      description: def.description,
      version: String(def.version),
      ...(def.category ? { category: def.category } : {}),
      ruleset: def.origin ? 'sigma' : 'auditkit',
      author: [...def.author],
      ...(def.license ? { license: def.license } : {}),
      ...(def.references[0] ? { reference: def.references[0] } : {}),
      ...(def.origin ? { uuid: def.origin.id } : {}),
    },
    ...(threat ? { threat } : {}),
    related: { ...(users.size ? { user: [...users] } : {}), ...(ips.size ? { ip: [...ips] } : {}), ...(hosts.size ? { hosts: [...hosts] } : {}) },
    tags: [...def.tags],
    auditkit: {
      alert: {
        key: a.key,
        count: a.count,
        first_seen: new Date(a.first).toISOString(),
        last_seen: new Date(a.last).toISOString(),
        severity: def.severity,
        rule_type: def.type,
        source_event_ids: [...a.ids],
        mode: a.mode,
        ...(a.sourceIndex ? { source_index: a.sourceIndex } : typeof getDataset(ev) === 'string' ? { source_index: `logs-${String(getDataset(ev))}-${a.namespace ?? 'default'}` } : {}),
      },
    },
  };
  if (!('host' in out)) out['host'] = { name: 'unknown' };
  return out as AlertDoc;
}
