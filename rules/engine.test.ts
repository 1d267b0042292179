import { assertValidDocument } from '../schema';
import { compilePath, compilePaths } from './condition';
import { createStreamingEngine } from './engine';
import { commandEvent } from './events';
import type { RuleDef } from './types';

const base: RuleDef = {
  id: 'r-rm', name: 'rm of root', description: 'd', type: 'match', severity: 'critical', risk_score: 99, enabled: true, version: 1,
  threat: [{ tactic: { id: 'TA0040', name: 'Impact' }, technique: { id: 'T1485', name: 'Data Destruction' } }],
  references: [], false_positives: [], author: ['auditkit'], tags: [], exceptions: [], tests: { match: [], no_match: [] },
  condition: { cmd: { name: ['rm'], flags_any: ['-r'], args_any: { equals: '/' } } },
};
const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('streaming engine', () => {
  it('raises a valid ECS alert with a deterministic id, and the same id on replay', () => {
    const ev = commandEvent('sudo rm -rf /', { id: 'e1', timestamp: at(1) });
    const a1 = createStreamingEngine([base]).process(ev);
    const a2 = createStreamingEngine([base]).process(ev);
    expect(a1).toHaveLength(1);
    expect(a1[0]?.event.id).toBe(a2[0]?.event.id);
    assertValidDocument(a1[0]);
    expect(a1[0]).toMatchObject({ event: { kind: 'alert', severity: 4, risk_score: 99 }, rule: { id: 'r-rm' }, threat: { technique: { id: ['T1485'] } }, auditkit: { alert: { source_event_ids: ['e1'], rule_type: 'match' } } });
  });

  it('folds repeats of the same rule and key within the window into one alert with a count', () => {
    const eng = createStreamingEngine([{ ...base, suppress: { by: ['host.name'], window: '10m' } }]);
    const ids = [1, 2, 3].map((s) => eng.process(commandEvent('rm -rf /', { id: `e${s}`, timestamp: at(s) }))[0]);
    expect(new Set(ids.map((a) => a?.event.id)).size).toBe(1);
    expect(ids[2]).toMatchObject({ auditkit: { alert: { count: 3 } } });
    const later = eng.process(commandEvent('rm -rf /', { id: 'e9', timestamp: at(3600) }))[0];
    expect(later?.event.id).not.toBe(ids[0]?.event.id);
  });

  it('applies rule and shared exceptions', () => {
    const eng = createStreamingEngine([{ ...base, exceptions: [{ field: 'host.name', equals: 'lab01' }] }], { exceptions: [{ rules: ['*'], condition: { field: 'user.name', equals: 'deployer' } }] });
    expect(eng.process(commandEvent('rm -rf /', { host: 'lab01', timestamp: at(1) }))).toHaveLength(0);
    expect(eng.process(commandEvent('rm -rf /', { user: 'deployer', timestamp: at(2) }))).toHaveLength(0);
    expect(eng.process(commandEvent('rm -rf /', { timestamp: at(3) }))).toHaveLength(1);
    expect(eng.stats().excepted).toBe(2);
  });

  it('keeps threshold state bounded and keyed on event time', () => {
    const rule: RuleDef = { ...base, id: 'r-th', type: 'threshold', condition: { field: 'event.outcome', equals: 'failure' }, threshold: { by: ['source.ip'], count: 3, window: '1m' } };
    const fail = (ip: string, s: number) => ({ '@timestamp': at(s), event: { outcome: 'failure', id: `${ip}-${s}` }, source: { ip }, host: { name: 'h' } });
    const eng = createStreamingEngine([rule], { maxKeys: 2 });
    expect(eng.process(fail('1.1.1.1', 0))).toHaveLength(0);
    expect(eng.process(fail('1.1.1.1', 10))).toHaveLength(0);
    expect(eng.process(fail('1.1.1.1', 100))).toHaveLength(0); // the first two are outside the window now
    expect(eng.process(fail('2.2.2.2', 101))).toHaveLength(0);
    expect(eng.process(fail('3.3.3.3', 102))).toHaveLength(0); // evicts the oldest key
    expect(eng.stats().evicted).toBe(1);
    expect(eng.process(fail('3.3.3.3', 103))).toHaveLength(0);
    expect(eng.process(fail('3.3.3.3', 104))[0]).toMatchObject({ auditkit: { alert: { count: 3, rule_type: 'threshold' } } });
  });

  it('never throws on a bad event', () => {
    const eng = createStreamingEngine([base]);
    expect(eng.process({})).toHaveLength(0);
    expect(eng.process({ '@timestamp': 'nope', process: { command_line: 42 } })).toHaveLength(0);
    expect(eng.stats().badTime).toBe(2);
  });
});

describe('alert reasons', () => {
  it('show the command the user typed with its control characters escaped', () => {
    const ev = commandEvent('rm -rf / \x1b]52;c;ZXZpbA==\x07\x1b[2J', { id: 'e1', timestamp: at(1) });
    const [a] = createStreamingEngine([base]).process(ev);
    const reason = String((a as unknown as { event: { reason?: string } }).event.reason);
    expect(reason).toContain('\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J');
    expect(reason).not.toMatch(/[\x00-\x1f\x7f]/);
  });
});

describe('compiled conditions', () => {
  it('shares one field getter per path among all rules (issue 20: one generated function each, with its bytecode)', () => {
    const get = compilePath('process.parent.args.1');
    expect(compilePath('process.parent.args.1')).toBe(get);
    expect(get({ process: { parent: { args: ['sh', '-c'] } } })).toBe('-c');
    expect(get({ 'process.parent.args.1': 'flat' })).toBe('flat');
  });

  it('reads many paths in one call exactly as one getter per path reads each', () => {
    const paths = ['event.category', 'process.args.0', 'process.args.3', 'process.parent.name', 'message', 'user.effective.name', 'a.b.c'];
    const docs = [
      { event: { category: ['process'] }, process: { args: ['ls', '-la'], parent: { name: 'bash' } }, message: 'm' },
      { 'event.category': 'flat', 'process.args': ['x'], user: { 'effective.name': 'root' } },
      { process: { 'parent.name': 'sshd', args: 'not-an-array' }, user: null, a: [{ b: { c: 1 } }] },
      { process: 7, event: 'x', message: null },
      {},
    ];
    const read = compilePaths(paths);
    const out: unknown[] = [];
    for (const d of docs) {
      read(d, out);
      expect(out).toEqual(paths.map((p) => compilePath(p)(d)));
    }
  });
});
