import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

function findPackageJson(): { version: string; root: string } {
  // Works from the sources (core/) and from the build (dist/core/).
  for (const up of ['..', '../..']) {
    const p = path.resolve(__dirname, up, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'auditkit') return { version: pkg.version ?? '0.0.0', root: path.dirname(p) };
    }
  }
  return { version: '0.0.0', root: process.cwd() };
}

const found = findPackageJson();

/** The kit's version, from package.json. */
export const KIT_VERSION: string = found.version;
/** The repository / package root (where package.json is). */
export const KIT_ROOT: string = found.root;
