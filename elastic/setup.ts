/**
 * `auditkit setup elasticsearch`: provision the kit's templates on a cluster.
 *
 * Invariants:
 * - Every object carries `_meta: { managed: true, managed_by: 'auditkit', version, hash }`;
 *   `hash` is a digest of the body we would send, so a re-run compares hashes and
 *   sends nothing when nothing changed ("unchanged").
 * - `<dataset>@custom` component templates belong to the user: created empty once
 *   (`create=true`), never overwritten.
 * - The plan is a list of exact HTTP requests; `--dry-run` prints the same list the
 *   real run would send.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import * as esErrors from '@elastic/transport/errors';
import { AuditkitError, ExitCode, KIT_VERSION } from '../core';
import { adaptMapping, datasetMapping, DATASETS, DYNAMIC_TEMPLATES, streamPattern, type Adaptation, type Dataset } from '../schema';
import { supportedTypes, type Capabilities } from './capabilities';
import { DETECT_STATE_INDEX } from './api-key';
import type { ElasticsearchConfig } from './config';

/** Bumped whenever the shape of what setup writes changes. */
export const TEMPLATE_SCHEMA_VERSION = 1;
export const INGEST_PIPELINE = 'logs-auditkit@ingested';

export type SetupMode = 'data_stream' | 'index';

