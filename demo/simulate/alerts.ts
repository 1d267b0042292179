/**
 * Reference alerts for a simulated fleet: what the built-in rules are expected to
 * raise on it, as `auditkit.alerts` documents. Tests and reports need alerts
 * before (and independently of) the rules engine; the demo later replaces these
 * by the engine's own. Deliberately small predicates over the ECS documents, not
 * a second rules engine.
 */
import { documentId, eventEnvelope, getField, streamName, type Severity } from '../../schema';
import type { SimDocument } from './ecs';


export interface ReferenceRule {
  readonly id: string;
  readonly name: string;
  readonly severity: Severity;
  readonly technique: readonly [id: string, name: string];
  readonly tactic: string;
  readonly datasets: readonly string[];
  match(doc: Record<string, unknown>): boolean;
}

const str = (d: Record<string, unknown>, f: string): string => {
  const v = getField(d, f);
  return typeof v === 'string' ? v : '';
};
const isExec = (d: Record<string, unknown>): boolean => str(d, 'event.action') === 'executed';

export const REFERENCE_RULES: readonly ReferenceRule[] = [
  {
    id: 'auditkit.linux.reverse_shell', name: 'Reverse shell over /dev/tcp', severity: 'critical', technique: ['T1059.004', 'Unix Shell'], tactic: 'Execution',
    datasets: ['auditkit.commands', 'auditkit.auditd'], match: (d) => isExec(d) && /\/dev\/(tcp|udp)\//.test(str(d, 'process.command_line')),
  },
  {
    id: 'auditkit.linux.uid0_account', name: 'New account with uid 0', severity: 'critical', technique: ['T1136.001', 'Local Account'], tactic: 'Persistence',
    datasets: ['auditkit.auditd'], match: (d) => str(d, 'event.action') === 'added-user-account' && str(d, 'user.target.id') === '0',
  },
  {
    id: 'auditkit.linux.sudo_shell', name: 'Root shell spawned through sudo', severity: 'high', technique: ['T1548.003', 'Sudo and Sudo Caching'], tactic: 'Privilege Escalation',
    datasets: ['auditkit.auditd'],
    match: (d) => isExec(d) && /^\/(usr\/)?bin\/(ba|da|z)?sh$/.test(str(d, 'process.executable')) && str(d, 'user.name') === 'root'
      && str(d, 'process.entry_leader.user.name') !== '' && str(d, 'process.entry_leader.user.name') !== 'root' && (getField(d, 'process.args') as unknown[] | undefined)?.length === 1,
  },
  {
    id: 'auditkit.linux.web_user_shell', name: 'Web server account ran a shell', severity: 'high', technique: ['T1505.003', 'Web Shell'], tactic: 'Persistence',
    datasets: ['auditkit.auditd'], match: (d) => isExec(d) && str(d, 'user.name') === 'www-data' && /^(ba|da)?sh$/.test(str(d, 'process.name')),
  },
  {
    id: 'auditkit.linux.cron_modified', name: 'Crontab replaced from a pipeline', severity: 'high', technique: ['T1053.003', 'Cron'], tactic: 'Persistence',
    datasets: ['auditkit.commands'], match: (d) => isExec(d) && /\|\s*crontab\s+-\s*$|>>?\s*\/etc\/crontab/.test(str(d, 'process.command_line')),
  },
  {
    id: 'auditkit.linux.download_to_tmp', name: 'Download into /tmp', severity: 'medium', technique: ['T1105', 'Ingress Tool Transfer'], tactic: 'Command and Control',
    datasets: ['auditkit.commands', 'auditkit.auditd'], match: (d) => isExec(d) && /\b(wget|curl)\b.*\s-(O|o)\s*\/tmp\//.test(str(d, 'process.command_line')),
  },
  {
    id: 'auditkit.linux.shadow_read', name: 'Password hashes read (/etc/shadow)', severity: 'medium', technique: ['T1003.008', '/etc/passwd and /etc/shadow'], tactic: 'Credential Access',
    datasets: ['auditkit.commands', 'auditkit.auditd'], match: (d) => isExec(d) && /\/etc\/shadow\b/.test(str(d, 'process.command_line')) && str(d, 'process.name') !== 'useradd',
  },
  {
    id: 'auditkit.linux.history_cleared', name: 'Shell history cleared', severity: 'medium', technique: ['T1070.003', 'Clear Command History'], tactic: 'Defense Evasion',
    datasets: ['auditkit.commands'], match: (d) => isExec(d) && /^(history\s+-c|unset\s+HISTFILE|rm\s.*\.bash_history|ln\s.*\/dev\/null\s+\S*\.bash_history)/.test(str(d, 'process.command_line')),
  },
  {
    id: 'auditkit.linux.package_installed', name: 'Package installed', severity: 'low', technique: ['T1072', 'Software Deployment Tools'], tactic: 'Execution',
    datasets: ['auditkit.commands'], match: (d) => isExec(d) && /\bapt(-get)?\s+install\b/.test(str(d, 'process.command_line')),
  },
];

