/**
 * `npm run bench [-- NAME...]`: runs the benchmarks and prints each figure with its
 * ratio against a baseline or peer measured in the same run. Never a pass/fail.
 * Benchmarks are listed in bench/index.ts (one literal array).
 */
import { BENCHMARKS } from './index';
import type { BenchResult } from './types';
import { exitWhenDone } from './exit-when-done';

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

export function printResults(results: readonly BenchResult[]): void {
  for (const r of results) {
    let line = `  ${r.name}: ${fmt(r.value)} ${r.unit}`;
    if (r.baseline) line += `  | ${r.baseline.name}: ${fmt(r.baseline.value)} ${r.baseline.unit}`;
    if (r.ratio !== undefined) line += `  | ratio ${r.ratio.toFixed(2)}`;
    if (r.note) line += `  (${r.note})`;
    process.stdout.write(line + '\n');
  }
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const json = process.argv.includes('--json');
  const all: Record<string, BenchResult[]> = {};
  for (const b of BENCHMARKS) {
    if (wanted.length > 0 && !wanted.includes(b.name)) continue;
    if (!json) process.stdout.write(`${b.name}: ${b.description}\n`);
    try {
      const res = await b.run();
      all[b.name] = res;
      if (!json) printResults(res);
    } catch (err) {
      process.stdout.write(`  failed: ${(err as Error).message}\n`);
    }
  }
  if (json) process.stdout.write(JSON.stringify(all, null, 2) + '\n');
}

if (require.main === module) {
  exitWhenDone(main());
}
