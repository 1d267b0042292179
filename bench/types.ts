/** One benchmark figure, with the baseline or peer it is compared to in the same run. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly name: string; readonly value: number; readonly unit: string };
  /** value / baseline.value (or the inverse where lower is better: say so in `note`). */
  readonly ratio?: number;
  readonly note?: string;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(): Promise<BenchResult[]>;
}
