/**
 * What a cluster can do. Clusters differ (Elastic Cloud, a full distribution, the
 * minimal integ-test node): setup detects and adapts instead of assuming.
 */
import type { Client } from '@elastic/elasticsearch';
import * as esErrors from '@elastic/transport/errors';
import { TYPE_FALLBACKS } from '../schema';

export interface Capabilities {
  readonly version: string;
  readonly majorVersion: number;
  readonly nodes: number;
  /**
   * Nodes that can hold the kit's indices (role `data`, `data_content` or `data_hot`):
   * a replica needs a second one of these, not merely a second node.
   */
  readonly dataNodes: number;
  readonly modules: readonly string[];
  /** Field types the cluster has beyond the core set, by name. */
  readonly fieldTypes: Readonly<Record<string, boolean>>;
  readonly ingest: { readonly pipelines: boolean; readonly processors: readonly string[] };
  readonly dataStreams: boolean;
  readonly lifecycle: boolean;
  readonly security: { readonly enabled: boolean; readonly user?: string };
  /** Whether `GET /` answers (the minimal node lacks the rest-root module). */
  readonly rootEndpoint: boolean;
}

/** Core field types that every Elasticsearch server has. */
export const CORE_FIELD_TYPES = [
  'keyword', 'text', 'long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'boolean', 'date', 'date_nanos',
  'ip', 'object', 'nested', 'flattened', 'geo_point', 'binary', 'alias',
] as const;

/** Which module provides each optional field type. */
const TYPE_MODULES: Readonly<Record<string, string>> = {
  wildcard: 'wildcard',
  constant_keyword: 'constant-keyword',
  match_only_text: 'mapper-extras',
  scaled_float: 'mapper-extras',
  unsigned_long: 'unsigned-long',
  version: 'mapper-version',
};

export function supportedTypes(caps: Capabilities): Set<string> {
  const s = new Set<string>(CORE_FIELD_TYPES);
  for (const [t, ok] of Object.entries(caps.fieldTypes)) if (ok) s.add(t);
  return s;
}

/** Roles that can hold a plain index (tier preference data_content) or a data stream's write index (data_hot). */
const DATA_ROLES: ReadonlySet<string> = new Set(['data', 'data_content', 'data_hot']);

interface NodesInfo {
  nodes?: Record<string, { version?: string; roles?: string[]; modules?: Array<{ name: string }>; plugins?: Array<{ name: string }>; ingest?: { processors?: Array<{ type: string }> } }>;
}

export async function detectCapabilities(client: Client): Promise<Capabilities> {
  const info = (await client.transport.request({
    method: 'GET',
    path: '/_nodes',
    querystring: { filter_path: 'nodes.*.version,nodes.*.roles,nodes.*.modules.name,nodes.*.plugins.name,nodes.*.ingest.processors.type' },
  })) as NodesInfo;
  const nodes = Object.values(info.nodes ?? {});
  const versions = nodes.map((n) => n.version ?? '0.0.0').sort();
  const version = versions[0] ?? '0.0.0';
  // A capability counts only where every node has it.
  const everyNode = (pick: (n: (typeof nodes)[number]) => string[]): string[] => {
    if (nodes.length === 0) return [];
    const sets = nodes.map((n) => new Set(pick(n)));
    return [...(sets[0] ?? new Set<string>())].filter((x) => sets.every((s) => s.has(x))).sort();
  };
  const modules = everyNode((n) => [...(n.modules ?? []).map((m) => m.name), ...(n.plugins ?? []).map((p) => p.name)]);
  const processors = everyNode((n) => (n.ingest?.processors ?? []).map((p) => p.type));
  const fieldTypes: Record<string, boolean> = {};
  for (const t of Object.keys(TYPE_FALLBACKS)) fieldTypes[t] = modules.includes(TYPE_MODULES[t] ?? t);
  const dataStreams = modules.includes('data-streams');
  let rootEndpoint = true;
  try {
    await client.transport.request({ method: 'GET', path: '/' }, { maxRetries: 0 });
  } catch {
    rootEndpoint = false;
  }
  let security: Capabilities['security'] = { enabled: false };
  try {
    const me = (await client.transport.request({ method: 'GET', path: '/_security/_authenticate' }, { maxRetries: 0 })) as { username?: string };
    security = { enabled: true, ...(me.username ? { user: me.username } : {}) };
  } catch (err) {
    // 401/403 mean security is on (and we are not allowed); anything else (400/405/500 "security disabled") means off.
    if (err instanceof esErrors.ResponseError && (err.meta.statusCode === 401 || err.meta.statusCode === 403)) security = { enabled: true };
  }
  return {
    version,
    majorVersion: Number(version.split('.')[0]),
    nodes: nodes.length,
    // A node that reports no roles at all (a proxy filtering the answer) counts as holding data.
    dataNodes: nodes.filter((n) => n.roles === undefined || n.roles.some((r) => DATA_ROLES.has(r))).length,
    modules,
    fieldTypes,
    // `set` with copy_from needs nothing beyond ingest-common.
    ingest: { pipelines: processors.includes('set'), processors },
    dataStreams,
    lifecycle: dataStreams,
    security,
    rootEndpoint,
  };
}

/** Human lines describing a capability report. */
export function describeCapabilities(c: Capabilities): string[] {
  const types = Object.entries(c.fieldTypes).map(([t, ok]) => `${t} ${ok ? 'yes' : `no (→ ${TYPE_FALLBACKS[t]})`}`);
  return [
    `version          ${c.version} (${c.nodes} node${c.nodes === 1 ? '' : 's'}, ${c.dataNodes} holding data)`,
    `modules          ${c.modules.join(', ') || '(none reported)'}`,
    `field types      ${types.join(', ')}`,
    `ingest pipelines ${c.ingest.pipelines ? 'yes' : `no (processors: ${c.ingest.processors.join(', ') || 'none'})`}`,
    `data streams     ${c.dataStreams ? 'yes' : 'no (index mode: plain indices with the same names)'}`,
    `lifecycle        ${c.lifecycle ? 'yes' : 'no (retention not enforced by the cluster)'}`,
    `security         ${c.security.enabled ? `on${c.security.user ? ` (as ${c.security.user})` : ''}` : 'off'}`,
    `GET /            ${c.rootEndpoint ? 'yes' : 'no'}`,
  ];
}
