import { parseRuleText, RuleFileError } from './schema';
import { rulesConfigSchema } from './config';

const good = `pack: t
rules:
  - id: t-one
    name: One rule
    description: desc
    severity: high
    condition: { cmd: { name: [rm], flags_any: [-r] } }
    tests: { match: ['rm -r /x'] }
`;

describe('rule files', () => {
  it('parse a valid pack with defaults filled in', () => {
    const [r] = parseRuleText(good, 'p.yml');
    expect(r).toMatchObject({ id: 't-one', type: 'match', risk_score: 73, enabled: true, author: ['auditkit'], source: { file: 'p.yml', line: 3 } });
  });

  it('report every problem with file:line:col and the key path', () => {
    const bad = good.replace('severity: high', 'severity: extreme').replace('flags_any: [-r]', 'flagz: [-r]') + '  - id: t-two\n    name: Two\n    description: desc\n    severity: low\n    condition: { field: process.name, regex: "(" }\n    tests: { match: [x] }\n';
    let err: unknown;
    try {
      parseRuleText(bad, 'p.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleFileError);
    const e = err as RuleFileError;
    expect(e.code).toBe('AK_RULE_INVALID');
    expect(e.message).toContain('p.yml has 3 rule problems');
    expect(e.message).toMatch(/p\.yml:6:15: rules\.0\.severity: Invalid option/);
    expect(e.message).toMatch(/p\.yml:7:\d+: rules\.0\.condition/);
    expect(e.message).toMatch(/p\.yml:13:\d+: rules\.1\.condition.*invalid regular expression/);
  });

  it('reject YAML syntax errors with their line', () => {
    expect(() => parseRuleText('pack: t\nrules: [\n', 'bad.yml')).toThrow(/bad\.yml:\d+:\d+: YAML syntax/);
  });
});

describe('rules: config section', () => {
  it('is strict and fills defaults', () => {
    expect(rulesConfigSchema.parse({})).toMatchObject({ builtin: true, notify: { immediate_severity: 'high', throttle: { window: '10m', max: 5 } } });
    expect(rulesConfigSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(rulesConfigSchema.safeParse({ notify: { webhooks: [{ name: 'w', url: 'ftp://x', format: 'slack' }] } }).success).toBe(false);
  });
});

describe('a rule file with an alias bomb', () => {
  it('is refused as an invalid rule file (AK_RULE_INVALID with the file), not a crash', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    bomb.push('rules: *j');
    const started = Date.now();
    let err: unknown;
    try {
      parseRuleText(bomb.join('\n') + '\n', 'bomb.yml');
    } catch (e) {
      err = e;
    }
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err).toBeInstanceOf(RuleFileError);
    expect((err as RuleFileError).code).toBe('AK_RULE_INVALID');
    expect((err as RuleFileError).message).toMatch(/bomb\.yml.*aliases may expand at most 100 times/s);
  });
});
