/**
 * demo/: the fleet simulator and the demo that runs the whole kit over it.
 * Other units (the CLI, tests, benchmarks) import only this file.
 */
export { runDemo, STORY_RULES, type DemoOptions, type DemoResult, type DemoSummary } from './demo';
export {
  DEFAULT_SIM_START, referenceAlerts, simAgentId, simulateFleet, simulateTimeline, STORIES, timelineDocuments, writeRawFleet,
  type RawHost, type SimDocument, type SimulatedFleet, type StoryName,
} from './simulate';
