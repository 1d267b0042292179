/**
 * Every panel of every dashboard against the real Elasticsearch node:
 * 1. each field it uses is in the mappings `auditkit setup elasticsearch` created
 *    (the @package component templates, not dynamic mapping), with a type that
 *    allows the panel's operation, and field_caps on the written indices agree
 *    (aggregatable for buckets and unique counts, numeric for sums, numeric or
 *    date for max);
 * 2. the Elasticsearch request the panel stands for (Lens: its buckets nested in
 *    column order with its metrics at the leaves and its filters as the query;
 *    saved search: its filters, sort and columns) returns data over generated
 *    fleet activity: the fleet simulator (collectors/simulate), plus file-change
 *    audit events written here because the simulator does not emit any.
 */
import { elasticsearchConfigSchema } from '../../elastic';
import { applySetup, packageComponentName, planSetup } from '../../elastic';
import { detectCapabilities } from '../../elastic';
import { simulateFleet } from '../../demo';
import { assertValidDocument, DATASETS, documentId, eventEnvelope, getField, streamName, type Dataset, type MappingProperty } from '../../schema';
import { buildKitExport, type FieldUse, type PanelCheck } from '../../dashboards';
import { builtinRulesDir } from '../../core';
import { loadRules } from '../../rules';
import { createStreamingEngine } from '../../rules';
import { deleteNamespace, testClient, uniqueNamespace } from '../harness/es';
import { collectorConfigSchema, runPostureScan } from '../../collectors';
import { smtpConfigSchema } from '../../core';
import { rulesConfigSchema } from '../../rules';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';

const client = testClient();
const ns = uniqueNamespace('dash');
const kit = buildKitExport();
let range: { gte: string; lte: string };
const mappings = new Map<Dataset, Record<string, MappingProperty>>();
type Caps = Record<string, Record<string, { type: string; searchable: boolean; aggregatable: boolean }>>;
const capsByIndex = new Map<string, Caps>();

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'unsigned_long']);
const AGGREGATABLE = new Set([...NUMERIC, 'keyword', 'ip', 'date', 'date_nanos', 'boolean', 'wildcard', 'constant_keyword', 'version']);

/** The indices of this test's namespace that a data view pattern covers. */
function concrete(pattern: string): string {
  return pattern === 'logs-auditkit.*' ? `logs-auditkit.*-${ns}` : pattern.replace(/-\*$/, `-${ns}`);
}

function datasetsOf(pattern: string): Dataset[] {
  if (pattern === 'logs-auditkit.*') return DATASETS.filter((d) => d !== 'sessions');
  const m = /^logs-auditkit\.([a-z]+)-\*$/.exec(pattern);
  return m ? [m[1] as Dataset] : [];
}

function mappingOf(props: Record<string, MappingProperty>, field: string): MappingProperty | undefined {
  const parts = field === '@timestamp' ? ['@timestamp'] : field.split('.');
  let node: Record<string, MappingProperty> | undefined = props;
  let prop: MappingProperty | undefined;
  for (const p of parts) {
    prop = node?.[p];
    if (!prop) return undefined;
    node = prop.properties;
  }
  return prop;
}

function allows(m: MappingProperty, need: FieldUse['need']): boolean {
  const t = m.type ?? 'object';
  switch (need) {
    case 'aggregatable': return AGGREGATABLE.has(t) && m.doc_values !== false;
    case 'numeric': return NUMERIC.has(t);
    case 'numeric_or_date': return NUMERIC.has(t) || t === 'date' || t === 'date_nanos';
    case 'searchable': return m.index !== false && t !== 'object';
    case 'exists': return t !== 'object';
  }
}

