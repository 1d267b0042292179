import { promises as fsp, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AuditkitError, ExitCode, expandHome, parseDuration, processAlive, sleep } from '../../core';
import { configuredRules, createDetector } from '../../rules';
import { pipelineOptionsFromConfig, RecordJournal, runPipeline, type PipelineInput } from '../../collectors';
import {
  addGrant, addUser, createGuard, enrollTotp, esStateStore, esTokenStore, fileStateStore, fileTokenStore, findRecording, liveDir, playCast, recordingsDir, resolveTargets, revokeGrant, safeText, setPassword, setUserDisabled, startBastion, startWebPortal,
  askControl, createTaskRunner, serveControl, taskResultDoc, taskStartDoc, taskEventContext,
  type BastionDataset, type EventSink, type TaskView, type LiveSession, type PastSession, type StateStore, type TokenStore, type WebPortal,
} from '../../bastion';
import { streamName } from '../../schema';
import type { AuditkitCommand, CliContext } from '../context';
import type { AuditkitConfig } from '../config-schema';

const ACTIONS = ['serve', 'user', 'grant', 'revoke', 'passwd', 'totp', 'sessions', 'token', 'exec', 'task'] as const;
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
const usage = (msg: string): AuditkitError => new AuditkitError('AK_BASTION_USAGE', msg, { exitCode: ExitCode.Usage });

function stateDirOf(cfg: AuditkitConfig): string {
  return path.resolve(expandHome(cfg.bastion.state_dir));
}

async function storeOf(ctx: CliContext): Promise<{ store: StateStore; cfg: AuditkitConfig; close: () => Promise<void> }> {
  const { value: cfg } = await ctx.config();
  if (cfg.bastion.state.backend === 'file') return { store: fileStateStore(stateDirOf(cfg)), cfg, close: async () => undefined };
  const { client } = await ctx.elasticsearch();
  return { store: esStateStore(client, { index: cfg.bastion.state.index, stateDir: stateDirOf(cfg) }), cfg, close: () => client.close().catch(() => undefined) };
}

/** A password: the first line of stdin with --password-stdin, else typed at the terminal without echo. */
async function readPassword(argv: Readonly<Record<string, unknown>>, prompt: string): Promise<string> {
  if (argv['password-stdin']) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '');
  }
  const stdin = process.stdin;
  if (!stdin.isTTY) throw usage('no terminal to type a password on: pass --password-stdin and the password on stdin');
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let buf = '';
      const onData = (d: Buffer): void => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            return resolve(buf);
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            return reject(usage('cancelled'));
          }
          if (ch === '\u007f') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

type Es = Awaited<ReturnType<CliContext['elasticsearch']>>['client'];

/** Ended sessions from the sessions dataset (the portal's replay list). */
function pastSessionsFrom(client: Es, index: string): (q: { user?: string; id?: string }) => Promise<PastSession[]> {
  return async (q) => {
    const filter: Array<Record<string, unknown>> = [{ term: { 'event.action': 'bastion-session-end' } }];
    if (q.user !== undefined) filter.push({ term: { 'auditkit.bastion.user': q.user } });
    if (q.id !== undefined) filter.push({ term: { 'auditkit.bastion.session_id': q.id } });
    const r = await client.search<Record<string, unknown>>({ index, size: q.id ? 1 : 200, sort: [{ '@timestamp': 'desc' }], query: { bool: { filter } } }, { ignore: [404] });
    const get = (d: Record<string, unknown>, p: string): string => String(p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), d) ?? '');
    return (r.hits?.hits ?? []).flatMap((h) => {
      const d = h._source;
      if (!d) return [];
      const rec = get(d, 'file.path');
      return [{ id: get(d, 'auditkit.bastion.session_id'), user: get(d, 'auditkit.bastion.user'), host: get(d, 'host.name'), account: get(d, 'user.name'), start: get(d, 'event.start'), end: get(d, 'event.end'), reason: get(d, 'event.reason'), ...(rec ? { recording: rec } : {}) }];
    });
  };
}

