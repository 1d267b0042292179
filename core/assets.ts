import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Where the kit's shipped assets are. Several units need them (the rules engine loads
 * the built-in packs, deploy copies them to hosts), so their location is decided once,
 * here, and not by one unit for the others.
 */

/** The built-in rule packs: `builtin/` next to the running file (the deployed bundle), or rules/builtin in the source tree above it (sources and dist/). */
export function builtinRulesDir(): string {
  const here = path.resolve(__dirname, 'builtin');
  if (existsSync(path.join(here, 'destructive.yml'))) return here;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, 'rules', 'builtin');
    if (existsSync(path.join(cand, 'destructive.yml'))) return cand;
    dir = path.dirname(dir);
  }
  return here;
}