/** Problems with the fields of one panel (empty = fine). */
function fieldProblems(check: PanelCheck): string[] {
  const problems: string[] = [];
  const datasets = datasetsOf(check.indexPattern);
  const caps = capsByIndex.get(concrete(check.indexPattern)) ?? {};
  for (const u of check.fieldUses) {
    const mapped = datasets.map((d) => mappingOf(mappings.get(d) ?? {}, u.field)).filter((m): m is MappingProperty => m !== undefined);
    // A single-stream data view: the field must be in that stream's mapping. The all-streams view: in at least one.
    if (mapped.length === 0 || (datasets.length === 1 && mapped.length !== 1)) {
      problems.push(`${u.field} (${u.op}) is not in the mappings setup created for ${datasets.join(', ')}`);
      continue;
    }
    for (const m of mapped) if (!allows(m, u.need)) problems.push(`${u.field} (${u.op}) is mapped as ${m.type ?? 'object'}, which is not ${u.need}`);
    const c = caps[u.field];
    if (!c) {
      problems.push(`${u.field} (${u.op}) is missing from field_caps of ${concrete(check.indexPattern)}`);
      continue;
    }
    for (const [type, info] of Object.entries(c)) {
      if (type === 'unmapped') continue;
      if (u.need === 'aggregatable' && !info.aggregatable) problems.push(`${u.field} (${u.op}) is ${type} and not aggregatable in the real indices`);
      if (u.need === 'numeric' && !NUMERIC.has(type)) problems.push(`${u.field} (${u.op}) is ${type} in the real indices, not numeric`);
      if (u.need === 'numeric_or_date' && !NUMERIC.has(type) && type !== 'date') problems.push(`${u.field} (${u.op}) is ${type} in the real indices, not numeric or date`);
      if (u.need === 'searchable' && !info.searchable) problems.push(`${u.field} (${u.op}) is not searchable in the real indices`);
    }
  }
  return problems;
}

type Bucket = Record<string, unknown> & { doc_count: number };

/** The leaf buckets of a nested aggregation result. */
function leaves(aggs: Record<string, unknown>, depth = 0): Array<Record<string, unknown>> {
  const agg = aggs[`b${depth}`] as { buckets?: Bucket[] } | undefined;
  if (!agg) return [aggs];
  return (agg.buckets ?? []).filter((b) => b.doc_count > 0).flatMap((b) => leaves(b, depth + 1));
}

/** File-change audit events (the simulator has none): edits of sensitive files by an admin after sudo. */
function fileChangeDocs(hosts: readonly string[], start: number): Array<{ dataset: Dataset; doc: Record<string, unknown> }> {
  const files = ['/etc/sudoers', '/etc/ssh/sshd_config', '/etc/crontab', '/etc/passwd'];
  const out: Array<{ dataset: Dataset; doc: Record<string, unknown> }> = [];
  hosts.slice(0, 3).forEach((host, h) => {
    files.forEach((path, i) => {
      const t = new Date(start + (h * 7 + i + 1) * 3_600_000).toISOString();
      const id = documentId('test-file-change', host, path, t);
      const doc = {
        '@timestamp': t,
        ...eventEnvelope('auditd', ns),
        message: `root changed ${path}`,
        event: { kind: 'event', category: ['file'], type: [i === 2 ? 'creation' : 'change'], action: i === 3 ? 'changed-file-ownership-of' : 'opened-file', outcome: 'success', dataset: 'auditkit.auditd', module: 'auditd', id },
        host: { name: host, hostname: host },
        agent: { type: 'auditkit' },
        user: { name: 'root', id: '0' },
        process: { pid: 4100 + i, name: 'vim', executable: '/usr/bin/vim', entry_leader: { user: { name: 'chen.wei', id: '1003' } } },
        file: { path, name: path.split('/').pop() ?? path, directory: path.slice(0, path.lastIndexOf('/')) || '/' },
        related: { user: ['root', 'chen.wei'], hosts: [host] },
      };
      assertValidDocument(doc);
      out.push({ dataset: 'auditd', doc });
    });
  });
  return out;
}

/**
 * Posture documents (the simulator has none), made by the real posture modules: two
 * `posture scan` passes over a prepared tree, the second after sshd_config was changed to
 * allow root logins by bob through sudo (per an auditd record in the real format), with redis
 * exposed on 0.0.0.0:6379. Their times are moved into the simulated period.
 */
