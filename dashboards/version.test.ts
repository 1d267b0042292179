import { objectsNewerThan } from './provision';
import { compareVersions, TARGET_KIBANA, versionProblem } from './version';

describe('the Kibana version gate', () => {
  it('accepts the target version, newer minors and the next major', () => {
    for (const v of [TARGET_KIBANA, '8.10.4', '8.19.0', '9.0.0', '9.3.1', '8.12.0-SNAPSHOT']) expect(versionProblem(v)).toBeUndefined();
  });

  it('refuses an older Kibana, saying which version is needed', () => {
    expect(versionProblem('8.9.9')).toBe(`Kibana 8.9.9 is older than ${TARGET_KIBANA}, the oldest version the kit's dashboards are written for (saved objects never import into an older Kibana). Upgrade Kibana to ${TARGET_KIBANA} or later`);
    expect(versionProblem('7.17.20')).toMatch(/^Kibana 7\.17\.20 is older than/);
  });

  it('refuses a Kibana two majors ahead and a version that is not a number', () => {
    expect(versionProblem('10.0.0')).toMatch(/more than one major newer/);
    expect(versionProblem('latest')).toBe('Kibana reported version "latest", which is not a version number');
  });

  it('compares versions numerically, not as text', () => {
    expect(compareVersions('8.10.0', '8.9.0')).toBeGreaterThan(0);
    expect(compareVersions('8.9.0', '8.10.0')).toBeLessThan(0);
    expect(compareVersions('9.0.0', '9.0.0')).toBe(0);
  });
});

describe('objects newer than a Kibana', () => {
  it('names each object whose migration stamps or panel versions are newer', () => {
    const objs = [
      { type: 'dashboard', id: 'a', coreMigrationVersion: '8.8.0', typeMigrationVersion: '8.9.0', attributes: { panelsJSON: JSON.stringify([{ panelIndex: 'p1', version: '8.16.0' }]) } },
      { type: 'index-pattern', id: 'b', migrationVersion: { 'index-pattern': '8.17.0' }, attributes: {} },
      { type: 'search', id: 'c', coreMigrationVersion: '8.8.0', typeMigrationVersion: '10.5.0', attributes: {} },
    ];
    expect(objectsNewerThan(objs, '8.14.0')).toEqual(['dashboard a: panel p1 version 8.16.0', 'index-pattern b: migrationVersion.index-pattern 8.17.0']);
  });
});
