import type { Benchmark } from './types';
import { schemaBench } from './schema';
import { auditdBench } from './auditd';

/** Every benchmark, in the order `npm run bench` runs them. Add yours here. */
export const BENCHMARKS: readonly Benchmark[] = [schemaBench, auditdBench];
