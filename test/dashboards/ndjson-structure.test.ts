/**
 * The kit's NDJSON against real Kibana exports (elastic/integrations dashboards in
 * ../shared/reference/kibana, see SOURCES.md): same required attributes, the same
 * JSON-string attributes, the same reference naming and types, the same Lens
 * column/state shapes, and migration stamps no newer than the Kibana we target.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  buildKitExport, CORE_MIGRATION_VERSION, compareVersions, parseNdjson, PANEL_VERSION, TARGET_KIBANA, TYPE_MIGRATION_VERSION,
} from '../../dashboards';

const REF_DIR = path.resolve(__dirname, '../../../shared/reference/kibana');
const SUDO = path.join(REF_DIR, 'system-277876d0-fa2c-11e6-bbd3-29c986c96e5a.json');
const AUDITD_OVERVIEW = path.join(REF_DIR, 'auditd_manager-c0ac2c00-c1c0-11e7-8995-936807a28b16.json');
const haveRefs = existsSync(SUDO) && existsSync(AUDITD_OVERVIEW);
if (!haveRefs) console.warn(`skipping the comparison with real Kibana exports: ${REF_DIR} is missing`);
const describeRefs = haveRefs ? describe : describe.skip;

type Obj = Record<string, unknown>;
type Panel = { type: string; panelIndex: string; gridData: { x: number; y: number; w: number; h: number; i: string }; embeddableConfig: Obj; panelRefName?: string; version: string; title?: string };

const kit = buildKitExport();
const parsed = parseNdjson(kit.ndjson);
const objects = parsed.objects;
const dashboards = objects.filter((o) => o['type'] === 'dashboard');
const attrs = (o: Obj): Obj => o['attributes'] as Obj;
const refsOf = (o: Obj): Array<{ name: string; type: string; id: string }> => o['references'] as Array<{ name: string; type: string; id: string }>;
const panelsOf = (o: Obj): Panel[] => JSON.parse(attrs(o)['panelsJSON'] as string) as Panel[];
const keys = (o: unknown): string[] => Object.keys(o as Obj).sort();

function loadRef(file: string): Obj {
  return JSON.parse(readFileSync(file, 'utf8')) as Obj;
}

describe('the exported NDJSON', () => {
  it('parses as one saved object per line with no problems', () => {
    expect(parsed.problems).toEqual([]);
    expect(kit.ndjson.endsWith('\n')).toBe(true);
    expect(kit.ndjson.trimEnd().split('\n')).toHaveLength(objects.length);
  });

  it('holds the ten data views, seven saved searches and six dashboards with unique fixed ids', () => {
    const byType = (t: string): string[] => objects.filter((o) => o['type'] === t).map((o) => o['id'] as string).sort();
    expect(byType('index-pattern')).toEqual(['auditkit-agent', 'auditkit-alerts', 'auditkit-all', 'auditkit-auditd', 'auditkit-commands', 'auditkit-deadletter', 'auditkit-fim', 'auditkit-inventory', 'auditkit-posture', 'auditkit-sessions']);
    expect(byType('search')).toHaveLength(7);
    expect(byType('dashboard')).toEqual(['auditkit-dashboard-alerts', 'auditkit-dashboard-collectors', 'auditkit-dashboard-commands', 'auditkit-dashboard-logins', 'auditkit-dashboard-overview', 'auditkit-dashboard-posture']);
    expect(new Set(objects.map((o) => `${String(o['type'])}/${String(o['id'])}`)).size).toBe(objects.length);
  });

  it('has data views for every stream of the kit, keyed on @timestamp', () => {
    const titles = objects.filter((o) => o['type'] === 'index-pattern').map((o) => attrs(o)['title']).sort();
    expect(titles).toEqual(['logs-auditkit.*', 'logs-auditkit.agent-*', 'logs-auditkit.alerts-*', 'logs-auditkit.auditd-*', 'logs-auditkit.commands-*', 'logs-auditkit.deadletter-*', 'logs-auditkit.fim-*', 'logs-auditkit.inventory-*', 'logs-auditkit.posture-*', 'logs-auditkit.sessions-*']);
    for (const o of objects.filter((x) => x['type'] === 'index-pattern')) expect(attrs(o)['timeFieldName']).toBe('@timestamp');
  });

  it('is byte-identical from one build to the next (deterministic ids everywhere)', () => {
    expect(buildKitExport().ndjson).toBe(kit.ndjson);
  });

  it('lists data views before the objects that reference them', () => {
    const order = objects.map((o) => o['type']);
    expect(order.lastIndexOf('index-pattern')).toBeLessThan(order.indexOf('search'));
    expect(order.lastIndexOf('search')).toBeLessThan(order.indexOf('dashboard'));
  });

  it('references nothing outside itself', () => {
    const have = new Set(objects.map((o) => `${String(o['type'])}/${String(o['id'])}`));
    for (const o of objects) for (const r of refsOf(o)) expect(have.has(`${r.type}/${r.id}`) ? 'ok' : `${String(o['id'])} → ${r.type}/${r.id} (${r.name})`).toBe('ok');
  });

  it('stamps every object with migration versions no newer than the Kibana it targets', () => {
    for (const o of objects) {
      expect(o['coreMigrationVersion']).toBe(CORE_MIGRATION_VERSION);
      expect(o['typeMigrationVersion']).toBe(TYPE_MIGRATION_VERSION[o['type'] as keyof typeof TYPE_MIGRATION_VERSION]);
      expect(compareVersions(o['typeMigrationVersion'] as string, TARGET_KIBANA)).toBeLessThanOrEqual(0);
    }
    for (const d of dashboards) for (const p of panelsOf(d)) expect(p.version).toBe(PANEL_VERSION);
  });

  it('lays panels out on the 48-column grid without overlaps', () => {
    for (const d of dashboards) {
      const ps = panelsOf(d);
      for (const p of ps) {
        expect(p.gridData.i).toBe(p.panelIndex);
        expect(p.gridData.x + p.gridData.w).toBeLessThanOrEqual(48);
      }
      for (let i = 0; i < ps.length; i++) {
        for (let j = i + 1; j < ps.length; j++) {
          const a = ps[i]!.gridData;
          const b = ps[j]!.gridData;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap ? `${String(attrs(d)['title'])}: ${ps[i]!.title} overlaps ${ps[j]!.title}` : 'ok').toBe('ok');
        }
      }
    }
  });

  it('covers what Elastic\'s auditd dashboards lack: hosts, login outcomes, file changes and privilege escalation', () => {
    const all = kit.checks;
    const uses = (f: string): boolean => all.some((c) => c.fieldUses.some((u) => u.field === f));
    expect(uses('host.name')).toBe(true);
    expect(uses('event.outcome')).toBe(true);
    expect(uses('file.path')).toBe(true);
    expect(all.some((c) => c.title.startsWith('sudo and su'))).toBe(true);
    expect(uses('process.entry_leader.user.name')).toBe(true);
    expect(uses('user.target.name')).toBe(true);
  });
});

describeRefs('compared with real Kibana exports', () => {
  const sudo = loadRef(SUDO);
  const sudoAttrs = sudo['attributes'] as Obj;
  // The integrations source stores these three decoded; elastic-package stringifies them (SOURCES.md).
  const sudoPanels = sudoAttrs['panelsJSON'] as Panel[];
  const sudoLens = sudoPanels.filter((p) => p.type === 'lens');
  const auditd = loadRef(AUDITD_OVERVIEW);
  const auditdPanels = (auditd['attributes'] as Obj)['panelsJSON'] as Panel[];

  it('has every attribute the reference dashboard has, with panelsJSON, optionsJSON and searchSourceJSON as JSON strings', () => {
    for (const d of dashboards) {
      const a = attrs(d);
      for (const k of Object.keys(sudoAttrs)) expect(a).toHaveProperty(k);
      expect(typeof a['panelsJSON']).toBe('string');
      expect(Array.isArray(JSON.parse(a['panelsJSON'] as string))).toBe(true);
      expect(typeof a['optionsJSON']).toBe('string');
      expect(keys(JSON.parse(a['optionsJSON'] as string))).toEqual(keys(sudoAttrs['optionsJSON']));
      const ssj = (a['kibanaSavedObjectMeta'] as Obj)['searchSourceJSON'];
      expect(typeof ssj).toBe('string');
      expect(JSON.parse(ssj as string)).toHaveProperty('query', { language: 'kuery', query: '' });
    }
    for (const o of objects.filter((x) => x['type'] === 'search')) expect(typeof (attrs(o)['kibanaSavedObjectMeta'] as Obj)['searchSourceJSON']).toBe('string');
  });

  it('has the top-level keys of the reference export, with its core migration version', () => {
    for (const k of ['attributes', 'coreMigrationVersion', 'id', 'managed', 'references', 'type', 'typeMigrationVersion']) expect(keys(sudo)).toContain(k);
    for (const o of objects) expect(keys(o)).toEqual(['attributes', 'coreMigrationVersion', 'id', 'managed', 'references', 'type', 'typeMigrationVersion']);
    expect(sudo['coreMigrationVersion']).toBe(CORE_MIGRATION_VERSION);
    expect(sudo['typeMigrationVersion']).toBe(TYPE_MIGRATION_VERSION.dashboard);
  });

  it('builds Lens panels with the reference panel, attribute, state and layer keys', () => {
    const ref = sudoLens[0]!;
    const refAttrs = ref.embeddableConfig['attributes'] as Obj;
    const refState = refAttrs['state'] as Obj;
    const refLayer = Object.values(((refState['datasourceStates'] as Obj)['formBased'] as Obj)['layers'] as Obj)[0] as Obj;
    let n = 0;
    for (const d of dashboards) {
      for (const p of panelsOf(d).filter((x) => x.type === 'lens')) {
        n++;
        expect(keys(p)).toEqual(keys(ref));
        expect(keys(p.embeddableConfig)).toEqual(keys(ref.embeddableConfig));
        const a = p.embeddableConfig['attributes'] as Obj;
        expect(keys(a)).toEqual(keys(refAttrs));
        const st = a['state'] as Obj;
        expect(keys(st)).toEqual(keys(refState));
        expect(keys(st['datasourceStates'])).toEqual(keys(refState['datasourceStates']));
        const layers = ((st['datasourceStates'] as Obj)['formBased'] as Obj)['layers'] as Obj;
        expect(Object.keys(layers)).toHaveLength(1);
        expect(keys(Object.values(layers)[0])).toEqual(keys(refLayer));
      }
    }
    expect(n).toBeGreaterThanOrEqual(30);
  });

  it('writes count, terms and date_histogram columns exactly as the reference does', () => {
    const refCols = new Map<string, Obj>();
    for (const p of sudoLens) {
      const st = (p.embeddableConfig['attributes'] as Obj)['state'] as Obj;
      for (const layer of Object.values(((st['datasourceStates'] as Obj)['formBased'] as Obj)['layers'] as Obj)) {
        for (const c of Object.values((layer as Obj)['columns'] as Obj)) refCols.set((c as Obj)['operationType'] as string, c as Obj);
      }
    }
    expect([...refCols.keys()].sort()).toEqual(['count', 'date_histogram', 'terms']);
    for (const d of dashboards) {
      for (const p of panelsOf(d).filter((x) => x.type === 'lens')) {
        const st = (p.embeddableConfig['attributes'] as Obj)['state'] as Obj;
        const layer = Object.values(((st['datasourceStates'] as Obj)['formBased'] as Obj)['layers'] as Obj)[0] as Obj;
        const cols = layer['columns'] as Obj;
        expect(keys(cols)).toEqual([...(layer['columnOrder'] as string[])].sort());
        for (const c of Object.values(cols) as Obj[]) {
          const ref = refCols.get(c['operationType'] as string);
          if (ref) {
            expect(keys(c)).toEqual(keys(ref));
            expect(keys(c['params'])).toEqual(keys(ref['params']));
            if (c['operationType'] === 'count') expect(c['sourceField']).toBe('___records___');
          } else {
            // unique_count / max: the metric column shape (no bucket params).
            expect(['unique_count', 'max', 'sum', 'min', 'average']).toContain(c['operationType']);
            expect(c['isBucketed']).toBe(false);
            expect(typeof c['sourceField']).toBe('string');
          }
        }
      }
    }
  });

  it('writes XY and datatable visualizations with the reference keys', () => {
    const refXy = ((sudoLens.find((p) => (p.embeddableConfig['attributes'] as Obj)['visualizationType'] === 'lnsXY')!.embeddableConfig['attributes'] as Obj)['state'] as Obj)['visualization'] as Obj;
    const refTable = ((sudoLens.find((p) => (p.embeddableConfig['attributes'] as Obj)['visualizationType'] === 'lnsDatatable')!.embeddableConfig['attributes'] as Obj)['state'] as Obj)['visualization'] as Obj;
    const refXyLayer = (refXy['layers'] as Obj[])[0]!;
    for (const d of dashboards) {
      for (const p of panelsOf(d).filter((x) => x.type === 'lens')) {
        const a = p.embeddableConfig['attributes'] as Obj;
        const vis = (a['state'] as Obj)['visualization'] as Obj;
        if (a['visualizationType'] === 'lnsXY') {
          for (const k of Object.keys(refXy)) expect(vis).toHaveProperty(k);
          const layer = (vis['layers'] as Obj[])[0]!;
          for (const k of Object.keys(refXyLayer).filter((x) => x !== 'splitAccessor' || 'splitAccessor' in layer)) expect(layer).toHaveProperty(k);
        }
        if (a['visualizationType'] === 'lnsDatatable') expect(keys(vis)).toEqual(keys(refTable));
      }
    }
  });

  it('names data-view references <panelIndex>:indexpattern-datasource-layer-<layerId> and re-declares every Lens reference on the dashboard', () => {
    // The reference's own pattern, read from the file.
    const refPattern = /^[0-9a-f-]{36}:indexpattern-datasource-layer-[0-9a-f-]{36}$/;
    expect((sudo['references'] as Array<{ name: string }>).some((r) => refPattern.test(r.name))).toBe(true);
    for (const d of dashboards) {
      const names = new Map(refsOf(d).map((r) => [r.name, r]));
      for (const p of panelsOf(d).filter((x) => x.type === 'lens')) {
        const a = p.embeddableConfig['attributes'] as Obj;
        const inner = a['references'] as Array<{ name: string; type: string; id: string }>;
        const layerId = Object.keys((((a['state'] as Obj)['datasourceStates'] as Obj)['formBased'] as Obj)['layers'] as Obj)[0]!;
        expect(inner[0]!.name).toBe(`indexpattern-datasource-layer-${layerId}`);
        for (const r of inner) {
          expect(r.type).toBe('index-pattern');
          expect(names.get(`${p.panelIndex}:${r.name}`)).toEqual({ ...r, name: `${p.panelIndex}:${r.name}` });
        }
        expect(refPattern.test(`${p.panelIndex}:${inner[0]!.name}`)).toBe(true);
        // Filters point at references by name, as the reference's "exists" filter does.
        for (const f of ((a['state'] as Obj)['filters'] as Array<{ meta: { index: string } }>)) expect(inner.map((r) => r.name)).toContain(f.meta.index);
      }
    }
  });

  it('embeds saved searches by reference as <panelIndex>:panel_<n> of type search, like the Auditd Manager overview', () => {
    const refSearchPanel = auditdPanels.find((p) => p.type === 'search')!;
    const refRef = (auditd['references'] as Array<{ name: string; type: string }>).find((r) => r.type === 'search')!;
    expect(refRef.name).toBe(`${refSearchPanel.panelIndex}:${refSearchPanel.panelRefName!}`);
    let n = 0;
    for (const d of dashboards) {
      for (const p of panelsOf(d).filter((x) => x.type === 'search')) {
        n++;
        for (const k of Object.keys(refSearchPanel)) expect(p).toHaveProperty(k);
        expect(refsOf(d)).toContainEqual(expect.objectContaining({ name: `${p.panelIndex}:${p.panelRefName!}`, type: 'search' }));
      }
    }
    expect(n).toBe(6);
  });

  it('writes the navigation panel as the reference markdown panel is written', () => {
    const refMd = auditdPanels.find((p) => p.type === 'visualization' && ((p.embeddableConfig['savedVis'] as Obj | undefined)?.['type'] === 'markdown'))!;
    for (const d of dashboards) {
      const md = panelsOf(d).find((p) => p.type === 'visualization')!;
      expect(keys(md)).toEqual(keys(refMd));
      expect(keys(md.embeddableConfig)).toEqual(keys(refMd.embeddableConfig));
      expect(keys(md.embeddableConfig['savedVis'])).toEqual(keys(refMd.embeddableConfig['savedVis']));
      const links = [...String(((md.embeddableConfig['savedVis'] as Obj)['params'] as Obj)['markdown']).matchAll(/\(#\/view\/([^)]+)\)/g)].map((m) => m[1]);
      expect(links).toHaveLength(5);
      for (const id of links) expect(dashboards.map((x) => x['id'])).toContain(id);
    }
  });

  it('gives saved searches a data view reference named kibanaSavedObjectMeta.searchSourceJSON.index', () => {
    const refName = (auditd['references'] as Array<{ name: string }>).find((r) => r.name.endsWith('kibanaSavedObjectMeta.searchSourceJSON.index'))!.name;
    expect(refName.split(':')[1]).toBe('kibanaSavedObjectMeta.searchSourceJSON.index');
    for (const o of objects.filter((x) => x['type'] === 'search')) {
      const ssj = JSON.parse((attrs(o)['kibanaSavedObjectMeta'] as Obj)['searchSourceJSON'] as string) as Obj;
      expect(ssj['indexRefName']).toBe('kibanaSavedObjectMeta.searchSourceJSON.index');
      expect(refsOf(o)).toContainEqual(expect.objectContaining({ name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }));
      for (const [i, f] of (ssj['filter'] as Array<{ meta: Obj }>).entries()) {
        expect(f.meta['indexRefName']).toBe(`kibanaSavedObjectMeta.searchSourceJSON.filter[${i}].meta.index`);
        expect(refsOf(o).map((r) => r.name)).toContain(f.meta['indexRefName']);
      }
      expect(attrs(o)['sort']).toEqual([['@timestamp', 'desc']]);
    }
  });
});
