/**
 * Every test file's `ak-*` temporary directories are removed when the file ends, pass or fail.
 * Tests make them with fs.mkdtemp(Sync) under os.tmpdir(); many removed them only on success
 * (or never), leaving ~24 /tmp/ak-* per run. The creation is recorded here and undone in a
 * root-level afterAll. jest-circus runs after* hooks in declaration order, so this one runs
 * BEFORE a test file's own root-level afterAll: a cleanup that still needs its temp dir (a
 * state file naming a process to stop) belongs in an afterAll inside a describe block, which
 * runs when that block ends (test/demo/demo.test.ts does).
 */
import * as os from 'node:os';
import * as path from 'node:path';

// The module object itself (an `import * as` is a copy made by the transform): patched once per worker.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof import('node:fs');
const made: string[] = [];
const MARK = Symbol.for('auditkit.tmp-cleanup');
const isOurs = (prefix: string): boolean => path.basename(prefix).startsWith('ak-') && path.dirname(path.resolve(prefix)) === path.resolve(os.tmpdir());

type Patched = typeof fs & { [MARK]?: (dir: string) => void };
const pfs = fs as Patched;
if (!pfs[MARK]) {
  const origSync = fs.mkdtempSync;
  const origAsync = fs.promises.mkdtemp;
  pfs[MARK] = (dir: string): void => void made.push(dir);
  const record = (prefix: string, dir: unknown): void => {
    if (typeof dir === 'string' && isOurs(prefix)) pfs[MARK]?.(dir);
  };
  (fs as { mkdtempSync: unknown }).mkdtempSync = function (this: unknown, prefix: string, ...rest: unknown[]): unknown {
    const dir = (origSync as (...a: unknown[]) => unknown).call(this, prefix, ...rest);
    record(prefix, dir);
    return dir;
  };
  (fs.promises as { mkdtemp: unknown }).mkdtemp = async function (this: unknown, prefix: string, ...rest: unknown[]): Promise<unknown> {
    const dir = await (origAsync as (...a: unknown[]) => Promise<unknown>).call(this, prefix, ...rest);
    record(prefix, dir);
    return dir;
  };
} else {
  pfs[MARK] = (dir: string): void => void made.push(dir);
}

afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