/** A task's documents in the tasks dataset, as the task page and `bastion task` show it. */
function findTaskFrom(client: Es, index: string): (id: string) => Promise<TaskView | undefined> {
  return async (id) => {
    const r = await client.search<Record<string, unknown>>({ index, size: 10_000, sort: [{ '@timestamp': 'asc' }], query: { term: { 'auditkit.task.id': id } } }, { ignore: [404] });
    const docs = (r.hits?.hits ?? []).flatMap((h) => (h._source ? [h._source] : []));
    const get = (d: Record<string, unknown>, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), d);
    const start = docs.find((d) => get(d, 'event.action') === 'bastion-task-start');
    if (!start) return undefined;
    const results = docs
      .filter((d) => get(d, 'event.action') === 'bastion-task-result')
      .map((d) => {
        const exit = get(d, 'process.exit_code');
        const err = get(d, 'auditkit.task.error');
        const sess = get(d, 'auditkit.bastion.session_id');
        const acct = get(d, 'user.name');
        return {
          host: String(get(d, 'host.name') ?? ''),
          ...(acct !== undefined ? { account: String(acct) } : {}),
          outcome: String(get(d, 'event.outcome') ?? ''),
          exit_code: typeof exit === 'number' ? exit : null,
          stdout: String(get(d, 'auditkit.task.stdout') ?? ''),
          stderr: String(get(d, 'auditkit.task.stderr') ?? ''),
          truncated: get(d, 'auditkit.task.truncated') === true,
          ...(err !== undefined ? { error: String(err) } : {}),
          duration_ms: Math.round(Number(get(d, 'event.duration') ?? 0) / 1e6),
          ...(sess !== undefined ? { session: String(sess) } : {}),
        };
      });
    const total = Number(get(start, 'auditkit.task.hosts') ?? results.length);
    return { id, user: String(get(start, 'auditkit.bastion.user') ?? ''), command: String(get(start, 'process.command_line') ?? ''), total, done: results.length, results };
  };
}

function controlSocket(cfg: AuditkitConfig): string {
  return path.join(stateDirOf(cfg), 'control.sock');
}

function tokenStoreOf(cfg: AuditkitConfig, client: Es | undefined): TokenStore {
  return cfg.bastion.state.backend === 'file' || !client ? fileTokenStore(stateDirOf(cfg)) : esTokenStore(client, cfg.bastion.state.index);
}

