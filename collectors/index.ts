/**
 * collectors/: the host agent. Sources (file tailer with checkpoints, listeners),
 * parsers and normalisers (auditd/, shell/), the pipeline (spool, sink), and the
 * agent that wires them (agent.ts). Other units import only this file (and
 * config.ts for the config schema).
 */
export * from './types';
export * from './parsers';
export * from './config';
export { runAgent, agentSummary, type AgentOptions } from './agent';
export { runPipeline, sniffFormat, sinkOptionsFromConfig, pipelineOptionsFromConfig, collectorAgent, collectorHost, RecordJournal, type PipelineInput, type PipelineOptions, type PipelineResult } from './pipeline';
export { AuditAssembler, NO_RESOLVER } from './auditd';
export { startHookReceiver, type HookReceiver } from './shell';
export { runPostureScan, scanTargetsFrom, postureStateDir, PostureService, defaultPostureConfig, type PostureScanOptions, type PostureScanResult } from './posture';
