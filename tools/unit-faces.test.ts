/**
 * Each unit's index.ts exports what others use and nothing else (issue 13), by
 * name: no `export *`, no name that no file outside the unit imports, no
 * namespace import of a face (which would use every name at once). To see the
 * faces, read tools/unit-faces.ts; a failure here names the unit and the names.
 */
import * as path from 'node:path';
import { unitFaces, type Face } from './unit-faces';

const ROOT = path.resolve(__dirname, '..');

let faces: Face[];
beforeAll(() => {
  faces = unitFaces(ROOT);
});

test('the tree has the units the lint rule knows', () => {
  expect(faces.map((f) => f.unit).sort()).toEqual(['bastion', 'cli', 'collectors', 'core', 'dashboards', 'demo', 'deploy', 'elastic', 'fleet', 'reports', 'rules', 'schema']);
  // The scan sees imports at all: the CLI takes run() through cli/index.ts from tests.
  expect(faces.find((f) => f.unit === 'cli')?.usedBy.get('run')?.length).toBeGreaterThan(0);
});

test('no face re-exports a whole file (export *)', () => {
  expect(faces.filter((f) => f.stars.length > 0).map((f) => `${f.unit}/index.ts: export * from ${f.stars.join(', ')}`)).toEqual([]);
});

test('no face is imported as a namespace', () => {
  expect(faces.filter((f) => f.usedBy.has('*')).map((f) => `${f.unit}: import * by ${f.usedBy.get('*')?.join(', ')}`)).toEqual([]);
});

test('every name a face exports is imported by someone outside the unit', () => {
  const extra = faces.map((f) => ({ unit: f.unit, names: f.unused })).filter((x) => x.names.length > 0);
  expect(extra.map((x) => `${x.unit}/index.ts exports, unused outside: ${x.names.join(', ')}`)).toEqual([]);
});