async function serve(ctx: CliContext): Promise<number> {
  const { value: cfg } = await ctx.config();
  const b = cfg.bastion;
  const stateDir = stateDirOf(cfg);
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const { client } = await ctx.elasticsearch();
  const namespace = cfg.collector.namespace ?? cfg.elasticsearch.namespace;
  const store = b.state.backend === 'file' ? fileStateStore(stateDir) : esStateStore(client, { index: b.state.index, stateDir });
  // One journal per dataset; each is an ndjson input of the pipeline below (spool, exactly-once, dead letters).
  const journalFile = (ds: BastionDataset): string => path.join(stateDir, 'journals', `${ds}.journal`);
  const journals: Record<BastionDataset, RecordJournal> = {
    sessions: new RecordJournal(journalFile('sessions')),
    commands: new RecordJournal(journalFile('commands')),
    alerts: new RecordJournal(journalFile('alerts')),
    tasks: new RecordJournal(journalFile('tasks')),
  };
  const sink: EventSink = { write: (ds, doc) => journals[ds].append(JSON.stringify(doc)) };
  // The guard rail: the same rules as the collector's, checked before a command reaches a host.
  const guard = b.guard.enabled ? createGuard(b.guard, await configuredRules(cfg.rules), { exceptions: cfg.rules.exceptions }) : undefined;
  const bastion = await startBastion({ config: b, inventory: cfg.inventory, store, sink, namespace, log: ctx.log, ...(guard ? { guard } : {}) });
  const base = pipelineOptionsFromConfig({ ...cfg.collector, inputs: [] }, { client, namespace, log: ctx.log, stateDir: path.join(stateDir, 'pipeline') });
  const inputs: PipelineInput[] = (Object.keys(journals) as BastionDataset[]).map((ds) => ({ paths: [journalFile(ds)], format: 'ndjson', dataset: ds, namespace, startAt: 'beginning', maxLineBytes: 4 * 1024 * 1024 }));
  const detector = cfg.collector.rules.enabled ? await createDetector(cfg, { default: namespace }, { log: ctx.log }) : undefined;
  const ac = new AbortController();
  const pipeline = runPipeline({ ...base, inputs, signal: ac.signal, stopGraceMs: 5_000, ...(detector ? { detect: (doc) => detector.process(doc) } : {}) });
  // Batch tasks: run through the door's session core; results journalled to the tasks dataset.
  const taskCtx = taskEventContext(b, namespace);
  const tasks = createTaskRunner({
    door: bastion.door,
    inventory: cfg.inventory,
    concurrency: b.batch.concurrency,
    timeoutMs: b.batch.timeout_s * 1000,
    capBytes: b.batch.output_bytes,
    writeStart: (t) => void sink.write('tasks', taskStartDoc(taskCtx, t)).catch((err: unknown) => ctx.log.error({ err }, 'cannot journal a task document')),
    writeResult: (t, r) => void sink.write('tasks', taskResultDoc(taskCtx, t, r)).catch((err: unknown) => ctx.log.error({ err }, 'cannot journal a task document')),
  });
  const control = await serveControl(controlSocket(cfg), tasks);
  let web: WebPortal | undefined;
  try {
    if (b.web.listen) {
      web = await startWebPortal({
        config: b,
        door: bastion.door,
        tokens: tokenStoreOf(cfg, client),
        pastSessions: pastSessionsFrom(client, streamName('sessions', namespace)),
        live: () => bastion.live(),
        kill: (id) => bastion.kill(id),
        tasks,
        findTask: findTaskFrom(client, streamName('tasks', namespace)),
        log: ctx.log,
      });
    }
  } catch (err) {
    await control.close();
    await bastion.close();
    ac.abort();
    await pipeline.catch(() => undefined);
    throw err;
  }
  const line = `auditkit bastion listening on ${bastion.address}:${bastion.port} (state: ${store.description}); host key ${bastion.hostKey}`;
  const webLine = web ? `web portal on ${web.url}${web.fingerprint ? ` (certificate SHA-256 ${web.fingerprint}${web.generated ? ', generated now' : ''})` : ''}` : undefined;
  if (ctx.out.json) ctx.out.printJson({ listening: { address: bastion.address, port: bastion.port }, host_key: bastion.hostKey, state: store.description, pid: process.pid, ...(web ? { web: { url: web.url, port: web.port, fingerprint: web.fingerprint ?? null } } : {}) });
  else {
    ctx.out.line(line);
    if (webLine) ctx.out.line(webLine);
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await web?.close().catch(() => undefined);
      await control.close().catch(() => undefined);
      await tasks.idle();
      await bastion.close();
      for (const j of Object.values(journals)) await j.close().catch(() => undefined);
      ac.abort();
    })());
  const onSignal = (): void => void stop();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const result = await pipeline;
    await stop();
    ctx.log.info({ shipped: result.counters.sent, spooled: result.spooled }, 'bastion stopped');
    return ExitCode.Ok;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await detector?.close();
    await client.close().catch(() => undefined);
  }
}