async function postureDocs(start: number): Promise<Array<{ dataset: Dataset; doc: Record<string, unknown> }>> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'ak-dash-posture-'));
  try {
    const root = nodePath.join(dir, 'root');
    const w = (p: string, t: string, mode = 0o644): void => {
      fs.mkdirSync(nodePath.dirname(nodePath.join(root, p)), { recursive: true });
      fs.writeFileSync(nodePath.join(root, p), t, { mode });
    };
    w('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n');
    w('/etc/shadow', 'root:$6$x:19000:0:99999:7:::\nbob:$6$y:19000:0:99999:7:::\n', 0o640);
    w('/etc/group', 'root:x:0:\nbob:x:1001:\n');
    w('/etc/ssh/sshd_config', 'PermitRootLogin no\n');
    w('/proc/net/tcp', '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 7001 1 0000000000000000 100 0 0 10 0\n');
    const auditLog = nodePath.join(dir, 'audit.log');
    fs.writeFileSync(auditLog, '');
    const collector = collectorConfigSchema.parse({ state_dir: nodePath.join(dir, 'state'), namespace: ns, inputs: [{ path: auditLog, format: 'auditd' }], posture: { fim: { scan: ['/etc'] }, inventory: { processes: false } } });
    const config = { collector, rules: rulesConfigSchema.parse({}), smtp: smtpConfigSchema.parse({}) };
    const docs: Array<Record<string, unknown>> = [];
    await runPostureScan({ config, namespace: ns, root, print: (d) => void docs.push(d) });
    const firstCount = docs.length;
    fs.writeFileSync(nodePath.join(root, 'etc/ssh/sshd_config'), 'PermitRootLogin yes\n');
    const ms = Date.now();
    const h = `msg=audit(${(ms / 1000).toFixed(3)}:901):`;
    const GS = '\u001d';
    fs.appendFileSync(auditLog, [
      `type=SYSCALL ${h} arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55d0 a2=241 a3=1b6 items=2 ppid=3001 pid=3002 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=4 comm="vim" exe="/usr/bin/vim.basic" subj=unconfined key="sshd"${GS}ARCH=x86_64 SYSCALL=openat AUID="bob" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`,
      `type=CWD ${h} cwd="/root"`,
      `type=PATH ${h} item=0 name="/etc/ssh/" inode=9 dev=08:01 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
      `type=PATH ${h} item=1 name="/etc/ssh/sshd_config" inode=10 dev=08:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
      `type=EOE ${h}`,
    ].join('\n') + '\n');
    await runPostureScan({ config, namespace: ns, root, print: (d) => void docs.push(d) });
    return docs.map((doc, i) => {
      const t = new Date(start + (i < firstCount ? 2 : 26) * 3_600_000 + i).toISOString();
      const moved = { ...doc, '@timestamp': t };
      assertValidDocument(moved);
      const ds = String(getField(doc, 'data_stream.dataset')).replace(/^auditkit\./, '') as Dataset;
      return { dataset: ds, doc: moved };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Alerts as the rules engine writes them (with event.reason, which the
 * simulator's reference alerts leave out): the built-in rules over the events.
 */
async function engineAlerts(events: ReadonlyArray<{ doc: Record<string, unknown> }>): Promise<Array<{ dataset: Dataset; doc: Record<string, unknown> }>> {
  const engine = createStreamingEngine(await loadRules([builtinRulesDir()]), { namespace: ns });
  const byId = new Map<string, Record<string, unknown>>();
  for (const e of events) for (const a of engine.process(e.doc)) byId.set(a.event.id, a);
  return [...byId.values()].map((doc) => ({ dataset: 'alerts' as const, doc }));
}

beforeAll(async () => {
  const caps = await detectCapabilities(client);
  const plan = planSetup(elasticsearchConfigSchema.parse({ namespace: ns }), caps);
  await applySetup(client, plan);
  for (const d of DATASETS) {
    const r = (await client.transport.request({ method: 'GET', path: `/_component_template/${packageComponentName(d)}` })) as {
      component_templates: Array<{ component_template: { template: { mappings: { properties: Record<string, MappingProperty> } } } }>;
    };
    mappings.set(d, r.component_templates[0]!.component_template.template.mappings.properties);
  }
  const sim = simulateFleet({ seed: 11, hosts: 6, days: 2, namespace: ns });
  range = { gte: new Date(sim.fleet.start).toISOString(), lte: new Date(sim.fleet.end).toISOString() };
  const events = [...sim.documents, ...fileChangeDocs(sim.fleet.hosts.map((h) => h.name), sim.fleet.start), ...(await postureDocs(sim.fleet.start))];
  const docs = [...events, ...sim.alerts, ...(await engineAlerts(events))];
  const body: unknown[] = [];
  for (const d of docs) body.push({ create: { _index: streamName(d.dataset, ns), _id: getField(d.doc, 'event.id') as string } }, d.doc);
  const res = await client.bulk({ operations: body, refresh: 'wait_for' });
  const failed = res.items.filter((it) => it.create?.error).map((it) => JSON.stringify(it.create?.error)).slice(0, 5);
  expect(failed).toEqual([]);
  for (const pattern of new Set(kit.checks.map((c) => c.indexPattern))) {
    const fields = [...new Set(kit.checks.filter((c) => c.indexPattern === pattern).flatMap((c) => c.fieldUses.map((u) => u.field)))];
    const fc = await client.fieldCaps({ index: concrete(pattern), fields });
    capsByIndex.set(concrete(pattern), fc.fields as unknown as Caps);
  }
}, 240_000);

afterAll(async () => {
  await deleteNamespace(client, ns);
});

describe('the generated activity', () => {
  it('fills every stream the dashboards read', async () => {
    for (const d of ['commands', 'auditd', 'alerts', 'agent', 'deadletter'] as const) {
      const c = await client.count({ index: streamName(d, ns) });
      expect(c.count).toBeGreaterThan(0);
    }
  });
});

describe.each(kit.checks.map((c) => [`${c.dashboardTitle} › ${c.title}`, c] as const))('panel %s', (_name, check) => {
  it('uses only fields setup mapped, with types that allow its operations', () => {
    expect(fieldProblems(check)).toEqual([]);
  });

  it('returns data when its equivalent query runs against the real node', async () => {
    const body = check.esRequest(range);
    const res = (await client.search({ index: concrete(check.indexPattern), ...body })) as unknown as {
      hits: { total: { value: number }; hits: Array<{ _source: Record<string, unknown> }> };
      aggregations?: Record<string, unknown>;
    };
    expect(res.hits.total.value).toBeGreaterThan(0);
    if (check.kind === 'search') {
      expect(res.hits.hits.length).toBeGreaterThan(0);
      const columns = (body as { _source: string[] })._source;
      const empty = columns.filter((col) => !res.hits.hits.some((h) => getField(h._source, col) !== undefined));
      expect(empty).toEqual([]);
      return;
    }
    const aggs = res.aggregations ?? {};
    const leafBuckets = leaves(aggs);
    expect(leafBuckets.length).toBeGreaterThan(0);
    const metricKeys = Object.keys((body as { aggs: Record<string, unknown> }).aggs).length === 0 ? [] : collectMetricKeys(body as { aggs: Record<string, unknown> });
    // At least one leaf has a value for every metric of the panel.
    const full = leafBuckets.filter((b) => metricKeys.every((k) => (b[k] as { value?: unknown } | undefined)?.value !== null && (b[k] as { value?: unknown } | undefined)?.value !== undefined));
    expect(full.length).toBeGreaterThan(0);
  });
});

function collectMetricKeys(body: { aggs: Record<string, unknown> }): string[] {
  let level: Record<string, unknown> = body.aggs;
  for (;;) {
    const bucketKey = Object.keys(level).find((k) => /^b\d+$/.test(k));
    if (!bucketKey) return Object.keys(level);
    const next = (level[bucketKey] as { aggs?: Record<string, unknown> }).aggs;
    if (!next) return [];
    level = next;
  }
}
