/**
 * Data stream names, by Elastic's scheme `logs-<dataset>-<namespace>`.
 * In "index mode" (clusters that cannot create data streams) the same names are
 * plain indices, written the same way (`op_type: create`), so readers and writers
 * never care which mode a cluster is in.
 */
export const DATASETS = ['commands', 'auditd', 'alerts', 'agent', 'deadletter', 'sessions', 'fim', 'inventory', 'posture', 'tasks'] as const;
export type Dataset = (typeof DATASETS)[number];

export const DATASET_DESCRIPTIONS: Readonly<Record<Dataset, string>> = {
  commands: 'interactive shell commands (history hook, bastion sessions, legacy logs)',
  auditd: 'auditd / Auditbeat events (process starts, logins, auth, account and config changes, file access)',
  alerts: 'alerts raised by rules',
  agent: 'collector heartbeats and self-metrics',
  deadletter: 'documents Elasticsearch refused or parsers could not read, with the reason and the original',
  sessions: 'bastion session lifecycle and recordings index',
  fim: 'file integrity: created/changed/deleted/attributes, hashes, old values, who changed it (joined from auditd)',
  inventory: 'host state and its changes: logins (wtmp/btmp), accounts, packages, listening sockets and exposure, processes',
  posture: 'baseline check results with evidence, remediation and compliance references; a score per host per scan',
  tasks: 'bastion batch tasks: one document per task start and per host result (exit code, capped stdout/stderr, duration)',
};

export const DEFAULT_NAMESPACE = 'default';

/** `auditkit.commands` */
export function datasetName(dataset: Dataset): string {
  return `auditkit.${dataset}`;
}

/** `logs-auditkit.commands-default` */
export function streamName(dataset: Dataset, namespace: string = DEFAULT_NAMESPACE): string {
  return `logs-auditkit.${dataset}-${namespace}`;
}

/** `logs-auditkit.commands-*`: every namespace of one dataset. */
export function streamPattern(dataset: Dataset): string {
  return `logs-auditkit.${dataset}-*`;
}

/** Every auditkit stream in every namespace. */
export const ALL_STREAMS_PATTERN = 'logs-auditkit.*';

export function isDataset(s: string): s is Dataset {
  return (DATASETS as readonly string[]).includes(s);
}

/**
 * Elastic's namespace rules: lower case, no `-\/*?"<>|,# :` and at most 100 bytes.
 * Returns a problem description, or undefined when valid.
 */
export function namespaceProblem(ns: string): string | undefined {
  if (ns.length === 0) return 'must not be empty';
  if (Buffer.byteLength(ns) > 100) return 'must be at most 100 bytes';
  if (ns !== ns.toLowerCase()) return 'must be lower case';
  const bad = /[-\\/*?"<>|,# :]/.exec(ns);
  if (bad) return `must not contain ${JSON.stringify(bad[0])}`;
  if (ns.startsWith('_') || ns.startsWith('+') || ns.startsWith('.')) return 'must not start with _, + or .';
  return undefined;
}
