import fc from 'fast-check';
import { RE2JS } from 're2js';
import { loadRules } from './schema';
import { builtinRulesDir } from '../core';
import { foldCase } from './prefilter/literals';
import { regexLiterals } from './prefilter/regex-literals';
import { compileRegex } from './regex';
import { importSigmaDir } from './sigma';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

describe('rule regexes', () => {
  it('take no literal from RE2 syntax the literal parser does not model (a guess would hide matches)', () => {
    // Each of these matches a string without the literal a JavaScript reading would require.
    for (const [src, input] of [
      ['\\Qa.b\\E', 'a.b'],
      ['[[:alpha:]]xyz', 'qxyz'],
      ['\\Aabc\\z', 'abc'],
      ['\\x{41}bcd', 'Abcd'],
      ['\\pLabc', 'éabc'],
      ['[\\pL]abc', 'éabc'],
    ] as const) {
      expect(RE2JS.compile(src).test(input)).toBe(true);
      const lits = regexLiterals(src);
      if (lits) expect(lits.some((l) => input.toLowerCase().includes(l))).toBe(true);
      expect(compileRegex(src)(input)).toBe(true);
    }
  });

  it('answer like the automaton alone on every built-in and imported Sigma regex, in both case modes, over arbitrary and near-miss inputs', async () => {
    const rules = await loadRules([builtinRulesDir()]);
    // The case-sensitive check looks for literals as the pattern writes them: Sigma's regexes are mostly case-sensitive.
    const sigma = path.resolve(__dirname, '../../shared/corpora/sigma');
    if (existsSync(sigma)) rules.push(...(await importSigmaDir(sigma)).results.flatMap((r) => (r.ok ? [r.rule] : [])));
    const sources = new Set<string>();
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') {
        for (const [k, v] of Object.entries(x)) {
          if (k !== 'regex' && k !== 'name_regex') walk(v);
          else for (const s of [v].flat()) if (typeof s === 'string') sources.add(s);
        }
      }
    };
    rules.forEach((r) => walk([r.condition, r.exceptions, r.type === 'sequence' ? r.sequence : undefined]));
    expect(sources.size).toBeGreaterThan(50);
    const pats = [...sources];
    // Inputs built from the patterns' own literals, cases flipped, with the characters whose case folding differs
    // between RE2 and toLowerCase (long s, Kelvin sign) mixed in: where a literal check could go wrong.
    const piece = fc.oneof(
      fc.constantFrom(...pats.flatMap((p) => [...(regexLiterals(p) ?? []), ...(regexLiterals(p, false) ?? [])])),
      fc.constantFrom('ſ', 'K', 'İ', 'é', ' ', '/', '.', '-p ', 'BEGIN RSA PRIVATE KEY', '\n', '\r'),
      fc.string({ maxLength: 6 }),
    );
    const flip = (s: string, mask: number): string => [...s].map((c, i) => ((mask >> i % 30) & 1 ? c.toUpperCase() : c)).join('');
    const memo = new Map<string, readonly [RE2JS, (s: string) => boolean]>();
    const both = (src: string, nocase: boolean): readonly [RE2JS, (s: string) => boolean] => {
      const k = `${nocase}${src}`;
      let v = memo.get(k);
      if (!v) memo.set(k, (v = [RE2JS.compile(src, nocase ? RE2JS.CASE_INSENSITIVE : 0), compileRegex(src, nocase)]));
      return v;
    };
    fc.assert(
      fc.property(fc.constantFrom(...pats), fc.boolean(), fc.array(piece, { maxLength: 6 }), fc.integer(), (src, nocase, parts, mask) => {
        const input = flip(parts.join(''), mask);
        const [automaton, checked] = both(src, nocase);
        expect(checked(input)).toBe(automaton.test(input));
      }),
      { numRuns: 20000 },
    );
  });

  it('check a case-sensitive regex for its literals as written: -W is not looked for as -w on the input lower-cased', () => {
    // Sigma's hex-dump pattern on a 1 MiB `rm -rf ////…`: the folded check let it through on `-r`, and re2js read the MiB.
    const re = compileRegex('-(W|R)\\s?(\\s|"|\')([0-9a-fA-F]{2}\\s?){2,20}(\\s|"|\')');
    const automaton = jest.spyOn(RE2JS.prototype, 'test');
    try {
      expect(re('rm -rf ' + '/'.repeat(1000))).toBe(false);
      expect(automaton).not.toHaveBeenCalled();
      expect(re("xxd -R '41 42 43 '")).toBe(true);
      expect(automaton).toHaveBeenCalledTimes(1);
    } finally {
      automaton.mockRestore();
    }
  });

  it('build the automaton only for an input holding a literal, once per pattern and case mode however many rules carry it (issue 20)', () => {
    const compile = jest.spyOn(RE2JS, 'compile');
    try {
      // A pattern no other test compiles, so the shared program is not built yet.
      const src = 'zq-lazy-(one|two)\\d+';
      const a = compileRegex(src);
      const b = compileRegex(src);
      expect(compile).not.toHaveBeenCalled();
      expect(a('rm -rf /tmp/x')).toBe(false);
      expect(compile).not.toHaveBeenCalled();
      expect(a('zq-lazy-one7')).toBe(true);
      expect(b('zq-lazy-two')).toBe(false);
      expect(b('zq-lazy-two9')).toBe(true);
      expect(compile).toHaveBeenCalledTimes(1);
      expect(compileRegex(src, true)('ZQ-LAZY-ONE7')).toBe(true);
      expect(compile).toHaveBeenCalledTimes(2);
    } finally {
      compile.mockRestore();
    }
  });

  it('gate a pattern that folds case itself (a leading (?i)) on its folded literals, and never miss a match in any case', () => {
    expect(regexLiterals('(?i)(^|/)(neoreg|tunna)\\.py$')).toEqual(['neoreg.py', 'tunna.py', '/neoreg.py', '/tunna.py']);
    expect(regexLiterals('(?i)Neoreg', false)).toBeUndefined();
    expect(regexLiterals('a(?i)b')).toBeUndefined();
    const re = compileRegex('(?i)(^|/)(neoreg|tunna)\\.py$');
    const automaton = jest.spyOn(RE2JS.prototype, 'test');
    try {
      expect(re('manage.py')).toBe(false);
      expect(automaton).not.toHaveBeenCalled();
      for (const s of ['NeoReg.PY', '/tmp/TUNNA.py', 'tunna.p\u0443', 'x/TUNNA.PY', 'neoreg\u017f.py']) expect(re(s)).toBe(RE2JS.compile('(?i)(^|/)(neoreg|tunna)\\.py$').test(s));
      expect(re('/opt/x/NEOREG.py')).toBe(true);
    } finally {
      automaton.mockRestore();
    }
  });

  it('folds the long s like RE2 does when the case is ignored', () => {
    expect(RE2JS.compile('password', RE2JS.CASE_INSENSITIVE).test('paſſword')).toBe(true);
    expect(compileRegex('password', true)('paſſword')).toBe(true);
    expect(compileRegex('KEY', true)('\u212Aey')).toBe(true);
    expect(compileRegex('password')('paſſword')).toBe(false);
  });

  it('fold no non-ASCII character onto an ASCII letter but the long s and the Kelvin sign (what foldCase maps)', () => {
    const letter = RE2JS.compile('^[a-z]$', RE2JS.CASE_INSENSITIVE);
    const folding: string[] = [];
    for (let cp = 128; cp < 0x30000; cp++) if ((cp < 0xd800 || cp > 0xdfff) && letter.test(String.fromCodePoint(cp))) folding.push(cp.toString(16));
    expect(folding).toEqual(['17f', '212a']);
    expect(foldCase('Pa\u017f\u017fWORD \u212aEY')).toBe('password key');
  });
});
