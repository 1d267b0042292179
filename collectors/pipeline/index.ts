export { runPipeline, sniffFormat, type PipelineInput, type PipelineOptions, type PipelineResult } from './pipeline';
export { Spool, FrameKind, encodeFrame, type FsyncPolicy, type SpoolEntry, type SpoolRecovery } from './spool';
export { FileTailer, expandGlob, type TailItem, type TailerOptions } from './tailer';
export { CheckpointStore, fileIdOf, type FileCheckpoint } from './checkpoints';
export { ElasticsearchSink, namespaceOfIndex, type SinkOptions, type SinkSettings } from './sink';
export { newCounters, totalDropped, type Counters } from './counters';
export { ndjsonParser, createNdjsonParser } from './ndjson';
export { pipelineOptionsFromConfig, sinkOptionsFromConfig, collectorHost, collectorAgent } from './from-config';
export { RecordJournal } from './journal';
