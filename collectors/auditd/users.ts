/**
 * uid/gid -> name. ENRICHED values in the record win (they were resolved on the
 * host that wrote the log, at the time); otherwise /etc/passwd and /etc/group,
 * read once and cached for `ttlMs` (like Auditbeat's 1-minute caches), so an
 * exec storm costs one map lookup per id and no file read.
 */
import { readFileSync } from 'node:fs';

export interface IdResolver {
  user(uid: string): string | undefined;
  group(gid: string): string | undefined;
}

/** Resolves nothing: for replays of logs from other hosts, and for golden tests. */
export const NO_RESOLVER: IdResolver = { user: () => undefined, group: () => undefined };

function parseDb(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const parts = line.split(':');
    const name = parts[0];
    const id = parts[2];
    if (name !== undefined && id !== undefined && name !== '' && !m.has(id)) m.set(id, name);
  }
  return m;
}

export interface FileResolverOptions {
  readonly passwd?: string;
  readonly group?: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** A resolver over passwd/group files, re-read at most every `ttlMs`; unreadable files resolve nothing. */
export function fileResolver(opts: FileResolverOptions = {}): IdResolver {
  const passwdPath = opts.passwd ?? '/etc/passwd';
  const groupPath = opts.group ?? '/etc/group';
  const ttl = opts.ttlMs ?? 60_000;
  const now = opts.now ?? Date.now;
  let users = new Map<string, string>();
  let groups = new Map<string, string>();
  let loadedAt = -Infinity;
  const load = (): void => {
    const t = now();
    if (t - loadedAt < ttl) return;
    loadedAt = t;
    try {
      users = parseDb(readFileSync(passwdPath, 'utf8'));
    } catch {
      users = new Map();
    }
    try {
      groups = parseDb(readFileSync(groupPath, 'utf8'));
    } catch {
      groups = new Map();
    }
  };
  return {
    user(uid) {
      load();
      return users.get(uid);
    },
    group(gid) {
      load();
      return groups.get(gid);
    },
  };
}

/** auid/ses "unset" values: 4294967295 (u32 -1) and -1. */
export function isUnsetId(v: string | number | undefined): boolean {
  if (v === undefined) return true;
  const s = String(v);
  return s === '4294967295' || s === '-1' || s === 'unset' || s === '' || s === '?';
}