async function userCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>, args: string[]): Promise<number> {
  const [sub, name] = args;
  const { store, close } = await storeOf(ctx);
  try {
    if (sub === 'list') {
      const { state, source } = await store.load();
      const users = Object.values(state.users).sort((a, b) => a.name.localeCompare(b.name));
      const grants = Object.values(state.grants);
      if (ctx.out.json) {
        // Never the hash or the seed.
        ctx.out.printJson({ source, users: users.map((u) => ({ name: u.name, groups: u.groups, disabled: u.disabled, expires: u.expires ?? null, password: u.password_hash !== undefined, keys: u.public_keys.length, totp: u.totp !== undefined, allow_from: u.allow_from, allow_times: u.allow_times })), grants });
      } else {
        ctx.out.table(
          users.map((u) => ({ user: safeText(u.name), groups: safeText(u.groups.join(',')), auth: [u.password_hash ? 'password' : '', u.public_keys.length ? `${u.public_keys.length} key(s)` : '', u.totp ? 'totp' : ''].filter(Boolean).join('+'), status: u.disabled ? 'disabled' : u.expires && Date.parse(u.expires) <= Date.now() ? 'expired' : 'active', expires: u.expires ?? '' })),
          ['user', 'groups', 'auth', 'status', 'expires'],
        );
        ctx.out.line('');
        ctx.out.table(
          grants.map((g) => ({ id: g.id, who: safeText(g.user ?? `group:${g.user_group ?? ''}`), where: safeText(g.host ?? `group:${g.host_group ?? ''}`), account: safeText(g.account), from: g.valid_from ?? '', until: g.valid_until ?? '', allows: [g.port_forwarding ? 'port-forwarding' : '', g.agent_forwarding ? 'agent-forwarding' : '', g.sftp ? 'sftp' : ''].filter(Boolean).join(',') })),
          ['id', 'who', 'where', 'account', 'from', 'until', 'allows'],
        );
      }
      return ExitCode.Ok;
    }
    if (!name) throw usage('which user? auditkit bastion user add|disable|enable NAME');
    if (sub === 'add') {
      const keys: string[] = [];
      for (const f of list(argv['key'])) {
        const text = await fsp.readFile(path.resolve(expandHome(f)), 'utf8').catch((err: unknown) => {
          throw usage(`--key ${f}: ${(err as Error).message}`);
        });
        keys.push(...text.split('\n').filter((l) => l.trim() && !l.startsWith('#')));
      }
      const password = argv['password-stdin'] || argv['password'] ? await readPassword(argv, `password for ${name}: `) : undefined;
      const u = await addUser(store, {
        name,
        groups: list(argv['group']),
        publicKeys: keys,
        ...(password !== undefined ? { password } : {}),
        ...(argv['expires'] ? { expires: String(argv['expires']) } : {}),
        allowFrom: list(argv['allow-from']),
        allowTimes: list(argv['allow-times']),
      });
      if (ctx.out.json) ctx.out.printJson({ added: u.name });
      else ctx.out.line(`added bastion user ${safeText(u.name)}`);
      return ExitCode.Ok;
    }
    if (sub === 'disable' || sub === 'enable') {
      await setUserDisabled(store, name, sub === 'disable');
      if (!ctx.out.json) ctx.out.line(`${sub}d ${safeText(name)}`);
      return ExitCode.Ok;
    }
    throw usage(`unknown: bastion user ${sub ?? ''}; use add, disable, enable or list`);
  } finally {
    await close();
  }
}

async function grantCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>, args: string[]): Promise<number> {
  const { store, cfg, close } = await storeOf(ctx);
  try {
    const now = Date.now();
    const until = argv['until'] ? String(argv['until']) : argv['for'] ? new Date(now + parseDuration(String(argv['for']))).toISOString() : undefined;
    const g = await addGrant(store, cfg.inventory, {
      ...(args[0] !== undefined ? { user: args[0] } : {}),
      ...(argv['user-group'] ? { userGroup: String(argv['user-group']) } : {}),
      ...(argv['host'] ? { host: String(argv['host']) } : {}),
      ...(argv['host-group'] ? { hostGroup: String(argv['host-group']) } : {}),
      account: String(argv['account'] ?? ''),
      ...(argv['from'] ? { validFrom: String(argv['from']) } : {}),
      ...(until ? { validUntil: until } : {}),
      portForwarding: Boolean(argv['port-forwarding']),
      agentForwarding: Boolean(argv['agent-forwarding']),
      sftp: Boolean(argv['sftp']),
    });
    if (ctx.out.json) ctx.out.printJson(g);
    else ctx.out.line(`grant ${g.id}: ${safeText(g.user ?? `group ${g.user_group ?? ''}`)} → ${safeText(g.account)}@${safeText(g.host ?? `group ${g.host_group ?? ''}`)}${g.valid_until ? ` until ${g.valid_until}` : ''}`);
    return ExitCode.Ok;
  } finally {
    await close();
  }
}

function readLive(cfg: AuditkitConfig): LiveSession[] {
  const dir = liveDir(cfg.bastion);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: LiveSession[] = [];
  for (const n of names) {
    try {
      const s = JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as LiveSession;
      // EPERM (a bastion run by another user than this operator) is alive: processAlive.
      if (processAlive(s.pid)) out.push(s);
    } catch {
      /* half-written */
    }
  }
  return out;
}