export const BRUTEFORCE_RULE = {
  id: 'auditkit.linux.ssh_bruteforce_success', name: 'Password guessing followed by a successful login', severity: 'high' as Severity,
  technique: ['T1110.001', 'Password Guessing'] as const, tactic: 'Credential Access',
};

const SEVERITY_SCORE: Readonly<Record<Severity, number>> = { low: 21, medium: 47, high: 73, critical: 99 };

function alertDoc(
  rule: { id: string; name: string; severity: Severity; technique: readonly [string, string]; tactic: string },
  src: SimDocument, namespace: string, extra: { count?: number; first?: string; sourceIds?: string[] } = {},
): SimDocument {
  const d = src.doc;
  const srcId = str(d, 'event.id');
  const ts = str(d, '@timestamp');
  const pick = (f: string): unknown => getField(d, f);
  const proc = pick('process') as Record<string, unknown> | undefined;
  const procCopy = proc
    ? Object.fromEntries(Object.entries(proc).filter(([k]) => ['pid', 'name', 'executable', 'command_line', 'args', 'working_directory', 'entry_leader', 'parent', 'exit_code'].includes(k)))
    : undefined;
  return {
    dataset: 'alerts',
    doc: {
      '@timestamp': ts,
      ...eventEnvelope('alerts', namespace),
      message: `${rule.name} on ${str(d, 'host.name')}`,
      event: {
        kind: 'alert', category: pick('event.category'), type: ['info'], action: rule.id, dataset: 'auditkit.alerts', id: documentId('alert', rule.id, srcId),
        severity: SEVERITY_SCORE[rule.severity], risk_score: SEVERITY_SCORE[rule.severity],
      },
      host: pick('host'),
      agent: pick('agent'),
      ...(pick('user') ? { user: pick('user') } : {}),
      ...(procCopy ? { process: procCopy } : {}),
      ...(pick('source') ? { source: pick('source') } : {}),
      related: pick('related'),
      rule: { id: rule.id, name: rule.name, ruleset: 'auditkit-linux', category: rule.tactic },
      threat: { framework: 'MITRE ATT&CK', technique: { id: [rule.technique[0]], name: [rule.technique[1]] }, tactic: { name: [rule.tactic] } },
      auditkit: {
        ...(str(d, 'auditkit.tty') ? { tty: str(d, 'auditkit.tty') } : {}),
        alert: {
          severity: rule.severity, rule_type: extra.count ? 'sequence' : 'match', mode: 'streaming', count: extra.count ?? 1,
          first_seen: extra.first ?? ts, last_seen: ts, key: `${str(d, 'host.name')}|${str(d, 'user.name') || str(d, 'user.effective.name')}`,
          source_event_ids: extra.sourceIds ?? [srcId], source_index: streamName(src.dataset, namespace),
        },
      },
    },
  };
}

/** The alerts the reference rules raise on these documents (which must be in time order). */
export function referenceAlerts(docs: readonly SimDocument[], namespace = 'default'): SimDocument[] {
  const out: SimDocument[] = [];
  const failures = new Map<string, { times: number[]; ids: string[] }>();
  for (const src of docs) {
    const d = src.doc;
    const ds = str(d, 'event.dataset');
    for (const r of REFERENCE_RULES) if (r.datasets.includes(ds) && r.match(d)) out.push(alertDoc(r, src, namespace));
    if (ds === 'auditkit.auditd' && str(d, 'event.action') === 'logged-in') {
      const key = `${str(d, 'host.name')}|${str(d, 'source.ip')}`;
      const t = Date.parse(str(d, '@timestamp'));
      const f = failures.get(key) ?? { times: [], ids: [] };
      if (str(d, 'event.outcome') === 'failure') {
        f.times.push(t);
        f.ids.push(str(d, 'event.id'));
        failures.set(key, f);
      } else {
        const recent = f.times.filter((x) => t - x <= 30 * 60_000);
        if (recent.length >= 10) {
          out.push(alertDoc(BRUTEFORCE_RULE, src, namespace, { count: recent.length + 1, first: new Date(recent[0] as number).toISOString(), sourceIds: [...f.ids.slice(-recent.length), str(d, 'event.id')].slice(-50) }));
        }
        failures.delete(key);
      }
    }
  }
  return out;
}
