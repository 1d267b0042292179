import { BASTION_SESSION_FIELD, buildKitExport, replayUrlTemplate } from './export';

type Obj = Record<string, unknown>;
const byId = (objects: readonly Obj[], id: string): Obj => {
  const o = objects.find((x) => x['id'] === id);
  if (!o) throw new Error(`no saved object ${id}`);
  return o;
};
const formats = (o: Obj): Record<string, { id: string; params: Record<string, unknown> }> => JSON.parse((o['attributes'] as Obj)['fieldFormatMap'] as string) as Record<string, { id: string; params: Record<string, unknown> }>;

describe('the bastion sessions view and its link to the portal replay', () => {
  it('has a sessions data view and a saved search of ended sessions whose first column is the session id', () => {
    const kit = buildKitExport();
    const objects = kit.objects as unknown as Obj[];
    expect((byId(objects, 'auditkit-sessions')['attributes'] as Obj)['title']).toBe('logs-auditkit.sessions-*');
    const search = byId(objects, 'auditkit-search-bastion-sessions');
    expect((search['attributes'] as Obj)['columns']).toEqual(expect.arrayContaining([BASTION_SESSION_FIELD, 'auditkit.bastion.user', 'host.name', 'event.reason']));
    expect(((search['attributes'] as Obj)['columns'] as string[])[0]).toBe(BASTION_SESSION_FIELD);
    expect(search['references']).toContainEqual({ id: 'auditkit-sessions', name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' });
    const src = JSON.parse(((search['attributes'] as Obj)['kibanaSavedObjectMeta'] as Obj)['searchSourceJSON'] as string) as { filter: Array<{ meta: { key: string; params: { query: string } } }> };
    expect(src.filter.map((f) => [f.meta.key, f.meta.params.query])).toEqual([['event.action', 'bastion-session-end']]);
    // Without a portal the kit has nothing to link to: no field formats at all.
    for (const o of objects.filter((x) => x['type'] === 'index-pattern')) expect(formats(o)).toEqual({});
  });

  it('formats the session id of the sessions and commands data views as a link to <portal>/replay/<id> when a portal is configured', () => {
    const objects = buildKitExport({ replayPortal: 'https://bastion.example.org:8443/' }).objects as unknown as Obj[];
    expect(replayUrlTemplate('https://bastion.example.org:8443/')).toBe('https://bastion.example.org:8443/replay/{{value}}');
    for (const id of ['auditkit-sessions', 'auditkit-commands']) {
      expect(formats(byId(objects, id))).toEqual({
        [BASTION_SESSION_FIELD]: { id: 'url', params: { type: 'a', urlTemplate: 'https://bastion.example.org:8443/replay/{{value}}', labelTemplate: '{{value}}', openLinkInCurrentTab: false } },
      });
    }
    for (const o of objects.filter((x) => x['type'] === 'index-pattern' && !['auditkit-sessions', 'auditkit-commands'].includes(x['id'] as string))) expect(formats(o)).toEqual({});
    // Still deterministic: the same options give the same bytes.
    expect(buildKitExport({ replayPortal: 'https://bastion.example.org:8443/' }).ndjson).toBe(buildKitExport({ replayPortal: 'https://bastion.example.org:8443' }).ndjson);
  });
});
