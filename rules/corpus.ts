/**
 * Precision/recall of a rule set on a labelled command corpus
 * (../shared/corpora/commands/*.jsonl: {command, label, category}). Each line
 * becomes the process event the collector emits; an event counts as flagged
 * when any rule raises on it.
 */
import { readFileSync } from 'node:fs';
import { compileRule, createStreamingEngine } from './engine';
import { commandEvent } from './events';
import type { RuleDef } from './types';

export interface CorpusLine {
  readonly command: string;
  readonly label: 'dangerous' | 'benign';
  readonly category: string;
}

export interface CategoryScore {
  readonly category: string;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  readonly precision: number;
  readonly recall: number;
}

export interface CorpusScore {
  readonly overall: CategoryScore;
  readonly categories: readonly CategoryScore[];
  readonly misses: readonly CorpusLine[];
  readonly falseAlarms: ReadonlyArray<CorpusLine & { readonly rules: readonly string[] }>;
}

export function readCorpus(file: string): CorpusLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CorpusLine);
}

function score(category: string, tp: number, fp: number, fn: number, tn: number): CategoryScore {
  return { category, tp, fp, fn, tn, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp + fn === 0 ? 1 : tp / (tp + fn) };
}

export function scoreCorpus(rules: readonly RuleDef[], lines: readonly CorpusLine[]): CorpusScore {
  const matchRules = rules.filter((r) => r.type === 'match').map((r) => compileRule(r));
  const by = new Map<string, [number, number, number, number]>();
  const misses: CorpusLine[] = [];
  const falseAlarms: Array<CorpusLine & { rules: string[] }> = [];
  let tp = 0, fp = 0, fn = 0, tn = 0;
  // One engine for every line: a match rule reports its id in `matched` whenever its condition holds,
  // before any suppression, so lines cannot influence each other (a fresh engine per line cost ~40 ms each).
  const engine = createStreamingEngine(matchRules);
  lines.forEach((l, i) => {
    const { matched } = engine.evaluate(commandEvent(l.command, { id: `corpus-${i}` }));
    const flagged = matched.length > 0;
    const c = by.get(l.category) ?? [0, 0, 0, 0];
    if (l.label === 'dangerous' && flagged) {
      c[0]++;
      tp++;
    } else if (l.label === 'benign' && flagged) {
      c[1]++;
      fp++;
      falseAlarms.push({ ...l, rules: [...matched] });
    } else if (l.label === 'dangerous') {
      c[2]++;
      fn++;
      misses.push(l);
    } else {
      c[3]++;
      tn++;
    }
    by.set(l.category, c);
  });
  return {
    overall: score('all', tp, fp, fn, tn),
    categories: [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, [a, b, c, d]]) => score(k, a, b, c, d)),
    misses,
    falseAlarms,
  };
}
