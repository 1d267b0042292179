/**
 * The two additions the fleet-wide rules need, in the engine both modes share:
 * `threshold.distinct` (count distinct hosts/accounts per key, not events) and
 * per-step `by` in sequences (a key read from host.ip on one host and from
 * source.ip on another), plus the built-in fleet pack's own tests.
 */
import * as path from 'node:path';
import { createStreamingEngine } from './engine';
import { loadRules, parseRuleText, RuleFileError } from './schema';
import { runRuleTests } from './testing';
import type { RuleDef } from './types';

const common = {
  name: 'test rule', description: 'a test rule', severity: 'high', risk_score: 73, enabled: true, version: 1,
  threat: [], references: [], false_positives: [], author: ['auditkit'], tags: [], exceptions: [], tests: { match: [], no_match: [] },
} as const;
const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const fail = (s: number, host: string, src: string, acct: string, id = `e${s}${host}${acct}`): Record<string, unknown> => ({
  '@timestamp': at(s), event: { category: ['authentication'], outcome: 'failure', id }, host: { name: host }, source: { ip: src }, user: { effective: { name: acct } },
});

const spray: RuleDef = {
  ...common, id: 't-spray', type: 'threshold',
  condition: { all: [{ field: 'event.category', equals: 'authentication' }, { field: 'event.outcome', equals: 'failure' }] },
  threshold: { by: ['source.ip'], distinct: 'host.name', count: 3, window: '10m' },
};

describe('threshold.distinct', () => {
  it('raises when the key reaches `count` distinct values, never on repeats of one value', () => {
    const eng = createStreamingEngine([spray]);
    for (let i = 0; i < 20; i++) expect(eng.process(fail(i, 'web-01', '203.0.113.1', 'root'))).toHaveLength(0);
    expect(eng.process(fail(30, 'app-01', '203.0.113.1', 'root'))).toHaveLength(0);
    const out = eng.process(fail(40, 'db-01', '203.0.113.1', 'root'));
    expect(out).toHaveLength(1);
    expect(out[0]?.auditkit.alert).toMatchObject({ count: 3, rule_type: 'threshold' });
    expect([...(out[0]?.related.hosts ?? [])].sort()).toEqual(['app-01', 'db-01', 'web-01']);
    // one more host within the window updates the same alert; a repeated host changes nothing
    const more = eng.process(fail(41, 'cache-01', '203.0.113.1', 'root'));
    expect(more.map((a) => [a.event.id, a.auditkit.alert.count])).toEqual([[out[0]?.event.id, 4]]);
    expect(eng.process(fail(42, 'web-01', '203.0.113.1', 'root'))).toHaveLength(0);
    // after the window a new burst raises a new alert
    for (const [i, h] of ['a', 'b'].entries()) expect(eng.process(fail(1000 + i, h, '203.0.113.1', 'root'))).toHaveLength(0);
    const next = eng.process(fail(1002, 'c', '203.0.113.1', 'root'));
    expect(next).toHaveLength(1);
    expect(next[0]?.event.id).not.toBe(out[0]?.event.id);
  });

  it('counts only values inside the window and keeps keys apart', () => {
    const eng = createStreamingEngine([spray]);
    eng.process(fail(0, 'web-01', '203.0.113.1', 'root'));
    eng.process(fail(10, 'app-01', '203.0.113.2', 'root'));
    eng.process(fail(20, 'db-01', '203.0.113.3', 'root'));
    eng.process(fail(30, 'app-01', '203.0.113.1', 'root'));
    // web-01's failure is 11 minutes old when the third host comes
    expect(eng.process(fail(660, 'db-01', '203.0.113.1', 'root'))).toHaveLength(0);
  });

  it('gives the same alert id on a replay (scheduled and streaming agree)', () => {
    const evs = [fail(1, 'a', 'x', 'root'), fail(2, 'b', 'x', 'root'), fail(3, 'c', 'x', 'root')];
    const ids = [0, 1].map(() => {
      const eng = createStreamingEngine([spray], { mode: 'scheduled' });
      return evs.flatMap((e) => eng.process(e)).map((a) => a.event.id);
    });
    expect(ids[0]).toHaveLength(1);
    expect(ids[0]).toEqual(ids[1]);
  });
});