async function sessionsCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>, args: string[]): Promise<number> {
  const [sub, id] = args;
  const { value: cfg } = await ctx.config();
  if (sub === 'list') {
    const live = readLive(cfg);
    const past: Array<Record<string, unknown>> = [];
    if (!argv['live']) {
      const { client } = await ctx.elasticsearch();
      try {
        const since = new Date(Date.now() - parseDuration(String(argv['since'] ?? '24h'))).toISOString();
        const r = await client.search<Record<string, unknown>>({
          index: streamName('sessions', cfg.collector.namespace ?? cfg.elasticsearch.namespace),
          size: Number(argv['limit'] ?? 100),
          sort: [{ '@timestamp': 'desc' }],
          query: { bool: { filter: [{ term: { 'event.action': 'bastion-session-end' } }, { range: { '@timestamp': { gte: since } } }] } },
        }, { ignore: [404] });
        for (const h of r.hits?.hits ?? []) if (h._source) past.push(h._source);
      } catch (err) {
        ctx.out.error(`past sessions not listed: Elasticsearch unreachable (${(err as Error).message})`);
      } finally {
        await client.close().catch(() => undefined);
      }
    }
    const get = (d: Record<string, unknown>, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), d);
    if (ctx.out.json) {
      ctx.out.printJson({ live, past });
      return ExitCode.Ok;
    }
    const rows = [
      ...live.map((s) => ({ id: s.id, state: 'LIVE', user: safeText(s.user), target: safeText(`${s.account}@${s.host}`), source: s.source, start: s.start, end: '', reason: '' })),
      ...past.map((d) => ({ id: String(get(d, 'auditkit.bastion.session_id') ?? ''), state: 'ended', user: safeText(String(get(d, 'auditkit.bastion.user') ?? '')), target: safeText(`${String(get(d, 'user.name') ?? '')}@${String(get(d, 'host.name') ?? '')}`), source: String(get(d, 'source.ip') ?? ''), start: String(get(d, 'event.start') ?? ''), end: String(get(d, 'event.end') ?? ''), reason: safeText(String(get(d, 'event.reason') ?? '')) })),
    ];
    ctx.out.table(rows, ['id', 'state', 'user', 'target', 'source', 'start', 'end', 'reason']);
    return ExitCode.Ok;
  }
  if (!id) throw usage(`which session? auditkit bastion sessions ${sub ?? 'play'} ID`);
  if (!/^[0-9a-f-]{8,64}$/.test(id)) throw usage(`${JSON.stringify(id)} is not a session id`);
  if (sub === 'play') {
    const file = await findRecording(recordingsDir(cfg.bastion), id);
    if (!file) throw new AuditkitError('AK_BASTION_NOT_FOUND', `no recording of session ${id} under ${recordingsDir(cfg.bastion)} (recordings live on the bastion that served the session)`, { exitCode: ExitCode.Usage });
    await playCast(file, (s) => process.stdout.write(s), { speed: Number(argv['speed'] ?? 1), maxIdleS: Number(argv['max-idle'] ?? 2) });
    return ExitCode.Ok;
  }
  if (sub === 'kill') {
    const dir = liveDir(cfg.bastion);
    const live = readLive(cfg).find((s) => s.id === id);
    if (!live) throw new AuditkitError('AK_BASTION_NOT_FOUND', `session ${id} is not live on this bastion (\`auditkit bastion sessions list --live\`)`, { exitCode: ExitCode.Usage });
    await fsp.writeFile(path.join(dir, `${id}.kill`), `${new Date().toISOString()}\n`, { mode: 0o600 });
    if (!ctx.out.json) ctx.out.line(`asked the bastion to end session ${id}`);
    return ExitCode.Ok;
  }
  throw usage(`unknown: bastion sessions ${sub ?? ''}; use list, play or kill`);
}

