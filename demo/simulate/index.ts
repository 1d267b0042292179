/**
 * The fleet activity simulator: a deterministic week of a realistic Linux fleet
 * (normal admin work plus attack stories) as a typed timeline, its ECS documents
 * as the collectors emit them, and the alerts the reference rules raise on it.
 * Used by report tests, benchmarks and (through raw-format writers) the demo.
 */
export * from './timeline';

export { simulateTimeline, buildFleet, splitArgs, ATTACKER_IPS, DEFAULT_SIM_START, type SimulateOptions, type SimIncidents } from './generate';
export { timelineDocuments, countByDataset, simAgentId, type SimDocument, type ToDocumentsOptions } from './ecs';
export { referenceAlerts, REFERENCE_RULES, BRUTEFORCE_RULE, type ReferenceRule } from './alerts';

import { simulateTimeline, type SimulateOptions, type SimIncidents } from './generate';
import { timelineDocuments, type SimDocument } from './ecs';
import { referenceAlerts } from './alerts';
import type { SimTimeline } from './timeline';

export interface SimulatedFleet extends SimTimeline {
  readonly incidents: SimIncidents;
  /** Events of every dataset except alerts, in time order. */
  readonly documents: readonly SimDocument[];
  /** Reference alerts (`auditkit.alerts`). */
  readonly alerts: readonly SimDocument[];
}

/** The whole simulation: timeline, documents and reference alerts. */
export function simulateFleet(opts: SimulateOptions & { namespace?: string } = {}): SimulatedFleet {
  const tl = simulateTimeline(opts);
  const ns = opts.namespace ?? 'default';
  const documents = timelineDocuments(tl, { namespace: ns });
  return { ...tl, documents, alerts: referenceAlerts(documents, ns) };
}
export { writeRawFleet, type RawHost, type RawFile, type RawFormat } from './raw';