const lateral: RuleDef = {
  ...common, id: 't-lateral', type: 'sequence',
  sequence: {
    by: ['host.ip'], window: '2m',
    steps: [
      { name: 'ssh', by: ['host.ip'], condition: { field: 'process.name', equals: 'ssh' } },
      { name: 'login', by: ['source.ip'], condition: { all: [{ field: 'event.category', equals: 'authentication' }, { field: 'event.outcome', equals: 'success' }] } },
    ],
  },
};
const ssh = (s: number, host: string, ips: string[]): Record<string, unknown> => ({ '@timestamp': at(s), event: { category: ['process'], id: `s${s}${host}` }, host: { name: host, ip: ips }, process: { name: 'ssh' } });
const login = (s: number, host: string, src: string): Record<string, unknown> => ({
  '@timestamp': at(s), event: { category: ['authentication'], outcome: 'success', id: `l${s}${host}` }, host: { name: host, ip: ['10.0.0.99'] }, source: { ip: src }, user: { name: 'root' },
});

describe('sequence steps with their own by', () => {
  it('links an event keyed on one field to a later one keyed on another, over every value of an array', () => {
    const eng = createStreamingEngine([lateral]);
    expect(eng.process(ssh(0, 'web-01', ['10.0.0.1', '192.168.5.1']))).toHaveLength(0);
    const out = eng.process(login(5, 'db-01', '192.168.5.1'));
    expect(out).toHaveLength(1);
    expect(out[0]?.auditkit.alert.source_event_ids).toEqual(['s0web-01', 'l5db-01']);
    expect([...(out[0]?.related.hosts ?? [])].sort()).toEqual(['db-01', 'web-01']);
  });

  it('needs the steps in order, within the window, from the right address', () => {
    const eng = createStreamingEngine([lateral]);
    expect(eng.process(login(0, 'db-01', '10.0.0.1'))).toHaveLength(0);
    expect(eng.process(ssh(1, 'web-01', ['10.0.0.1']))).toHaveLength(0);
    expect(eng.process(login(2, 'db-01', '10.0.0.2'))).toHaveLength(0);
    expect(eng.process(login(200, 'db-01', '10.0.0.1'))).toHaveLength(0);
  });

  it('rejects a step by: of another length, naming the key', () => {
    const text = [
      'id: t-bad-seq', 'name: bad sequence', 'description: steps disagree', 'type: sequence', 'severity: low',
      'sequence:', '  by: [host.ip]', '  window: 2m', '  steps:',
      '    - { name: a, by: [host.ip, user.name], condition: { field: process.name, equals: ssh } }',
      '    - { name: b, condition: { field: event.outcome, equals: success } }',
      'tests: { match: [] }', '',
    ].join('\n');
    expect(() => parseRuleText(text, 'bad.yml')).toThrow(RuleFileError);
    try {
      parseRuleText(text, 'bad.yml');
    } catch (err) {
      expect((err as RuleFileError).problems.map((p) => p.path)).toContain('sequence.steps.0.by');
    }
  });
});

describe('built-in fleet pack', () => {
  it('loads and passes its own tests', async () => {
    const rules = await loadRules([path.join(__dirname, 'builtin', 'fleet.yml')]);
    expect(rules.map((r) => r.id).sort()).toEqual([
      'ak-lnx-fleet-dangerous-burst-login-user', 'ak-lnx-fleet-first-login-user-host', 'ak-lnx-fleet-lateral-ssh',
      'ak-lnx-fleet-password-spray-accounts', 'ak-lnx-fleet-password-spray-hosts',
    ]);
    expect(runRuleTests(rules).failures).toEqual([]);
  });
});
