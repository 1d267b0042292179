import * as path from 'node:path';
import { loadRules } from './schema';
import { runRuleTests } from './testing';

describe('built-in rule packs', () => {
  it('load without problems and hold at least 60 rules, each with tests', async () => {
    const rules = await loadRules([path.join(__dirname, 'builtin')]);
    expect(rules.length).toBeGreaterThanOrEqual(60);
    for (const r of rules) expect(r.tests.match.length + r.tests.no_match.length).toBeGreaterThan(0);
  });
  it('pass every rule test they carry', async () => {
    const rules = await loadRules([path.join(__dirname, 'builtin')]);
    const rep = runRuleTests(rules);
    expect(rep.failures).toEqual([]);
  });
});
