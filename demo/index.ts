/**
 * demo/: the fleet simulator and the demo that runs the whole kit over it.
 * Other units (the CLI, tests, benchmarks) import only this file.
 */
export { runDemo, type DemoSummary } from './demo';
export { DEFAULT_SIM_START, referenceAlerts, simulateFleet, simulateTimeline, timelineDocuments, type SimDocument, type SimulatedFleet } from './simulate';
