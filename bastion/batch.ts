/**
 * Batch tasks: one command on many hosts (`auditkit bastion exec --group web -- CMD`, or
 * the portal's task form), answered at once with a task id.
 *
 * Per host, in order: the caller's grants are checked (a host the caller is not granted
 * is a "no-grant" failure; nothing is opened), then the command runs through the door's
 * session core exactly like an ssh exec request (DoorApi.openExec: the guard rail checks
 * it before the target sees it, the session is recorded, the command is an ordinary
 * command event of that host, tagged with the task). At most `concurrency` hosts at a
 * time; a host past `timeoutMs` is ended ("timeout"). stdout/stderr are kept up to
 * `capBytes` each. Results go to the tasks dataset (one document per host plus a start
 * document) and stay in memory for the task page while the process runs.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { groupMembers, resolveHosts, type InventoryConfig } from '../fleet';
import type { TaskFacts, TaskHostResult } from './events';
import type { DoorApi, SessionPeer } from './server';

export interface TaskRequest {
  readonly user: string;
  readonly command: string;
  /** Inventory group names (nested groups count) and host names; the union is the selection. */
  readonly groups?: readonly string[];
  readonly hosts?: readonly string[];
  /** The system account (needed when the user has several on a host). */
  readonly account?: string;
  readonly source: { ip: string; port: number };
}

export interface TaskState {
  readonly id: string;
  readonly user: string;
  readonly command: string;
  readonly start: string;
  readonly total: number;
  done: number;
  readonly results: TaskHostResult[];
}

export interface TaskRunner {
  /** Validate, then start in the background; returns the task at once. */
  start(req: TaskRequest): TaskState;
  get(id: string): TaskState | undefined;
  /** Resolves when every started task has finished (for shutdown and tests). */
  idle(): Promise<void>;
}

export class TaskError extends Error {}

/** The session core's end of a batch command: collects capped output and the exit status. */
class CapturePeer extends EventEmitter implements SessionPeer {
  readable = true;
  writable = true;
  out: Buffer[] = [];
  err: Buffer[] = [];
  outBytes = 0;
  errBytes = 0;
  truncated = false;
  code: number | null = null;
  readonly stderr = { write: (d: string | Buffer): boolean => this.keep(d, 'err') };
  constructor(private readonly cap: number) {
    super();
  }
  private keep(d: string | Buffer, which: 'out' | 'err'): boolean {
    const b = typeof d === 'string' ? Buffer.from(d) : d;
    const have = which === 'out' ? this.outBytes : this.errBytes;
    const room = Math.max(0, this.cap - have);
    if (b.length > room) this.truncated = true;
    const part = b.subarray(0, room);
    if (part.length > 0) (which === 'out' ? this.out : this.err).push(part);
    if (which === 'out') this.outBytes += part.length;
    else this.errBytes += part.length;
    return true;
  }
  write(d: string | Buffer): boolean {
    return this.keep(d, 'out');
  }
  exit(code: number | string): void {
    this.code = typeof code === 'number' ? code : null;
  }
  end(): void {
    if (!this.writable) return;
    this.writable = false;
    this.readable = false;
    // The command has no stdin: nothing more will come from this side.
    this.emit('close');
  }
}

