/**
 * Every *.test.ts of the repository is in exactly one jest project (unit, int,
 * e2e; see jest.config.js): a test in none would never run, and one in two
 * would run twice and blur what `npm run test:int` and `test:e2e` mean. Asked of
 * jest itself (`--listTests`), so the check is jest's own matching.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const PROJECTS = ['unit', 'int', 'e2e'] as const;

function testFilesOnDisk(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!['node_modules', 'dist', 'coverage'].includes(e.name) && !e.name.startsWith('.')) walk(path.join(dir, e.name));
      } else if (e.name.endsWith('.test.ts')) out.push(path.relative(ROOT, path.join(dir, e.name)));
    }
  };
  walk(ROOT);
  return out.sort();
}

function listed(project: string): string[] {
  const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--listTests', '--json', '--selectProjects', project], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`jest --listTests --selectProjects ${project} failed: ${r.stderr}`);
  const json = r.stdout.slice(r.stdout.indexOf('['));
  return (JSON.parse(json) as string[]).map((f) => path.relative(ROOT, f));
}

describe('the jest projects', () => {
  it('hold every test file of the repository exactly once', () => {
    const where = new Map<string, string[]>();
    for (const p of PROJECTS) for (const f of listed(p)) where.set(f, [...(where.get(f) ?? []), p]);
    const wrong = testFilesOnDisk()
      .map((f) => [f, where.get(f) ?? []] as const)
      .filter(([, ps]) => ps.length !== 1)
      .map(([f, ps]) => `${f}: ${ps.length === 0 ? 'in no project' : `in ${ps.join(' and ')}`}`);
    expect(wrong).toEqual([]);
    expect([...where.keys()].filter((f) => f.startsWith('test/') && where.get(f)?.[0] === 'unit')).toEqual([]);
  });
});