/** `auditkit bastion exec --user alice --group web -- CMD`: a batch task through the serving bastion; prints its id at once. */
async function execCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>, args: string[]): Promise<number> {
  const { value: cfg } = await ctx.config();
  // yargs leaves what follows `--` in argv._ after the command name ("bastion").
  const underscore = list(argv['_']);
  const rest = [...args, ...underscore.slice(underscore.indexOf('bastion') + 1), ...list(argv['--'])];
  const command = rest.join(' ').trim();
  const user = argv['user'] ? String(argv['user']) : undefined;
  const groups = list(argv['group']);
  const hosts = list(argv['host']);
  if (!user || !command || (groups.length === 0 && hosts.length === 0)) throw usage('auditkit bastion exec --user USER (--group G | --host H)... [--account A] [--wait] -- COMMAND');
  let answer: Record<string, unknown>;
  try {
    answer = await askControl(controlSocket(cfg), { op: 'exec', user, command, groups, hosts, ...(argv['account'] ? { account: String(argv['account']) } : {}) });
  } catch (err) {
    throw new AuditkitError('AK_BASTION_NOT_SERVING', `no bastion serving on this machine (${controlSocket(cfg)}: ${(err as Error).message}); start \`auditkit bastion serve\``);
  }
  if (typeof answer['error'] === 'string') throw new AuditkitError('AK_BASTION_TASK', answer['error'], { exitCode: ExitCode.Usage });
  const id = String(answer['task']);
  if (!argv['wait']) {
    if (ctx.out.json) ctx.out.printJson({ task: id, hosts: answer['hosts'] });
    else ctx.out.line(`task ${id} started on ${String(answer['hosts'])} host(s); results: auditkit bastion task ${id}`);
    return ExitCode.Ok;
  }
  return taskCmd(ctx, { ...argv, wait: true }, [id]);
}

