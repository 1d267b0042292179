import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Where the kit's shipped assets are. Several units need them (the rules engine loads
 * the built-in packs, deploy copies them to hosts), so their location is decided once,
 * here, and not by one unit for the others.
 */

/**
 * A folder of shipped assets: `name/` next to the running file (a deployed bundle carries
 * its assets there), or `unit/name` in the source tree above it (sources and dist/).
 * `probe` is a file the folder holds, so a stray folder of that name is not taken.
 */
export function shippedAssetDir(unit: string, name: string, probe: string): string {
  const here = path.resolve(__dirname, name);
  if (existsSync(path.join(here, probe))) return here;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, unit, name);
    if (existsSync(path.join(cand, probe))) return cand;
    dir = path.dirname(dir);
  }
  return here;
}

/** The built-in rule packs: `builtin/` next to the running file (the deployed bundle), or rules/builtin in the source tree above it (sources and dist/). */
export function builtinRulesDir(): string {
  return shippedAssetDir('rules', 'builtin', 'destructive.yml');
}
