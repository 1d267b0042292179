/**
 * `auditkit rules …` and `auditkit alerts …` through the BUILT binary, as a user
 * runs them (run `npm run build` first; skipped with a warning when dist/ is
 * missing): list, validate (good and broken files), test (own tests and an
 * events file), run --since against the test Elasticsearch (idempotent), run
 * --follow from stdin, and alerts list.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { CORE_FIELD_TYPES } from '../../elastic';
import { commandEvent } from '../../rules';
import { adaptMapping, assertValidDocument, datasetMapping, DYNAMIC_TEMPLATES, streamName } from '../../schema';
import { runCli } from '../foundation/cli';
import { deleteNamespace, testClient, testEsUrl, uniqueNamespace } from '../harness/es';

const built = existsSync(path.resolve(__dirname, '../../dist/cli/main.js'));
const suite = built ? describe : describe.skip;
if (!built) console.warn('dist/ is missing (run `npm run build`): skipping the rules/alerts CLI tests');

const BUILTIN = path.resolve(__dirname, '../../rules/builtin');

interface ListRow {
  id: string;
  type: string;
  severity: string;
}

suite('auditkit rules / alerts (built binary)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ak-rulescli-'));
  });

  describe('offline commands', () => {
    it('lists the built-in rules as a table and as JSON', async () => {
      const table = await runCli(['rules', 'list']);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain('ak-lnx-user-added-privileged-group');
      const json = await runCli(['rules', 'list', '--json']);
      expect(json.code).toBe(0);
      const rows = JSON.parse(json.stdout) as ListRow[];
      expect(rows.length).toBeGreaterThanOrEqual(100);
      expect(rows.find((r) => r.id === 'ak-lnx-user-added-privileged-group')).toMatchObject({ type: 'match', severity: 'high' });
    });

    it('validates a good rule directory', async () => {
      const r = await runCli(['rules', 'validate', BUILTIN]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\d+ rules valid$/m);
    });

    it('rejects a broken rule file naming the file, the line and the key, with a non-zero exit', async () => {
      const bad = path.join(dir, 'bad.yml');
      writeFileSync(bad, ['id: t-bad-rule', 'name: broken', 'description: severity is wrong', 'severity: urgent', 'condition: { field: process.name, equals: x }', ''].join('\n'));
      const r = await runCli(['rules', 'validate', bad]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('AK_RULE_INVALID');
      expect(r.stderr).toContain(`${bad}:4`);
      expect(r.stderr).toContain('severity');
    });

    it('runs every rule\'s own tests when given no events file', async () => {
      const r = await runCli(['rules', 'test'], { timeoutMs: 170_000 });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\d+ rules, \d+ test cases, 0 failed$/m);
    }, 180_000);

    it('prints exactly one {"index": N, "rules": [...]} line per event of an events file', async () => {
      const file = path.join(dir, 'events.jsonl');
      const lines = [commandEvent('ls -la'), commandEvent('chmod u+s /bin/bash'), commandEvent('usermod -aG sudo mallory')].map((e) => JSON.stringify(e));
      writeFileSync(file, lines.join('\n') + '\n');
      const r = await runCli(['rules', 'test', file, '--json']);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean)).toEqual([
        '{"index": 0, "rules": []}',
        '{"index": 1, "rules": ["ak-lnx-setuid-bit-set"]}',
        '{"index": 2, "rules": ["ak-lnx-user-added-privileged-group"]}',
      ]);
    });

    it('reports a missing events file as a usage error', async () => {
      const r = await runCli(['rules', 'test', path.join(dir, 'nope.jsonl'), '--json']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('AK_RULES_EVENTS');
    });

    it('streams events from stdin through the engine with run --follow, one alert document per line', async () => {
      const input = [commandEvent('chmod u+s /bin/bash', { id: 'f1' }), commandEvent('ls', { id: 'f2' })].map((e) => JSON.stringify(e)).join('\n') + '\n';
      const r = await runCli(['rules', 'run', '--follow'], { input });
      expect(r.code).toBe(0);
      const alerts = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ event: { kind: 'alert', dataset: 'auditkit.alerts' }, rule: { id: 'ak-lnx-setuid-bit-set' }, auditkit: { alert: { source_event_ids: ['f1'] } } });
      for (const a of alerts) assertValidDocument(a);
    });
  });

  describe('against Elasticsearch', () => {
    let client: Client;
    let ns: string;
    let config: string;

    beforeAll(async () => {
      client = testClient();
      ns = uniqueNamespace('rulescli');
      config = path.join(dir, 'auditkit.yml');
      writeFileSync(config, ['elasticsearch:', `  url: ${testEsUrl()}`, `  namespace: ${ns}`, ''].join('\n'));
      for (const ds of ['commands', 'alerts'] as const) {
        const { mapping } = adaptMapping(datasetMapping(ds), new Set(CORE_FIELD_TYPES));
        await client.indices.create({ index: streamName(ds, ns), settings: { number_of_replicas: 0, number_of_shards: 1 }, mappings: { ...mapping, dynamic_templates: DYNAMIC_TEMPLATES as never } as never });
      }
      const now = Date.now();
      const docs = [
        commandEvent('chmod u+s /bin/bash', { timestamp: new Date(now - 120_000).toISOString(), id: `${ns}-1` }),
        commandEvent('usermod -aG sudo mallory', { timestamp: new Date(now - 90_000).toISOString(), id: `${ns}-2`, host: 'db01' }),
        commandEvent('ls -la', { timestamp: new Date(now - 60_000).toISOString(), id: `${ns}-3` }),
        commandEvent('chmod u+s /bin/dash', { timestamp: new Date(now - 3_600_000).toISOString(), id: `${ns}-old` }),
      ];
      for (const d of docs) assertValidDocument(d);
      const res = await client.bulk({ refresh: 'wait_for', operations: docs.flatMap((d) => [{ create: { _index: streamName('commands', ns), _id: (d['event'] as { id: string }).id } }, d]) });
      expect(res.errors).toBe(false);
    }, 120_000);

    afterAll(async () => {
      await deleteNamespace(client, ns);
      await client.close();
    });

    it('writes alerts for the last 15 minutes into logs-auditkit.alerts-<ns>, and a second run adds none', async () => {
      const first = await runCli(['--config', config, 'rules', 'run', '--since', '15m', '--json']);
      expect(first.code).toBe(0);
      const r1 = JSON.parse(first.stdout) as { written: number; existing: number; errors: string[] };
      expect(r1).toMatchObject({ written: 2, existing: 0, errors: [] });
      const res = await client.search<Record<string, unknown>>({ index: streamName('alerts', ns), size: 10 });
      const ids = res.hits.hits.map((h) => (h._source as { rule: { id: string } }).rule.id).sort();
      expect(ids).toEqual(['ak-lnx-setuid-bit-set', 'ak-lnx-user-added-privileged-group']);
      for (const h of res.hits.hits) assertValidDocument(h._source as Record<string, unknown>);

      const second = await runCli(['--config', config, 'rules', 'run', '--since', '15m', '--json']);
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ written: 0, existing: 2, errors: [] });
      const table = await runCli(['--config', config, 'rules', 'run', '--since', '15m']);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain('0 new alerts written, 2 already present, 0 errors');
    }, 120_000);

    it('lists alerts filtered by time and severity, as a table and as JSON', async () => {
      const all = await runCli(['--config', config, 'alerts', 'list', '--since', '1h', '--json']);
      expect(all.code).toBe(0);
      const docs = JSON.parse(all.stdout) as Array<{ rule: { id: string }; auditkit: { alert: { severity: string } } }>;
      expect(docs.map((d) => d.rule.id).sort()).toEqual(['ak-lnx-setuid-bit-set', 'ak-lnx-user-added-privileged-group']);
      const sevs = Object.fromEntries(docs.map((d) => [d.rule.id, d.auditkit.alert.severity]));
      const above = (s: string): boolean => ['high', 'critical'].includes(s);
      const high = await runCli(['--config', config, 'alerts', 'list', '--since', '1h', '--severity', 'high', '--json']);
      expect(high.code).toBe(0);
      expect((JSON.parse(high.stdout) as typeof docs).map((d) => d.rule.id).sort()).toEqual(Object.keys(sevs).filter((k) => above(sevs[k] as string)).sort());
      const critical = await runCli(['--config', config, 'alerts', 'list', '--since', '1h', '--severity', 'critical', '--json']);
      expect((JSON.parse(critical.stdout) as typeof docs).map((d) => d.rule.id)).toEqual(Object.keys(sevs).filter((k) => sevs[k] === 'critical'));
      const table = await runCli(['--config', config, 'alerts', 'list', '--since', '1h']);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain('ak-lnx-user-added-privileged-group');
      expect(table.stdout).toContain('db01');
      const none = await runCli(['--config', config, 'alerts', 'list', '--since', '1s', '--json']);
      expect(JSON.parse(none.stdout)).toEqual([]);
    }, 120_000);
  });
});
