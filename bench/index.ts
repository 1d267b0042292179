import type { Benchmark } from './types';
import { schemaBench } from './schema';
import { shellBench } from './shell';
import { auditdBench } from './auditd';
import { pipelineBench } from './pipeline';
import { reportsBench } from './reports';
import { deployBench } from './deploy';
import { rulesBench } from './rules';
import { postureBench } from './posture';
import { bastionBench } from './bastion';

/** Every benchmark, in the order `npm run bench` runs them. Add yours here. */
export const BENCHMARKS: readonly Benchmark[] = [schemaBench, shellBench, auditdBench, pipelineBench, reportsBench, deployBench, rulesBench, postureBench, bastionBench];