/** `auditkit bastion task ID [--wait]`: a task's per-host results from the tasks dataset. */
async function taskCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>, args: string[]): Promise<number> {
  const [id] = args;
  if (!id || !/^[0-9a-f-]{36}$/.test(id)) throw usage('auditkit bastion task ID (the id `auditkit bastion exec` printed)');
  const { value: cfg } = await ctx.config();
  const { client } = await ctx.elasticsearch();
  const index = streamName('tasks', cfg.collector.namespace ?? cfg.elasticsearch.namespace);
  try {
    const find = findTaskFrom(client, index);
    let t: TaskView | undefined;
    const deadline = Date.now() + parseDuration(String(argv['timeout'] ?? '10m'));
    for (;;) {
      await client.indices.refresh({ index, ignore_unavailable: true }).catch(() => undefined);
      t = await find(id);
      if (!argv['wait'] || (t && t.done >= t.total) || Date.now() > deadline) break;
      await sleep(1000);
    }
    if (!t) throw new AuditkitError('AK_BASTION_TASK', `no task ${id} in ${index} (yet: results reach Elasticsearch within seconds)`, { exitCode: ExitCode.Usage });
    if (ctx.out.json) ctx.out.printJson(t);
    else {
      ctx.out.line(`task ${t.id} by ${safeText(t.user)}: ${safeText(t.command)} (${t.done}/${t.total} done)`);
      ctx.out.table(
        t.results.map((r) => ({ host: safeText(r.host), result: r.outcome === 'success' ? 'ok' : `FAILED${r.error ? `: ${r.error}` : ''}`, exit: r.exit_code === null ? '' : String(r.exit_code), ms: String(r.duration_ms), output: safeText((r.stdout + (r.stderr ? ` [stderr] ${r.stderr}` : '')).trim().slice(0, 120)) })),
        ['host', 'result', 'exit', 'ms', 'output'],
      );
    }
    return t.results.every((r) => r.outcome === 'success') && t.done >= t.total ? ExitCode.Ok : ExitCode.Failure;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** `auditkit bastion token USER --host H [--account A] [--ttl 5m]`: a URL that opens that terminal once. */
async function tokenCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>, args: string[]): Promise<number> {
  const [user] = args;
  const hostName = argv['host'] ? String(argv['host']) : undefined;
  if (!user || !hostName) throw usage('auditkit bastion token USER --host HOST [--account ACCOUNT] [--ttl 5m]');
  const { store, cfg, close } = await storeOf(ctx);
  try {
    const w = cfg.bastion.web;
    if (!w.listen && !w.public_url) throw new AuditkitError('AK_BASTION_WEB_OFF', 'the web portal is off: set bastion.web.listen (and web.public_url if users reach it by another name)');
    const ttlMs = argv['ttl'] !== undefined ? parseDuration(String(argv['ttl'])) : w.token_ttl_s * 1000;
    if (!(ttlMs >= 10_000 && ttlMs <= 7 * 86_400_000)) throw new AuditkitError('AK_BASTION_TOKEN', `--ttl ${String(argv['ttl'])}: between 10s and 7d`, { exitCode: ExitCode.Usage });
    const account = argv['account'] ? String(argv['account']) : undefined;
    // Issued only for what the user is granted now (checked again when the link is used).
    const { state } = await store.load();
    const u = state.users[user];
    if (!u) throw new AuditkitError('AK_BASTION_NOT_FOUND', `no bastion user ${user}`, { exitCode: ExitCode.Usage });
    const hits = resolveTargets(u, Object.values(state.grants), cfg.inventory, Date.now()).filter((t) => t.host.name === hostName && (account === undefined || t.account === account));
    if (hits.length !== 1) throw new AuditkitError('AK_BASTION_TOKEN', hits.length === 0 ? `${user} has no grant on ${account ? `${account}@` : ''}${hostName}` : `${user} has several accounts on ${hostName} (${hits.map((h) => h.account).join(', ')}): pass --account`, { exitCode: ExitCode.Usage });
    const target = hits[0] as (typeof hits)[number];
    let client: Es | undefined;
    if (cfg.bastion.state.backend !== 'file') client = (await ctx.elasticsearch()).client;
    try {
      const expires = new Date(Date.now() + ttlMs).toISOString();
      const value = await tokenStoreOf(cfg, client).issue({ user, host: target.host.name, account: target.account, expires });
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(w.listen ?? '');
      const h = m?.[1] === '0.0.0.0' || m?.[1] === '[::]' ? 'localhost' : (m?.[1] ?? 'localhost');
      const base = w.public_url?.replace(/\/$/, '') ?? `${w.tls ? 'https' : 'http'}://${h}:${m?.[2] ?? '8443'}`;
      const url = `${base}/t/${value}`;
      if (ctx.out.json) ctx.out.printJson({ url, user, host: target.host.name, account: target.account, expires });
      else ctx.out.line(`${url}\n  opens ${safeText(target.account)}@${safeText(target.host.name)} for ${safeText(user)} once, until ${expires}`);
    } finally {
      await client?.close().catch(() => undefined);
    }
    return ExitCode.Ok;
  } finally {
    await close();
  }
}

/**
 * `auditkit bastion …`: thin commands over bastion/. `serve` wires the door to
 * the collector pipeline: the bastion journals its documents (one file per
 * dataset) and a pipeline in the same process follows them as ndjson inputs, so
 * sessions, commands and guard alerts have the collectors' spool, exactly-once
 * ids, dead letters and streaming rules.
 */
export const bastionCommand: AuditkitCommand = {
  command: 'bastion <action> [args..]',
  describe: 'The SSH bastion: serve | user add|disable|enable|list | grant USER | revoke ID | passwd USER | totp enroll USER | sessions list|play|kill | token USER --host H | exec --user U --group G -- CMD | task ID',
  builder: (y) =>
    y
      .positional('action', { choices: ACTIONS, describe: 'what to do' })
      .positional('args', { type: 'string', array: true, describe: 'user add NAME, grant USER, revoke ID, sessions play ID, …' })
      .option('group', { type: 'string', array: true, describe: 'user add: user groups (repeatable)' })
      .option('key', { type: 'string', array: true, describe: 'user add: OpenSSH public key file (repeatable)' })
      .option('password', { type: 'boolean', describe: 'user add: set a password (typed without echo)' })
      .option('password-stdin', { type: 'boolean', describe: 'user add / passwd: read the password from the first line of stdin' })
      .option('expires', { type: 'string', describe: 'user add: the account expires at this ISO time' })
      .option('allow-from', { type: 'string', array: true, describe: 'user add: source CIDRs allowed (repeatable; default anywhere)' })
      .option('allow-times', { type: 'string', array: true, describe: 'user add: login windows, e.g. "mon-fri 08:00-18:00" (bastion local time)' })
      .option('user-group', { type: 'string', describe: 'grant: to a user group instead of a user' })
      .option('host', { type: 'string', describe: 'grant: an inventory host' })
      .option('host-group', { type: 'string', describe: 'grant: an inventory group' })
      .option('account', { type: 'string', describe: 'grant: the system account on the target' })
      .option('from', { type: 'string', describe: 'grant: valid from (ISO time)' })
      .option('until', { type: 'string', describe: 'grant: valid until (ISO time)' })
      .option('for', { type: 'string', describe: 'grant: valid for this long from now (e.g. 8h)' })
      .option('port-forwarding', { type: 'boolean', describe: 'grant: allow ssh -L to the target' })
      .option('agent-forwarding', { type: 'boolean', describe: 'grant: allow agent forwarding (reserved: refused in this version)' })
      .option('sftp', { type: 'boolean', describe: 'grant: allow file transfers (the SFTP subsystem, and scp -t|-f), each one recorded' })
      .option('user', { type: 'string', describe: 'exec: the bastion user whose grants the task runs under' })
      .option('wait', { type: 'boolean', describe: 'exec / task: wait until every host has a result' })
      .option('timeout', { type: 'string', describe: 'task --wait: give up after this long (default 10m)' })
      .option('ttl', { type: 'string', describe: 'token: how long the link works (default bastion.web.token_ttl_s), e.g. 5m' })
      .option('live', { type: 'boolean', describe: 'sessions list: live sessions only' })
      .option('since', { type: 'string', default: '24h', describe: 'sessions list: ended sessions this far back' })
      .option('limit', { type: 'number', default: 100 })
      .option('speed', { type: 'number', default: 1, describe: 'sessions play: speed factor' })
      .option('max-idle', { type: 'number', default: 2, describe: 'sessions play: cap pauses at this many seconds' }),
  async run(ctx, argv) {
    const action = String(argv['action']);
    const args = list(argv['args']);
    switch (action) {
      case 'serve':
        return serve(ctx);
      case 'user':
        return userCmd(ctx, argv, args);
      case 'grant':
        return grantCmd(ctx, argv, args);
      case 'revoke': {
        if (!args[0]) throw usage('which grant? auditkit bastion revoke ID');
        const { store, close } = await storeOf(ctx);
        try {
          await revokeGrant(store, args[0]);
        } finally {
          await close();
        }
        if (!ctx.out.json) ctx.out.line(`revoked ${args[0]}`);
        return ExitCode.Ok;
      }
      case 'passwd': {
        if (!args[0]) throw usage('whose password? auditkit bastion passwd USER');
        const pw = await readPassword(argv, `new password for ${args[0]}: `);
        const { store, close } = await storeOf(ctx);
        try {
          await setPassword(store, args[0], pw);
        } finally {
          await close();
        }
        if (!ctx.out.json) ctx.out.line(`password of ${safeText(args[0])} changed`);
        return ExitCode.Ok;
      }
      case 'totp': {
        if (args[0] !== 'enroll' || !args[1]) throw usage('auditkit bastion totp enroll USER');
        const { store, close } = await storeOf(ctx);
        try {
          const r = await enrollTotp(store, args[1]);
          // Shown once, to the operator enrolling the user: the seed is never printed again.
          if (ctx.out.json) ctx.out.printJson({ user: args[1], secret: r.secret, uri: r.uri });
          else ctx.out.line(`TOTP for ${safeText(args[1])}: add this to the authenticator app (shown once)\n  ${r.uri}\n  secret: ${r.secret}`);
        } finally {
          await close();
        }
        return ExitCode.Ok;
      }
      case 'sessions':
        return sessionsCmd(ctx, argv, args);
      case 'token':
        return tokenCmd(ctx, argv, args);
      case 'exec':
        return execCmd(ctx, argv, args);
      case 'task':
        return taskCmd(ctx, argv, args);
      default:
        throw usage(`unknown action ${action}`);
    }
  },
};
