/**
 * What every posture module shares: where the host is read from (`root`), who
 * emits (host, agent, namespace), the clock, and where documents go. Documents
 * leave through `emit`, which the caller wires to the pipeline (the collector's
 * posture journal, or `posture scan`'s one-shot run); modules never ship.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventEnvelope, type AgentFields, type AuditkitEvent, type Dataset, type HostFields } from '../../schema';
import type { Logger } from '../../core';

export interface PostureContext {
  readonly host: HostFields;
  readonly agent: AgentFields;
  readonly namespace: string;
  /** The host's filesystem root ('/' or a mounted image). Paths in documents are as seen on the host. */
  readonly root: string;
  /** Posture state (baselines, last results) lives here. */
  readonly stateDir: string;
  readonly now: () => number;
  readonly log?: Logger | undefined;
}

/** A host path below `root` (`root` '/' returns the path itself). Never escapes root through `..`. */
export function rooted(root: string, p: string): string {
  const norm = path.posix.normalize('/' + p);
  return root === '/' || root === '' ? norm : path.join(root, norm);
}

/** The host path of a real path below `root`. */
export function unrooted(root: string, real: string): string {
  if (root === '/' || root === '') return real;
  const rel = path.relative(root, real);
  return '/' + rel.split(path.sep).join('/');
}

export function hostId(ctx: Pick<PostureContext, 'host'>): string {
  return ctx.host.id ?? ctx.host.name;
}

/** The envelope every posture document starts from. */
export function baseDoc(ctx: PostureContext, dataset: Dataset, ts: number): Pick<AuditkitEvent, '@timestamp' | 'ecs' | 'data_stream' | 'host' | 'agent'> {
  return { '@timestamp': new Date(ts).toISOString(), ...eventEnvelope(dataset, ctx.namespace), host: ctx.host, agent: ctx.agent };
}

/** Read a small text file below root; undefined when missing or unreadable. Capped: a hostile file cannot make us read gigabytes. */
export function readText(root: string, p: string, maxBytes = 16 * 1024 * 1024): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(rooted(root, p), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    const n = Math.min(st.size, maxBytes);
    const buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      const r = fs.readSync(fd, buf, off, n - off, off);
      if (r === 0) break;
      off += r;
    }
    return buf.toString('utf8', 0, off);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Id → name maps of the host's accounts (for file owners and socket users). */
export interface IdNames {
  user(uid: number | string): string | undefined;
  group(gid: number | string): string | undefined;
}

export function idNames(root: string): IdNames {
  const users = new Map<string, string>();
  const groups = new Map<string, string>();
  for (const line of (readText(root, '/etc/passwd', 8 * 1024 * 1024) ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && f[2] !== undefined && !users.has(f[2])) users.set(f[2], f[0]);
  }
  for (const line of (readText(root, '/etc/group', 8 * 1024 * 1024) ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && f[2] !== undefined && !groups.has(f[2])) groups.set(f[2], f[0]);
  }
  return { user: (id) => users.get(String(id)), group: (id) => groups.get(String(id)) };
}
