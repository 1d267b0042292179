import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertValidDocument } from '../../schema';
import { createStreamingEngine, loadRules } from '../../rules';
import { baselineDocs, loadPostureState, savePostureState } from './baseline';
import type { BaselineReport, CheckResult } from './checks';
import type { PostureContext } from './context';

const get = (d: unknown, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), d);

const check = (id: string, status: CheckResult['status'], severity: CheckResult['severity'] = 'high'): CheckResult => ({
  id, title: `check ${id}`, status, evidence: `${id} is ${status}`, severity, rationale: 'because', remediation: { en: 'fix it', 'zh-CN': '修复它' }, compliance: ['cis:1.1'], policy: 'test',
});
const report = (...results: CheckResult[]): BaselineReport => {
  const app = results.filter((r) => r.status === 'pass' || r.status === 'fail');
  return { results, score: app.length === 0 ? 100 : (100 * app.filter((r) => r.status === 'pass').length) / app.length };
};

describe('baseline check results', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-base-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let t = Date.UTC(2026, 0, 1);
  const ctx: PostureContext = { host: { name: 'web01', id: 'host-1' }, agent: { type: 'auditkit' }, namespace: 'test', root: '/', stateDir: dir, now: () => t };

  it('become one document per check and a score per scan, and one regression event (and alert) per pass→fail transition, not per failing scan', async () => {
    const rules = await loadRules([path.join(__dirname, '../../rules/builtin/posture.yml')]);
    const engine = createStreamingEngine(rules.map((r) => ({ ...r, enabled: true })));
    const scans = [
      report(check('a', 'pass'), check('b', 'fail'), check('c', 'pass', 'low'), check('d', 'not_applicable')),
      report(check('a', 'fail'), check('b', 'fail'), check('c', 'fail', 'low'), check('d', 'not_applicable')),
      report(check('a', 'fail'), check('b', 'fail'), check('c', 'fail', 'low'), check('d', 'not_applicable')),
      report(check('a', 'pass'), check('b', 'pass'), check('c', 'fail', 'low'), check('d', 'error')),
      report(check('a', 'fail'), check('b', 'pass'), check('c', 'fail', 'low'), check('d', 'error')),
    ];
    const regressedPerScan: string[][] = [];
    const alertsPerScan: string[][] = [];
    const regressionIds: unknown[] = [];
    for (const r of scans) {
      t += 3_600_000;
      const prev = loadPostureState(dir);
      const out = baselineDocs(ctx, r, prev);
      for (const d of out.docs) assertValidDocument(d);
      expect(out.docs.filter((d) => get(d, 'event.action') !== 'check_regressed')).toHaveLength(r.results.length + 1);
      regressedPerScan.push([...out.regressions]);
      alertsPerScan.push(out.docs.flatMap((d) => engine.process(d)).map((a) => String(get(a, 'rule.id'))));
      regressionIds.push(...out.docs.filter((d) => get(d, 'event.action') === 'check_regressed').map((d) => get(d, 'event.id')));
      // A replay of the same scan from the same state (crash before the save) gives the same regression ids.
      expect(baselineDocs(ctx, r, prev).docs.filter((d) => get(d, 'event.action') === 'check_regressed').map((d) => get(d, 'event.id'))).toEqual(out.docs.filter((d) => get(d, 'event.action') === 'check_regressed').map((d) => get(d, 'event.id')));
      await savePostureState(dir, out.state);
    }
    expect(regressedPerScan).toEqual([[], ['a', 'c'], [], [], ['a']]);
    expect(alertsPerScan).toEqual([[], ['ak-lnx-posture-check-regressed', 'ak-lnx-posture-check-regressed-minor'], [], [], ['ak-lnx-posture-check-regressed']]);
    expect(new Set(regressionIds).size).toBe(3);
  });

  it('carry evidence, remediation in both languages, compliance references and the score', () => {
    const out = baselineDocs(ctx, report(check('x', 'fail', 'critical'), check('y', 'pass')), { version: 1, checks: {} });
    const x = out.docs.find((d) => get(d, 'rule.id') === 'x');
    expect(get(x, 'event.outcome')).toBe('failure');
    expect(get(x, 'auditkit.posture.evidence')).toBe('x is fail');
    expect(get(x, 'auditkit.posture.remediation.zh_cn')).toBe('修复它');
    expect(get(x, 'auditkit.posture.compliance')).toEqual(['cis:1.1']);
    expect(get(x, 'rule.ruleset')).toBe('test');
    const score = out.docs.find((d) => get(d, 'event.action') === 'score');
    expect(get(score, 'auditkit.posture.score')).toBe(50);
    expect(get(score, 'auditkit.posture.failed')).toBe(1);
  });
});
