/**
 * Where users and grants live.
 *
 * Backend `elasticsearch` (default): one document per user (`user:<name>`) and per
 * grant (`grant:<id>`) in an index OUTSIDE `logs-auditkit.*` (default
 * `auditkit-bastion-state`), so neither the collector role (create_doc on
 * logs-auditkit.*) nor the reader role (read on logs-auditkit.*) can see password
 * hashes or TOTP seeds; only the admin and bastion roles name it (elastic/api-key.ts).
 * Every change is a read-modify-write with `if_seq_no`/`if_primary_term`, retried on
 * a conflict, so two bastion instances (and the CLI) can change state side by side.
 *
 * Every successful load is mirrored to `<state_dir>/state-cache.json` (mode 600,
 * atomic rename, refused when others can read it). When Elasticsearch cannot be
 * reached the door serves from that mirror: logins of known users keep working
 * during an outage; changes (user add, grant, passwd) need Elasticsearch.
 *
 * Backend `file`: the mirror file IS the state (one instance, no Elasticsearch).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, ExitCode, assertPrivateFile, sleep, writeFileAtomic } from '../core';
import { EMPTY_STATE, type BastionState, type BastionUser, type Grant } from './access';

export type StateKind = 'user' | 'grant';
type Entity<K extends StateKind> = K extends 'user' ? BastionUser : Grant;

export interface StateSnapshot {
  readonly state: BastionState;
  /** Where it came from this time. */
  readonly source: 'elasticsearch' | 'cache' | 'file';
  /** Why Elasticsearch was not used (when source is cache). */
  readonly degraded?: string;
}

export interface StateStore {
  readonly description: string;
  load(): Promise<StateSnapshot>;
  /**
   * Read-modify-write of one entity: `fn` gets the current value (undefined when
   * absent) and returns the new one, or `null` to delete it, or undefined to leave it.
   */
  update<K extends StateKind>(kind: K, id: string, fn: (cur: Entity<K> | undefined) => Entity<K> | null | undefined): Promise<Entity<K> | undefined>;
}

const CACHE_NAME = 'state-cache.json';

export function cacheFile(stateDir: string): string {
  return path.join(stateDir, CACHE_NAME);
}

async function readCache(file: string): Promise<BastionState | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditkitError('AK_BASTION_STATE_CACHE', `cannot read the bastion state cache: ${(err as Error).message}`, { location: { file }, exitCode: ExitCode.Config, cause: err });
  }
  await assertPrivateFile(file, 'the bastion state cache');
  try {
    const s = JSON.parse(text) as Partial<BastionState>;
    return { users: s.users ?? {}, grants: s.grants ?? {} };
  } catch (err) {
    throw new AuditkitError('AK_BASTION_STATE_CACHE', `the bastion state cache is not valid JSON (${(err as Error).message}); remove it to rebuild it from Elasticsearch`, { location: { file }, exitCode: ExitCode.Config, cause: err });
  }
}

async function writeCache(file: string, state: BastionState): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, JSON.stringify(state), 0o600);
}

function setEntity(state: BastionState, kind: StateKind, id: string, v: BastionUser | Grant | null): BastionState {
  const key = kind === 'user' ? 'users' : 'grants';
  const next = { ...state[key] } as Record<string, BastionUser | Grant>;
  if (v === null) delete next[id];
  else next[id] = v;
  return { ...state, [key]: next };
}

/** The local file as the only state (backend `file`). */
export function fileStateStore(stateDir: string): StateStore {
  const file = cacheFile(stateDir);
  // One writer at a time in this process; the CLI and a running door are different
  // processes, which is why the door re-reads the file every refresh_s.
  let chain: Promise<unknown> = Promise.resolve();
  return {
    description: `file ${file}`,
    async load() {
      return { state: (await readCache(file)) ?? EMPTY_STATE, source: 'file' };
    },
    update(kind, id, fn) {
      const run = chain.then(async () => {
        const state = (await readCache(file)) ?? EMPTY_STATE;
        const cur = (kind === 'user' ? state.users[id] : state.grants[id]) as Entity<typeof kind> | undefined;
        const next = fn(cur);
        if (next === undefined) return cur;
        await writeCache(file, setEntity(state, kind, id, next));
        return next ?? undefined;
      });
      chain = run.catch(() => undefined);
      return run;
    },
  };
}

interface StateDoc {
  readonly kind: StateKind;
  readonly user?: BastionUser;
  readonly grant?: Grant;
}

function esStatus(err: unknown): number | undefined {
  return (err as { meta?: { statusCode?: number } }).meta?.statusCode;
}

