/**
 * The same rule definitions run streaming (in memory) and scheduled (compiled
 * to query DSL on the real Elasticsearch node) must agree.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { CORE_FIELD_TYPES } from '../../elastic';
import { adaptMapping, assertValidDocument, datasetMapping, DYNAMIC_TEMPLATES, streamName } from '../../schema';
import { compileRule, compileRuleQuery, createStreamingEngine, importSigmaDir, loadRules, readCorpus, runScheduled, testEventDoc, type RuleDef } from '../../rules';
import { commandEvent } from '../../rules';
import { deleteNamespace, testClient, uniqueNamespace } from '../harness/es';

const SHARED = path.resolve(__dirname, '../../../shared/corpora');
const DEV = path.join(SHARED, 'commands/dev.jsonl');
const SIGMA = path.join(SHARED, 'sigma');

const ns = uniqueNamespace('rules');
const cmdIndex = streamName('commands', ns);
let client: Client;
let rules: RuleDef[] = [];
const docs: Array<Record<string, unknown>> = [];
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);

async function createIndex(dataset: 'commands' | 'alerts', name: string): Promise<void> {
  const { mapping } = adaptMapping(datasetMapping(dataset), new Set(CORE_FIELD_TYPES));
  await client.indices.create({ index: name, settings: { number_of_replicas: 0, number_of_shards: 1 }, mappings: { ...mapping, dynamic_templates: DYNAMIC_TEMPLATES as never } as never });
}

beforeAll(async () => {
  client = testClient();
  rules = await loadRules([path.resolve(__dirname, '../../rules/builtin')]);
  if (existsSync(SIGMA)) rules.push(...(await importSigmaDir(SIGMA)).results.flatMap((r) => (r.ok ? [r.rule] : [])));
  else console.warn(`no Sigma corpus at ${SIGMA}: parity covers the built-in packs only`);
  let i = 0;
  const add = (d: Record<string, unknown>): void => {
    const ev = d['event'] as Record<string, unknown> | undefined;
    const id = `ev-${i}`;
    docs.push({ ...d, '@timestamp': new Date(T0 + i * 1000).toISOString(), event: { ...(ev ?? {}), id, dataset: (ev?.['dataset'] as string | undefined) ?? 'auditkit.commands' }, host: d['host'] ?? { name: 'web01' }, agent: { type: 'auditkit' } });
    i++;
  };
  if (existsSync(DEV)) for (const l of readCorpus(DEV)) add(commandEvent(l.command));
  for (const r of rules) for (const e of [...r.tests.match, ...r.tests.no_match]) add(testEventDoc(e));
  await createIndex('commands', cmdIndex);
  for (let k = 0; k < docs.length; k += 500) {
    const res = await client.bulk({ operations: docs.slice(k, k + 500).flatMap((d) => [{ create: { _index: cmdIndex, _id: (d['event'] as { id: string }).id } }, d]) });
    expect(res.errors).toBe(false);
  }
  await client.indices.refresh({ index: cmdIndex });
  await createIndex('alerts', streamName('alerts', ns));
}, 120_000);

afterAll(async () => {
  await deleteNamespace(client, ns);
});

describe('match rules: in memory vs compiled query on Elasticsearch', () => {
  it('agree on every match rule: exact queries return the same events, prefilters a superset that the engine confirms to the same events', async () => {
    const matchRules = rules.filter((r) => r.type === 'match');
    const exactRules: string[] = [];
    const prefilter: Array<{ id: string; reasons: readonly string[] }> = [];
    const mismatches: string[] = [];
    for (const def of matchRules) {
      const compiled = compileRule(def);
      const engine = createStreamingEngine([compiled]);
      const inMemory = new Set(docs.filter((d) => engine.evaluate(d).matched.length > 0).map((d) => (d['event'] as { id: string }).id));
      const q = compileRuleQuery(def.condition!, def.exceptions);
      const res = await client.search<Record<string, unknown>>({ index: cmdIndex, query: q.query, size: 10_000 });
      const hits = res.hits.hits.map((h) => h._source as Record<string, unknown>);
      const esIds = new Set(hits.map((h) => (h['event'] as { id: string }).id));
      const confirmed = new Set(hits.filter((h) => createStreamingEngine([compiled]).evaluate(h).matched.length > 0).map((h) => (h['event'] as { id: string }).id));
      const same = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
      if (q.exact) {
        exactRules.push(def.id);
        if (!same(inMemory, esIds)) mismatches.push(`${def.id}: exact query returned ${esIds.size}, in memory ${inMemory.size}`);
      } else {
        prefilter.push({ id: def.id, reasons: [...new Set(q.reasons)] });
        if (![...inMemory].every((x) => esIds.has(x))) mismatches.push(`${def.id}: prefilter missed ${[...inMemory].filter((x) => !esIds.has(x)).join(',')}`);
        if (!same(inMemory, confirmed)) mismatches.push(`${def.id}: confirmed ${confirmed.size} vs in memory ${inMemory.size}`);
      }
    }
    const reasonCounts = new Map<string, number>();
    for (const p of prefilter) for (const r of p.reasons) reasonCounts.set(r.replace(/^[^:]+: /, ''), (reasonCounts.get(r.replace(/^[^:]+: /, '')) ?? 0) + 1);
    console.log(
      `parity over ${docs.length} indexed events: ${matchRules.length} match rules, ${exactRules.length} compiled exactly, ${prefilter.length} prefilter + in-memory confirmation\n` +
        `prefilter reasons: ${[...reasonCounts.entries()].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n}× ${r}`).join('; ')}\n` +
        (mismatches.length ? `MISMATCHES:\n${mismatches.join('\n')}` : 'no mismatches'),
    );
    expect(mismatches).toEqual([]);
    expect(exactRules.length).toBeGreaterThan(100);
  }, 300_000);
});

describe('scheduled runs', () => {
  it('raise alerts that validate as ECS, and a re-run over the same window writes no duplicate', async () => {
    const picked = rules.filter((r) => ['ak-lnx-dev-tcp-redirection', 'ak-lnx-shadow-file-read', 'ak-lnx-ssh-brute-force-source', 'ak-lnx-brute-force-then-success', 'ak-lnx-first-sudo-user-host'].includes(r.id));
    expect(picked).toHaveLength(5);
    const opts = { index: cmdIndex, since: new Date(T0 - 1000), until: new Date(T0 + docs.length * 1000 + 1000), namespace: ns };
    const first = await runScheduled(client, picked, opts);
    expect(first.errors).toEqual([]);
    const byRule = Object.fromEntries(first.results.map((r) => [r.rule, r.alerts.length]));
    expect(byRule['ak-lnx-dev-tcp-redirection']).toBeGreaterThan(5);
    expect(byRule['ak-lnx-shadow-file-read']).toBeGreaterThan(5);
    expect(byRule['ak-lnx-ssh-brute-force-source']).toBeGreaterThanOrEqual(1);
    expect(byRule['ak-lnx-brute-force-then-success']).toBeGreaterThanOrEqual(1);
    expect(first.written).toBeGreaterThan(10);
    for (const r of first.results) for (const a of r.alerts) assertValidDocument(a);
    // Streaming over the same events in time order raises the same alert ids.
    const engine = createStreamingEngine(picked, { namespace: ns });
    const streamIds = new Set<string>();
    for (const d of docs) for (const a of engine.process(d)) streamIds.add(a.event.id);
    const schedIds = new Set(first.results.flatMap((r) => r.alerts.map((a) => a.event.id)));
    const sched = [...schedIds].sort();
    expect(sched.filter((x) => !streamIds.has(x))).toEqual([]);
    const second = await runScheduled(client, picked, opts);
    expect(second.written).toBe(0);
    expect(second.existing).toBe(first.written);
    // A window too big to read whole is narrowed by the rules' queries (one disjunction for the
    // match rules, a search per stateful rule): the same alerts.
    const narrowed = await runScheduled(client, picked, { ...opts, scanLimit: 0, write: false });
    expect(narrowed.errors).toEqual([]);
    expect(narrowed.requests).toBeGreaterThan(first.requests);
    expect(narrowed.results.flatMap((r) => r.alerts.map((a) => a.event.id)).sort()).toEqual(sched);
  }, 120_000);
});
