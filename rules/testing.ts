/**
 * Runs the `tests:` of rules: every `match` event must raise the rule and every
 * `no_match` event must not. Match rules test each event alone; stateful rules
 * (threshold, sequence, first_seen) get their events in order in a fresh engine,
 * and `match` passes when the LAST event raises an alert.
 */
import { createStreamingEngine, compileRule } from './engine';
import { commandEvent } from './events';
import type { RuleDef, TestEvent } from './types';

export interface RuleTestFailure {
  readonly rule: string;
  readonly kind: 'match' | 'no_match';
  readonly index: number;
  readonly event: string;
  readonly message: string;
}

export interface RuleTestReport {
  readonly rules: number;
  readonly cases: number;
  readonly failures: readonly RuleTestFailure[];
}

/** A test event: a string is a command line (the collector's process event); objects are used as given. */
export function testEventDoc(e: TestEvent, i = 0): Record<string, unknown> {
  if (typeof e === 'string') return commandEvent(e, { timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, i)).toISOString() });
  const base = { ...e } as Record<string, unknown>;
  if (!('@timestamp' in base)) base['@timestamp'] = new Date(Date.UTC(2026, 10, 22, 10, 0, i)).toISOString();
  return base;
}

const show = (e: TestEvent): string => (typeof e === 'string' ? e : JSON.stringify(e)).slice(0, 200);

export function runRuleTests(defs: readonly RuleDef[]): RuleTestReport {
  const failures: RuleTestFailure[] = [];
  let cases = 0;
  for (const def of defs) {
    const rule = compileRule({ ...def, enabled: true });
    if (def.type === 'match') {
      def.tests.match.forEach((e, i) => {
        cases++;
        const eng = createStreamingEngine([rule]);
        if (!eng.evaluate(testEventDoc(e, i)).matched.includes(def.id)) failures.push({ rule: def.id, kind: 'match', index: i, event: show(e), message: 'expected the rule to match this event; it did not' });
      });
      def.tests.no_match.forEach((e, i) => {
        cases++;
        const eng = createStreamingEngine([rule]);
        if (eng.evaluate(testEventDoc(e, i)).matched.includes(def.id)) failures.push({ rule: def.id, kind: 'no_match', index: i, event: show(e), message: 'expected the rule NOT to match this event; it did' });
      });
      continue;
    }
    for (const kind of ['match', 'no_match'] as const) {
      const evs = def.tests[kind];
      if (!evs.length) continue;
      cases++;
      const eng = createStreamingEngine([rule]);
      let lastAlerted = false;
      let any = false;
      evs.forEach((e, i) => {
        const n = eng.process(testEventDoc(e, i)).length;
        lastAlerted = n > 0;
        any ||= n > 0;
      });
      if (kind === 'match' && !lastAlerted) failures.push({ rule: def.id, kind, index: evs.length - 1, event: show(evs[evs.length - 1] as TestEvent), message: 'expected the last event of tests.match to raise an alert; it did not' });
      if (kind === 'no_match' && any) failures.push({ rule: def.id, kind, index: 0, event: `${evs.length} events`, message: 'expected tests.no_match to raise no alert; it raised one' });
    }
  }
  return { rules: defs.length, cases, failures };
}
