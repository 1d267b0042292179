/**
 * collectors/: the host agent. Sources (file tailer with checkpoints, listeners),
 * parsers and normalisers (auditd/, shell/), the pipeline (spool, sink), and the
 * agent that wires them (agent.ts). Other units import only this file (and
 * config.ts for the config schema).
 */
export { type ParseOutput, type RawRecord } from './types';
export { parserByKind, PARSERS } from './parsers';
export { type CollectorConfig, collectorConfigSchema } from './config';
export { runAgent, agentSummary } from './agent';
export {
  runPipeline, sniffFormat, sinkOptionsFromConfig, pipelineOptionsFromConfig, collectorAgent, collectorHost,
  RecordJournal, type PipelineInput, type PipelineOptions, type PipelineResult,
} from './pipeline';
export { AuditAssembler, NO_RESOLVER } from './auditd';
export { startHookReceiver, type HookReceiver } from './shell';
export { runPostureScan, scanTargetsFrom, PostureService, defaultPostureConfig } from './posture';