export interface SetupRequest {
  readonly method: 'PUT' | 'GET';
  readonly path: string;
  readonly querystring?: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

export type ObjectKind = 'component_template' | 'index_template' | 'ingest_pipeline';

export interface PlannedObject {
  readonly kind: ObjectKind;
  readonly name: string;
  /** User-owned: created once, never overwritten. */
  readonly userOwned: boolean;
  readonly request: SetupRequest;
  readonly hash: string;
}

export interface SetupPlan {
  readonly mode: SetupMode;
  readonly objects: readonly PlannedObject[];
  readonly adaptations: readonly Adaptation[];
  readonly notes: readonly string[];
}

export type ObjectResult = 'created' | 'updated' | 'unchanged' | 'kept';

export interface SetupResult {
  readonly plan: SetupPlan;
  readonly results: ReadonlyArray<{ readonly kind: ObjectKind; readonly name: string; readonly result: ObjectResult }>;
}

/**
 * The index templates setup plans beside the datasets' (three objects each): the
 * kit's own state indices, plain hidden indices created by their first write.
 * Today one: the detection service's per-rule checkpoints and lease.
 */
export const STATE_TEMPLATES = [DETECT_STATE_INDEX] as const;

function stateTemplateBody(name: (typeof STATE_TEMPLATES)[number], replicas: number): Record<string, unknown> {
  switch (name) {
    case DETECT_STATE_INDEX:
      return {
        index_patterns: [DETECT_STATE_INDEX],
        priority: 200,
        template: {
          settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': replicas, 'index.hidden': true },
          mappings: {
            dynamic: false,
            properties: {
              kind: { type: 'keyword' },
              namespace: { type: 'keyword' },
              rule: { type: 'keyword' },
              holder: { type: 'keyword' },
              checkpoint: { type: 'date' },
              expires: { type: 'date' },
              updated: { type: 'date' },
            },
          },
        },
        version: TEMPLATE_SCHEMA_VERSION,
        _meta: { description: 'auditkit detection service: per-rule checkpoints and the lease of `rules run --every`' },
      };
  }
}

export function templateName(dataset: Dataset): string {
  return `logs-auditkit.${dataset}`;
}
export function packageComponentName(dataset: Dataset): string {
  return `logs-auditkit.${dataset}@package`;
}
export function customComponentName(dataset: Dataset): string {
  return `logs-auditkit.${dataset}@custom`;
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v as Record<string, unknown>).sort().map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function digest(body: unknown): string {
  return createHash('sha256').update(stableStringify(body)).digest('hex').slice(0, 16);
}

function meta(hash: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { managed: true, managed_by: 'auditkit', version: KIT_VERSION, schema_version: TEMPLATE_SCHEMA_VERSION, hash, ...extra };
}

function withHash(kind: ObjectKind, name: string, path: string, body: Record<string, unknown>, opts: { userOwned?: boolean; querystring?: Record<string, string> } = {}): PlannedObject {
  const hash = digest(body);
  const full = { ...body, _meta: meta(hash, (body['_meta'] as Record<string, unknown> | undefined) ?? {}) };
  return {
    kind,
    name,
    userOwned: opts.userOwned ?? false,
    hash,
    request: { method: 'PUT', path, body: full, ...(opts.querystring ? { querystring: opts.querystring } : {}) },
  };
}

export function chooseMode(cfg: Pick<ElasticsearchConfig, 'mode'>, caps: Capabilities): SetupMode {
  if (cfg.mode === 'data_stream') return 'data_stream';
  if (cfg.mode === 'index') return 'index';
  return caps.dataStreams ? 'data_stream' : 'index';
}

/**
 * Replicas per primary shard: `elasticsearch.replicas` when set, else 1 where the
 * cluster has a second node that can hold data, 0 where it has one (a replica there
 * could never be assigned and the cluster would stay yellow).
 *
 * Why a fixed count detected at setup, not `auto_expand_replicas: 0-1` (which Elastic
 * uses for its own system indices): an audit trail's redundancy is the point, and a
 * cluster that lost it should say so. With 0-1 a three-node cluster shrunk to one
 * node turns green again with a single copy of every record; with 1 it stays yellow
 * until the copy is back. Auto-expansion also ignores allocation rules other than
 * filtering (total shards per node, awareness), a quieter way to stay yellow. The
 * price: a cluster grown from one node needs `setup elasticsearch` again, and indices
 * created before keep their count until their settings are changed; the setup note
 * says how.
 */
export function chooseReplicas(cfg: Pick<ElasticsearchConfig, 'replicas'>, caps: Pick<Capabilities, 'dataNodes'>): { readonly replicas: number; readonly note: string } {
  const holding = `${caps.dataNodes} data node${caps.dataNodes === 1 ? '' : 's'}`;
  if (cfg.replicas !== undefined) {
    const unassignable = cfg.replicas >= caps.dataNodes ? `: more copies than data nodes, ${cfg.replicas + 1 - caps.dataNodes} per shard cannot be assigned and the cluster stays yellow` : '';
    return { replicas: cfg.replicas, note: `replicas: ${cfg.replicas} per shard (elasticsearch.replicas; ${holding})${unassignable}` };
  }
  if (caps.dataNodes >= 2) return { replicas: 1, note: `replicas: 1 per shard (${holding}): every record survives the loss of a node` };
  return {
    replicas: 0,
    note: `replicas: 0 (${holding}: a replica needs a second one). After adding nodes, run setup again; existing indices keep 0 until \`PUT logs-auditkit.*/_settings {"index.number_of_replicas":1}\``,
  };
}

/** Build the exact requests for a cluster with these capabilities. Pure. */
export function planSetup(cfg: ElasticsearchConfig, caps: Capabilities): SetupPlan {
  const mode = chooseMode(cfg, caps);
  const types = supportedTypes(caps);
  const objects: PlannedObject[] = [];
  const adaptations: Adaptation[] = [];
  const notes: string[] = [];
  const { replicas, note: replicaNote } = chooseReplicas(cfg, caps);
  notes.push(replicaNote);
  const usePipeline = caps.ingest.pipelines;
  if (usePipeline) {
    objects.push(
      withHash('ingest_pipeline', INGEST_PIPELINE, `/_ingest/pipeline/${INGEST_PIPELINE}`, {
        description: 'auditkit: stamps event.ingested. Normalisation happens in the collectors, never here.',
        processors: [{ set: { field: 'event.ingested', copy_from: '_ingest.timestamp', ignore_failure: true } }],
      }),
    );
  } else {
    notes.push('no ingest pipeline: the cluster cannot run the `set` processor, so event.ingested is not stamped');
  }
  if (mode === 'data_stream' && !caps.lifecycle) notes.push('data stream lifecycle unavailable: retention is not enforced by the cluster');
  if (mode === 'index') notes.push('index mode: plain indices named like data streams; retention is not enforced by the cluster (delete old namespaces yourself)');
  for (const dataset of DATASETS) {
    const { mapping, adaptations: a } = adaptMapping(datasetMapping(dataset), types);
    for (const x of a) adaptations.push({ ...x, field: `${dataset}:${x.field}` });
    const settings: Record<string, unknown> = {
      'index.number_of_shards': cfg.shards,
      'index.number_of_replicas': replicas,
      'index.mapping.total_fields.limit': 2000,
      'index.mapping.ignore_malformed': false,
    };
    if (usePipeline) settings['index.final_pipeline'] = INGEST_PIPELINE;
    objects.push(
      withHash('component_template', packageComponentName(dataset), `/_component_template/${packageComponentName(dataset)}`, {
        template: {
          settings,
          mappings: { dynamic: true, date_detection: false, dynamic_templates: DYNAMIC_TEMPLATES, ...mapping },
        },
        version: TEMPLATE_SCHEMA_VERSION,
        _meta: { description: `auditkit ${dataset}: ECS mappings generated from @elastic/ecs` },
      }),
    );
    objects.push({
      kind: 'component_template',
      name: customComponentName(dataset),
      userOwned: true,
      hash: '',
      request: {
        method: 'PUT',
        path: `/_component_template/${customComponentName(dataset)}`,
        querystring: { create: 'true' },
        body: { template: {}, _meta: { managed: false, description: 'Yours: add mappings and settings here; auditkit setup never overwrites it.' } },
      },
    });
    const template: Record<string, unknown> = {};
    if (mode === 'data_stream' && caps.lifecycle) {
      const retention = cfg.retention[dataset];
      template['lifecycle'] = { data_retention: retention };
    }
    const body: Record<string, unknown> = {
      index_patterns: [streamPattern(dataset)],
      priority: 200,
      composed_of: [packageComponentName(dataset), customComponentName(dataset)],
      ignore_missing_component_templates: [customComponentName(dataset)],
      template,
      version: TEMPLATE_SCHEMA_VERSION,
      _meta: { description: `auditkit ${dataset}`, mode },
    };
    if (mode === 'data_stream') body['data_stream'] = {};
    objects.push(withHash('index_template', templateName(dataset), `/_index_template/${templateName(dataset)}`, body));
  }
  for (const name of STATE_TEMPLATES) objects.push(withHash('index_template', name, `/_index_template/${name}`, stateTemplateBody(name, replicas)));
  return { mode, objects, adaptations, notes };
}

async function existingHash(client: Client, obj: PlannedObject): Promise<string | null | undefined> {
  // undefined: object missing; null: present but not ours or no hash.
  try {
    if (obj.kind === 'component_template') {
      const r = (await client.transport.request({ method: 'GET', path: `/_component_template/${obj.name}` })) as {
        component_templates?: Array<{ component_template?: { _meta?: { hash?: string } } }>;
      };
      const t = r.component_templates?.[0];
      return t ? (t.component_template?._meta?.hash ?? null) : undefined;
    }
    if (obj.kind === 'index_template') {
      const r = (await client.transport.request({ method: 'GET', path: `/_index_template/${obj.name}` })) as {
        index_templates?: Array<{ index_template?: { _meta?: { hash?: string } } }>;
      };
      const t = r.index_templates?.[0];
      return t ? (t.index_template?._meta?.hash ?? null) : undefined;
    }
    const r = (await client.transport.request({ method: 'GET', path: `/_ingest/pipeline/${obj.name}` })) as Record<string, { _meta?: { hash?: string } }>;
    const p = r[obj.name];
    return p ? (p._meta?.hash ?? null) : undefined;
  } catch (err) {
    if (err instanceof esErrors.ResponseError && err.meta.statusCode === 404) return undefined;
    throw err;
  }
}

/** What a run would do to each object, without changing anything. */
export async function diffSetup(client: Client, plan: SetupPlan): Promise<Array<{ obj: PlannedObject; action: ObjectResult }>> {
  const out: Array<{ obj: PlannedObject; action: ObjectResult }> = [];
  for (const obj of plan.objects) {
    const have = await existingHash(client, obj);
    if (obj.userOwned) out.push({ obj, action: have === undefined ? 'created' : 'kept' });
    else if (have === undefined) out.push({ obj, action: 'created' });
    else if (have === obj.hash) out.push({ obj, action: 'unchanged' });
    else out.push({ obj, action: 'updated' });
  }
  return out;
}

/** Apply a plan: send only what changed. */
export async function applySetup(client: Client, plan: SetupPlan, onObject?: (name: string, result: ObjectResult) => void): Promise<SetupResult> {
  const diff = await diffSetup(client, plan);
  const results: Array<{ kind: ObjectKind; name: string; result: ObjectResult }> = [];
  for (const { obj, action } of diff) {
    if (action === 'created' || action === 'updated') {
      try {
        await client.transport.request({
          method: obj.request.method,
          path: obj.request.path,
          body: obj.request.body,
          ...(obj.request.querystring ? { querystring: obj.request.querystring } : {}),
        });
      } catch (err) {
        // Someone created the @custom template between our GET and PUT: it is theirs; keep it.
        if (obj.userOwned && err instanceof esErrors.ResponseError && err.meta.statusCode === 400 && /already exists/.test(JSON.stringify(err.meta.body))) {
          results.push({ kind: obj.kind, name: obj.name, result: 'kept' });
          onObject?.(obj.name, 'kept');
          continue;
        }
        if (err instanceof esErrors.ResponseError && /would cause data streams .* to no longer match a data stream template/.test(JSON.stringify(err.meta.body))) {
          throw new AuditkitError(
            'AK_SETUP_MODE_SWITCH',
            `${obj.name}: the cluster already has auditkit data streams, so setup cannot switch to index mode. Keep elasticsearch.mode: data_stream (or auto on a cluster with data streams)`,
            { exitCode: ExitCode.Config, cause: err },
          );
        }
        throw err;
      }
    }
    results.push({ kind: obj.kind, name: obj.name, result: action });
    onObject?.(obj.name, action);
  }
  return { plan, results };
}