/** Shards still starting (an index just created here or by another process) answer 503 for a moment. */
async function whenShardsReady<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const starting = esStatus(err) === 503 || /no_shard_available|illegal_index_shard_state|unavailable_shards/.test((err as Error).message);
      if (!starting || attempt >= 40) throw err;
      await sleep(250);
    }
  }
}

/** Users and grants in an admin-only index, mirrored to the local cache. */
export function esStateStore(client: Client, opts: { readonly index: string; readonly stateDir: string }): StateStore {
  const file = cacheFile(opts.stateDir);
  const index = opts.index;
  let ensured = false;
  const ensureIndex = async (): Promise<void> => {
    if (ensured) return;
    try {
      await client.indices.create({
        index,
        settings: { number_of_shards: 1, auto_expand_replicas: '0-1', hidden: true },
        // Only the kind is searchable: hashes and seeds are never indexed, only kept in _source.
        mappings: { dynamic: false, properties: { kind: { type: 'keyword' } } },
      });
    } catch (err) {
      const type = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type;
      if (type !== 'resource_already_exists_exception') throw err;
    }
    // A just-created index (here or by a concurrent CLI/bastion) refuses reads until its shard has started.
    await client.cluster.health({ index, wait_for_status: 'yellow', timeout: '30s' });
    ensured = true;
  };
  const unreachable = (err: unknown): AuditkitError =>
    new AuditkitError('AK_BASTION_STATE', `the bastion state index ${index} cannot be changed: ${(err as Error).message}. Changes need Elasticsearch (the door keeps serving known users from its cache meanwhile)`, { exitCode: ExitCode.Unavailable, cause: err });
  const fetchAll = async (): Promise<BastionState> => {
    const users: Record<string, BastionUser> = {};
    const grants: Record<string, Grant> = {};
    const r = await client.search<StateDoc>({ index, size: 10_000, query: { match_all: {} }, seq_no_primary_term: false, sort: ['_doc'] }, { ignore: [404] });
    for (const h of r.hits?.hits ?? []) {
      const s = h._source;
      if (s?.kind === 'user' && s.user) users[s.user.name] = s.user;
      else if (s?.kind === 'grant' && s.grant) grants[s.grant.id] = s.grant;
    }
    return { users, grants };
  };
  return {
    description: `Elasticsearch index ${index} (cache ${file})`,
    async load() {
      try {
        const state = await fetchAll();
        await writeCache(file, state);
        return { state, source: 'elasticsearch' };
      } catch (err) {
        const cached = await readCache(file);
        if (!cached) {
          throw new AuditkitError('AK_BASTION_STATE', `cannot load users and grants: Elasticsearch is unreachable (${(err as Error).message}) and there is no cache at ${file} yet`, { exitCode: ExitCode.Unavailable, cause: err });
        }
        return { state: cached, source: 'cache', degraded: (err as Error).message };
      }
    },
    async update(kind, id, fn) {
      try {
        await ensureIndex();
      } catch (err) {
        throw unreachable(err);
      }
      const docId = `${kind}:${id}`;
      for (let attempt = 0; attempt < 10; attempt++) {
        let cur: Entity<typeof kind> | undefined;
        let seq: { if_seq_no: number; if_primary_term: number } | undefined;
        try {
          const g = await whenShardsReady(() => client.get<StateDoc>({ index, id: docId }, { ignore: [404] }));
          if (g.found && g._source) {
            cur = (kind === 'user' ? g._source.user : g._source.grant) as Entity<typeof kind> | undefined;
            if (g._seq_no !== undefined && g._primary_term !== undefined) seq = { if_seq_no: g._seq_no, if_primary_term: g._primary_term };
          }
        } catch (err) {
          throw unreachable(err);
        }
        const next = fn(cur);
        if (next === undefined) return cur;
        try {
          if (next === null) {
            if (cur !== undefined) await whenShardsReady(() => client.delete({ index, id: docId, refresh: 'wait_for', ...(seq ?? {}) }));
          } else {
            const body: StateDoc = kind === 'user' ? { kind, user: next as BastionUser } : { kind, grant: next as Grant };
            await whenShardsReady(() => client.index({ index, id: docId, document: body, refresh: 'wait_for', ...(seq ? seq : { op_type: 'create' as const }) }));
          }
        } catch (err) {
          if (esStatus(err) === 409) continue; // someone else changed it: read again
          throw unreachable(err);
        }
        // Keep the local mirror current for this process's next outage.
        const cached = (await readCache(file).catch(() => undefined)) ?? EMPTY_STATE;
        await writeCache(file, setEntity(cached, kind, id, next)).catch(() => undefined);
        return next ?? undefined;
      }
      throw new AuditkitError('AK_BASTION_STATE', `${docId} kept changing under 10 attempts to update it; try again`, { exitCode: ExitCode.Unavailable });
    },
  };
}
