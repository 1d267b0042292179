import { createStreamingEngine, MAX_KEY_CHARS } from './engine';
import { commandEvent } from './events';
import { builtinRulesDir } from '../core';
import { loadRules, parseRuleText } from './schema';
import type { AlertDoc } from './alerts';
import type { RuleDef } from './types';

const RULE = 'ak-lnx-user-added-privileged-group';
const T = Date.UTC(2026, 10, 22, 9, 0, 0);
const at = (ms: number): string => new Date(T + ms).toISOString();

/** `sudo usermod -aG sudo NAME` on web01 as each source reports it. */
function sources(name: string, offset = 0): Array<Record<string, unknown>> {
  return [
    commandEvent(`sudo usermod -aG sudo ${name}`, { timestamp: at(offset), id: `sh-${name}-${offset}`, user: 'alice' }),
    {
      '@timestamp': at(offset + 40), host: { name: 'web01' }, user: { name: 'root' },
      event: { kind: 'event', category: ['process'], type: ['start'], action: 'ran-command', dataset: 'auditkit.auditd', id: `cmd-${name}-${offset}` },
      process: { name: 'sudo', executable: '/usr/bin/sudo', command_line: `usermod -aG sudo ${name}`, args: ['usermod', '-aG', 'sudo', name] },
    },
    {
      '@timestamp': at(offset + 50), host: { name: 'web01' }, user: { name: 'root' },
      event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', dataset: 'auditkit.auditd', id: `exec-${name}-${offset}` },
      process: { name: 'usermod', executable: '/usr/sbin/usermod', args: ['usermod', '-aG', 'sudo', name] },
    },
    {
      '@timestamp': at(offset + 200), host: { name: 'web01' }, user: { name: 'alice', effective: { name: 'root' }, target: { name } }, group: { name: 'sudo' },
      event: { kind: 'event', category: ['iam'], type: ['user', 'change'], action: 'modified-user-account', dataset: 'auditkit.auditd', id: `acct-${name}-${offset}` },
      process: { name: 'usermod', executable: '/usr/sbin/usermod' },
    },
  ];
}

describe('cross-source suppression', () => {
  let rules: RuleDef[];
  beforeAll(async () => {
    rules = (await loadRules([builtinRulesDir()])).filter((r) => r.id === RULE);
  });

  const run = (events: ReadonlyArray<Record<string, unknown>>): AlertDoc[] => {
    const eng = createStreamingEngine(rules);
    return events.flatMap((e) => [...eng.process(e)]);
  };
  const alertOf = (a: AlertDoc): { id: string; count: number; ids: string[] } => {
    const x = (a['auditkit'] as { alert: { count: number; source_event_ids: string[] } }).alert;
    return { id: a.event.id, count: x.count, ids: x.source_event_ids };
  };

  it('makes one alert with a count and every event id when the same usermod arrives from four sources', () => {
    const alerts = run(sources('mallory')).map(alertOf);
    expect(alerts).toHaveLength(4); // one per matching event, all updates of the same document
    expect(new Set(alerts.map((a) => a.id)).size).toBe(1);
    expect(alerts.at(-1)).toEqual({ id: alerts[0]?.id, count: 4, ids: ['sh-mallory-0', 'cmd-mallory-0', 'exec-mallory-0', 'acct-mallory-0'] });
  });

  it('merges the sources whatever order they arrive in', () => {
    const ev = sources('mallory');
    const alerts = run([ev[3], ev[1], ev[0], ev[2]] as Array<Record<string, unknown>>).map(alertOf);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(1);
    expect(alerts.at(-1)?.count).toBe(4);
  });

  it('keeps different target users, and the same change outside the window, apart', () => {
    const alerts = run([...sources('mallory'), ...sources('bob'), ...sources('mallory', 11 * 60_000)]).map(alertOf);
    const ids = [...new Set(alerts.map((a) => a.id))];
    expect(ids).toHaveLength(3);
    expect(ids.map((id) => Math.max(...alerts.filter((a) => a.id === id).map((a) => a.count)))).toEqual([4, 4, 4]);
  });

  it('accepts only the derived keys it knows besides field names', () => {
    const text = (by: string): string => `id: t-sup\nname: test rule\ndescription: test rule\nseverity: low\ncondition: { cmd: { name: [usermod] } }\nsuppress: { by: [host.name, ${by}], window: 5m }\ntests: { match: [usermod -L x] }\n`;
    expect(parseRuleText(text('$group'), 'ok.yml')[0]?.suppress?.by).toEqual(['host.name', '$group']);
    expect(() => parseRuleText(text('$nope'), 'bad.yml')).toThrow(expect.objectContaining({ code: 'AK_RULE_INVALID', message: expect.stringContaining('bad.yml:6') }));
  });
});

describe('grouping keys made of a long field', () => {
  const rule = parseRuleText(
    'id: t-long-key\nname: test rule\ndescription: test rule\nseverity: low\ncondition: { cmd: { name: [curl] } }\nsuppress: { by: [host.name, process.command_line], window: 5m }\ntests: { match: [curl x] }\n',
    'long-key.yml',
  );
  const ev = (cmd: string, i: number): Record<string, unknown> => commandEvent(cmd, { timestamp: at(i * 1000), id: `long-${i}` });
  const keyOf = (a: AlertDoc): string => (a['auditkit'] as { alert: { key: string } }).alert.key;

  it('keeps each key under the keyword limit, one alert per distinct command, the same one for a repeat', () => {
    const big = 'curl https://example.test/' + 'a'.repeat(200_000);
    const eng = createStreamingEngine(rule);
    const out = [ev(big, 0), ev(big + 'b', 1), ev(big, 2), ev('curl -s https://example.test/x', 3)].flatMap((e) => [...eng.process(e)]);
    expect(out).toHaveLength(4);
    for (const a of out) expect(keyOf(a).length).toBeLessThanOrEqual(MAX_KEY_CHARS);
    // The two long commands differ only at their end, after the kept head: still two alerts.
    expect(out[0]?.event.id).not.toBe(out[1]?.event.id);
    expect(keyOf(out[0] as AlertDoc)).not.toBe(keyOf(out[1] as AlertDoc));
    // A repeat inside the window updates the first alert.
    expect(out[2]?.event.id).toBe(out[0]?.event.id);
    expect((out[2]?.['auditkit'] as { alert: { count: number } }).alert.count).toBe(2);
// A short key is kept as written.
    expect(keyOf(out[3] as AlertDoc)).toMatch(/\u001fcurl -s https:\/\/example\.test\/x\u001f$/);
    expect(keyOf(out[3] as AlertDoc)).not.toContain('sha256:');
    // Same key, same id in another run (the scheduled service and restarts rely on it).
    const again = createStreamingEngine(rule).process(ev(big, 0));
    expect(again[0]?.event.id).toBe(out[0]?.event.id);
  });
});