export function createTaskRunner(o: {
  readonly door: DoorApi;
  readonly inventory: InventoryConfig;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly capBytes: number;
  readonly writeStart: (t: TaskFacts) => void;
  readonly writeResult: (t: TaskFacts, r: TaskHostResult) => void;
  readonly now?: () => number;
  readonly keep?: number;
}): TaskRunner {
  const now = o.now ?? Date.now;
  const tasks = new Map<string, TaskState>();
  const running = new Set<Promise<void>>();

  const selection = (req: TaskRequest): string[] => {
    const all = resolveHosts(o.inventory).map((h) => h.name);
    const want = new Set<string>();
    for (const g of req.groups ?? []) {
      if (!(g in o.inventory.groups)) throw new TaskError(`no group ${g} in the inventory`);
      for (const h of groupMembers(o.inventory, g)) want.add(h);
    }
    for (const h of req.hosts ?? []) {
      if (!(h in o.inventory.hosts)) throw new TaskError(`no host ${h} in the inventory`);
      want.add(h);
    }
    return all.filter((h) => want.has(h));
  };

  const runHost = async (t: TaskFacts, req: TaskRequest, host: string): Promise<TaskHostResult> => {
    const start = now();
    const target = o.door.target(req.user, host, req.account);
    if (typeof target === 'string') {
      return { host, outcome: 'failure', exitCode: null, stdout: '', stderr: '', truncated: false, error: 'no-grant', start, end: now() };
    }
    const peer = new CapturePeer(o.capBytes);
    let session: string | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (session) o.door.end(session, 'timeout', `auditkit: task ${t.id}: no result after ${o.timeoutMs} ms; ended.`);
    }, o.timeoutMs);
    let reason: string;
    try {
      const run = o.door.openExec(req.user, target, req.command, peer, { source: req.source, task: t.id, onStart: (id) => (session = id) });
      // Connecting can outlast the timeout too: the result is "timeout" then, the session ends by itself.
      reason = await Promise.race([run, new Promise<string>((r) => setTimeout(() => r('timeout'), o.timeoutMs + 2_000).unref())]);
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) reason = 'timeout';
    const stdout = Buffer.concat(peer.out).toString('utf8');
    const stderr = Buffer.concat(peer.err).toString('utf8');
    const ok = reason === 'exit' || reason === 'closed' || reason === 'client-closed';
    const error = reason === 'blocked' ? 'blocked' : ok ? undefined : reason;
    return {
      host,
      account: target.account,
      address: target.host.address,
      ...(session ? { session } : {}),
      outcome: error === undefined && peer.code === 0 ? 'success' : 'failure',
      exitCode: error === undefined ? peer.code : null,
      stdout,
      stderr,
      truncated: peer.truncated,
      ...(error ? { error } : {}),
      start,
      end: now(),
    };
  };

  return {
    start(req) {
      const command = req.command.trim();
      if (!command) throw new TaskError('an empty command');
      if (command.length > 8192) throw new TaskError('the command is longer than 8192 characters');
      const hosts = selection(req);
      if (hosts.length === 0) throw new TaskError('the selection names no host');
      const facts: TaskFacts = { id: randomUUID(), user: req.user, command, start: now(), hosts: hosts.length };
      const state: TaskState = { id: facts.id, user: req.user, command, start: new Date(facts.start).toISOString(), total: hosts.length, done: 0, results: [] };
      tasks.set(state.id, state);
      // Bounded memory: the oldest finished tasks are dropped (Elasticsearch keeps them).
      for (const [id, s] of tasks) if (tasks.size > (o.keep ?? 200) && s.done === s.total) tasks.delete(id);
      o.writeStart(facts);
      const queue = [...hosts];
      const worker = async (): Promise<void> => {
        for (let h = queue.shift(); h !== undefined; h = queue.shift()) {
          const r = await runHost(facts, { ...req, command }, h).catch((err: unknown): TaskHostResult => ({ host: h as string, outcome: 'failure', exitCode: null, stdout: '', stderr: '', truncated: false, error: `internal: ${(err as Error).message}`, start: now(), end: now() }));
          state.results.push(r);
          state.done++;
          o.writeResult(facts, r);
        }
      };
      const all = Promise.all(Array.from({ length: Math.min(o.concurrency, hosts.length) }, worker)).then(() => undefined);
      running.add(all);
      void all.finally(() => running.delete(all));
      return state;
    },
    get: (id) => tasks.get(id),
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}

/**
 * The local control socket of a running `bastion serve` (`<state_dir>/control.sock`, mode 600
 * in a mode-700 directory): `auditkit bastion exec` on the bastion machine asks the serving
 * process to start a task, so the task runs through that process's door, journals and pipeline.
 * One JSON line in, one JSON line out.
 */
export async function serveControl(file: string, runner: TaskRunner): Promise<{ close(): Promise<void> }> {
  const net = await import('node:net');
  const fs = await import('node:fs');
  fs.rmSync(file, { force: true });
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > 64 * 1024) return sock.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let answer: Record<string, unknown>;
      try {
        const req = JSON.parse(buf.slice(0, nl)) as { op?: string; user?: string; command?: string; groups?: string[]; hosts?: string[]; account?: string };
        if (req.op !== 'exec' || typeof req.user !== 'string' || typeof req.command !== 'string') throw new TaskError('bad request');
        const t = runner.start({ user: req.user, command: req.command, groups: req.groups ?? [], hosts: req.hosts ?? [], ...(req.account ? { account: req.account } : {}), source: { ip: '127.0.0.1', port: 0 } });
        answer = { task: t.id, hosts: t.total };
      } catch (err) {
        answer = { error: (err as Error).message };
      }
      sock.end(JSON.stringify(answer) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => resolve());
  });
  fs.chmodSync(file, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(file, { force: true });
      }),
  };
}

export async function askControl(file: string, req: Record<string, unknown>): Promise<Record<string, unknown>> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = net.connect(file);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (d: string) => (buf += d));
    sock.on('end', () => {
      try {
        resolve(JSON.parse(buf) as Record<string, unknown>);
      } catch (err) {
        reject(err as Error);
      }
    });
    sock.write(JSON.stringify(req) + '\n');
  });
}
