/**
 * Alert documents for `logs-auditkit.alerts-*`: ECS `event.kind: alert`, rule.*,
 * threat.* (MITRE ATT&CK), event.severity / event.risk_score, a readable
 * event.reason, the key fields of the source event, and the kit's
 * auditkit.alert.* fields. Ids are deterministic (rule + key + event time or
 * source event id), so re-running a rule over the same events never duplicates.
 * Converted Sigma rules keep their author and licence (DRL 1.1 requires it).
 */
import { escapeControlAll, isoTime } from '../core';
import { ECS_VERSION, SEVERITY_NUMBER, type AlertDocument } from '../schema';
import { compilePath, type Doc } from './condition';
import type { RuleDef } from './types';

/** The typed alert document of schema/ (the name rules and their callers have used). */
export type AlertDoc = AlertDocument;

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
  // The reason is text for a person: the user's words in it are shown with their control characters escaped.
  const e = (v: unknown): string => escapeControlAll(String(v));
  let s = `${def.name}`;
  if (user !== undefined) s += ` by ${e(user)}${login !== undefined && login !== user ? ` (login ${e(login)})` : ''}`;
  if (host !== undefined) s += ` on ${e(host)}`;
  if (src !== undefined) s += ` from ${e(src)}`;
  if (typeof cmd === 'string') s += `: ${e(cmd.length > 300 ? cmd.slice(0, 300) + '…' : cmd)}`;
  if (count > 1) s += ` (${count} events)`;
  return s;
}

interface RuleStatics {
  /** rule.* without author (copied per alert). */
  readonly rule: Readonly<Record<string, unknown>>;
  /** A fresh threat.* object, or undefined when the rule names no technique. */
  readonly threat: (() => Record<string, unknown>) | undefined;
}

/** The parts of an alert that depend only on the rule, computed once per rule definition. */
const staticCache = new WeakMap<RuleDef, RuleStatics>();
function staticsOf(def: RuleDef): RuleStatics {
  const hit = staticCache.get(def);
  if (hit) return hit;
  const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];
  const tactic = { id: uniq(def.threat.map((t) => t.tactic.id)), name: uniq(def.threat.map((t) => t.tactic.name)), reference: uniq(def.threat.map((t) => `https://attack.mitre.org/tactics/${t.tactic.id}/`)) };
  const techs = def.threat.flatMap((t) => (t.technique ? [t.technique] : []));
  const technique = techs.length
    ? { id: uniq(techs.map((t) => t.id)), name: uniq(techs.map((t) => t.name)), reference: uniq(techs.map((t) => `https://attack.mitre.org/techniques/${t.id.replace('.', '/')}/`)) }
    : undefined;
  const statics: RuleStatics = {
    rule: {
      id: def.id,
      name: def.name,
      description: def.description,
      version: String(def.version),
      ...(def.category ? { category: def.category } : {}),
      ruleset: def.origin ? 'sigma' : 'auditkit',
      author: undefined,
      ...(def.license ? { license: def.license } : {}),
      ...(def.references[0] ? { reference: def.references[0] } : {}),
      ...(def.origin ? { uuid: def.origin.id } : {}),
    },
    threat: def.threat.length
      ? () => ({
          framework: 'MITRE ATT&CK',
          tactic: { id: [...tactic.id], name: [...tactic.name], reference: [...tactic.reference] },
          ...(technique ? { technique: { id: [...technique.id], name: [...technique.name], reference: [...technique.reference] } } : {}),
        })
      : undefined,
  };
  staticCache.set(def, statics);
  return statics;
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
  // Distinct values in first-seen order (a handful: arrays, not Sets).
  const users: string[] = [];
  const ips: string[] = [];
  const hosts: string[] = [];
  const add = (to: string[], v: unknown): void => {
    if (typeof v === 'string' && !to.includes(v)) to.push(v);
  };
  for (const e of a.events) {
    add(users, G.user(e));
    add(users, G.login(e));
    add(users, G.effective(e));
    add(ips, G.src(e));
    add(ips, G.dst(e));
    add(hosts, G.host(e));
  }
  const st = staticsOf(def);
  const firstIso = isoTime(a.first);
  const lastIso = a.last === a.first ? firstIso : isoTime(a.last);
  // Assigning onto `doc` keeps the key order (and values) of `{ ...doc, ... }` without the copy.
  const out = doc;
  out['@timestamp'] = lastIso;
  out['ecs'] = { version: ECS_VERSION };
  out['data_stream'] = { type: 'logs', dataset: 'auditkit.alerts', namespace: a.namespace ?? 'default' };
  out['agent'] = { type: 'auditkit' };
  const evOut: Record<string, unknown> = { kind: 'alert' };
  if (category !== undefined) evOut['category'] = category;
  if (type !== undefined) evOut['type'] = type;
  evOut['dataset'] = 'auditkit.alerts';
  evOut['id'] = a.id;
  evOut['severity'] = SEVERITY_NUMBER[def.severity];
  evOut['risk_score'] = def.risk_score;
  evOut['reason'] = reasonOf(def, ev, a.count);
  evOut['start'] = firstIso;
  evOut['end'] = lastIso;
  out['event'] = evOut;
  out['rule'] = { ...st.rule, author: [...def.author] };
  if (st.threat) out['threat'] = st.threat();
  const related: Record<string, unknown> = {};
  if (users.length) related['user'] = users;
  if (ips.length) related['ip'] = ips;
  if (hosts.length) related['hosts'] = hosts;
  out['related'] = related;
  out['tags'] = [...def.tags];
  const dataset = a.sourceIndex ? undefined : getDataset(ev);
  out['auditkit'] = {
    alert: {
      key: a.key,
      count: a.count,
      first_seen: firstIso,
      last_seen: lastIso,
      severity: def.severity,
      rule_type: def.type,
      source_event_ids: [...a.ids],
      mode: a.mode,
      ...(a.sourceIndex ? { source_index: a.sourceIndex } : typeof dataset === 'string' ? { source_index: `logs-${dataset}-${a.namespace ?? 'default'}` } : {}),
    },
  };
  if (!('host' in out)) out['host'] = { name: 'unknown' };
  // Built by assignment for speed (one object, key order kept); its shape is AlertDocument's.
  return out as unknown as AlertDoc;
}
