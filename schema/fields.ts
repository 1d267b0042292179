import type { Dataset } from './streams';
import { expandEcsSelector } from './ecs';
import { KIT_FIELDS } from './kit-fields';

/**
 * The ECS fields each dataset emits. Mappings are generated from these lists and
 * `@elastic/ecs` (never hand-copied types). `x.*` means the ECS leaves directly
 * under `x`. A field an emitter writes that is not listed here is still
 * accepted (dynamic mapping) but gets no ECS type: keep the lists complete.
 */
const BASE: readonly string[] = [
  '@timestamp', 'message', 'tags', 'labels',
  'ecs.version',
  'data_stream.type', 'data_stream.dataset', 'data_stream.namespace',
  'event.*',
  'host.name', 'host.hostname', 'host.id', 'host.ip', 'host.mac', 'host.architecture', 'host.type', 'host.boot.id',
  'host.os.*',
  'agent.*',
  'related.*',
  'log.file.path', 'log.level', 'log.logger',
  'error.*',
  'observer.name', 'observer.hostname', 'observer.type', 'observer.vendor', 'observer.product',
];

const USER: readonly string[] = [
  'user.*', 'user.group.*', 'user.effective.*', 'user.effective.group.*', 'user.target.*', 'user.target.group.*',
  'user.changes.*', 'user.changes.group.*',
  'group.*',
];

const PROCESS: readonly string[] = [
  'process.*', 'process.tty.*', 'process.tty.char_device.major', 'process.tty.char_device.minor',
  'process.parent.pid', 'process.parent.name', 'process.parent.executable', 'process.parent.command_line', 'process.parent.args', 'process.parent.entity_id',
  'process.user.*', 'process.real_user.*', 'process.saved_user.*', 'process.group.*', 'process.real_group.*',
  'process.session_leader.pid', 'process.session_leader.entity_id',
  'process.entry_leader.pid', 'process.entry_leader.entity_id', 'process.entry_leader.user.id', 'process.entry_leader.user.name',
  'process.entry_leader.entry_meta.type', 'process.entry_leader.entry_meta.source.ip',
];

const NETWORK: readonly string[] = [
  'source.ip', 'source.port', 'source.address', 'source.domain',
  'destination.ip', 'destination.port', 'destination.address', 'destination.domain',
  'client.ip', 'client.port', 'client.address',
  'server.ip', 'server.port', 'server.address',
  'network.direction', 'network.transport', 'network.protocol', 'network.type', 'network.iana_number',
];

const FILE: readonly string[] = [
  'file.*', 'file.hash.*',
];

const RULE_THREAT: readonly string[] = [
  'rule.*',
  'threat.framework', 'threat.tactic.*', 'threat.technique.*', 'threat.technique.subtechnique.*',
];

const SERVICE: readonly string[] = ['service.name', 'service.type', 'service.version', 'service.id'];

export const DATASET_FIELDS: Readonly<Record<Dataset, readonly string[]>> = {
  commands: [...BASE, ...USER, ...PROCESS, ...NETWORK],
  auditd: [...BASE, ...USER, ...PROCESS, ...NETWORK, ...FILE, 'package.name', 'package.version', 'service.name', 'service.type'],
  alerts: [...BASE, ...USER, ...PROCESS, ...NETWORK, ...FILE, ...RULE_THREAT],
  agent: [...BASE, ...SERVICE, 'process.pid', 'process.uptime', 'process.executable'],
  deadletter: [...BASE],
  sessions: [...BASE, ...USER, ...NETWORK, 'source.bytes', 'destination.bytes', 'process.pid', 'process.command_line', 'process.tty.rows', 'process.tty.columns', 'file.path', 'file.name', 'file.size', 'file.hash.sha256'],
  // File integrity: the file's state, and who changed it (user.* and process.* joined from auditd).
  fim: [...BASE, ...USER, ...PROCESS, ...FILE],
  // Inventory: logins (user, source, tty), accounts, packages, listening sockets with their process, processes.
  inventory: [...BASE, ...USER, ...PROCESS, ...NETWORK, 'package.*'],
  // Baseline checks: rule.* names the check (id, name, ruleset = policy, reference = compliance).
  posture: [...BASE, 'rule.*'],
  // Bastion batch tasks: the target host, the account, the command and its exit code.
  tasks: [...BASE, ...USER, 'process.command_line', 'process.exit_code'],
};

/** Kit field prefixes per dataset (all kit fields are mapped in every dataset: small, and lets one query span datasets). */
export function kitFieldsFor(_dataset: Dataset): typeof KIT_FIELDS {
  return KIT_FIELDS;
}

const cache = new Map<Dataset, string[]>();

/** The resolved ECS leaf names of a dataset, sorted. */
export function ecsFieldsFor(dataset: Dataset): string[] {
  let out = cache.get(dataset);
  if (!out) {
    const set = new Set<string>();
    for (const sel of DATASET_FIELDS[dataset]) for (const f of expandEcsSelector(sel)) set.add(f);
    out = [...set].sort();
    cache.set(dataset, out);
  }
  return out;
}
