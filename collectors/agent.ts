/**
 * The collector agent: everything `auditkit collect` runs on a host, wired in one
 * place. The configured file inputs; the shell hook and OMAudit listeners, each
 * journalling a record (as durably as `collector.listeners.journal.fsync` says)
 * before it answers OK, and then followed like a file;
 * streaming detection with notifications; all through one pipeline run.
 *
 * Invariant kept from the listeners: a record the hook was answered OK for is in its
 * journal (written, and fdatasync'd unless the policy is `interval`); the journal is an input like any file, so it is shipped exactly once
 * across restarts. `once` starts no listener but still drains their journals: records
 * OK'd by a previous run and not shipped yet must not wait for the next long start.
 */
import * as path from 'node:path';
import type { BulkClient } from '../elastic';
import { AuditkitError, ExitCode, type Logger, type SmtpConfig } from '../core';
import { createDetector, type RulesConfig } from '../rules';
import type { CollectorConfig } from './config';
import { PARSERS } from './parsers';
import { committedOffsets, pipelineOptionsFromConfig, RecordJournal, runPipeline, totalDropped, type PipelineInput, type PipelineResult } from './pipeline';
import { HOOK_JOURNAL_NAME, SessionAddresses, startHookReceiver, startOmauditReceiver } from './shell';
import { PostureService, postureStateDir, WriterIndex } from './posture';
import { BastionSessionJoin } from './auditd/bastion-join';

export interface AgentOptions {
  readonly client: BulkClient;
  readonly config: { readonly collector: CollectorConfig; readonly rules: RulesConfig; readonly smtp: SmtpConfig };
  /** The namespace of inputs that name none (elasticsearch.namespace). */
  readonly namespace: string;
  readonly log: Logger;
  /** Read every input to its current end, ship everything, return. */
  readonly once: boolean;
  /** Ends a long run: stop reading, commit what is spooled, give in-flight requests `stopGraceMs`. */
  readonly signal: AbortSignal;
  readonly stateDir?: string | undefined;
}

export async function runAgent(o: AgentOptions): Promise<PipelineResult> {
  const { collector } = o.config;
  const listeners = collector.listeners;
  if (collector.inputs.length === 0 && !listeners.hook.enabled && !listeners.omaudit.enabled && !collector.posture.enabled) {
    throw new AuditkitError('AK_COLLECT_NO_INPUTS', `the configuration has no collector.inputs; add at least one (path: /var/log/audit/audit.log, format: auditd). Formats: ${PARSERS.map((p) => p.kind).join(', ')}`, { exitCode: ExitCode.Config });
  }
  const base = pipelineOptionsFromConfig(collector, { client: o.client, namespace: o.namespace, log: o.log, once: o.once, signal: o.signal, ...(o.stateDir ? { stateDir: o.stateDir } : {}) });
  const extraInputs: PipelineInput[] = [];
  const closers: Array<() => Promise<void>> = [];
  const readOffset = committedOffsets(base.stateDir);
  const journalOpts = { maxBytes: listeners.max_backlog_bytes, maxBacklogBytes: listeners.max_backlog_bytes, readOffset, fsync: listeners.journal.fsync, fsyncIntervalMs: listeners.journal.fsync_interval_ms };
  const journalInput = (file: string, format: string): PipelineInput => ({ paths: [file], format, namespace: base.namespace, startAt: 'beginning', maxLineBytes: 1024 * 1024 });
  try {
    if (listeners.hook.enabled) {
      const file = path.join(base.stateDir, 'listeners', HOOK_JOURNAL_NAME);
      if (!o.once) {
        const journal = new RecordJournal(file, journalOpts);
        try {
          const rx = await startHookReceiver((r) => journal.append(r.text), { host: listeners.hook.host, port: listeners.hook.port, ...(listeners.hook.alive_file ? { aliveFile: listeners.hook.alive_file } : {}), proofs: listeners.hook.uid_proofs });
          closers.push(() => rx.close(), () => journal.close());
          o.log.info({ 'server.address': listeners.hook.host, 'server.port': rx.port }, 'listening for the shell hook');
        } catch (err) {
          // Not fatal: the hook falls back to syslog when nobody listens.
          await journal.close();
          o.log.error({ err }, 'cannot listen for the shell hook; hooks fall back to syslog');
        }
      }
      extraInputs.push(journalInput(file, 'hook'));
    }
    if (listeners.omaudit.enabled) {
      const file = path.join(base.stateDir, 'listeners', 'omaudit.journal');
      if (!o.once) {
        const journal = new RecordJournal(file, journalOpts);
        const rx = await startOmauditReceiver((r) => journal.append(r.text), {
          host: listeners.omaudit.host,
          port: listeners.omaudit.port,
          ...(listeners.omaudit.token ? { token: listeners.omaudit.token } : {}),
        });
        closers.push(() => rx.close(), () => journal.close());
      }
      extraInputs.push(journalInput(file, 'omaudit'));
    }
    // Posture: its documents are journalled (fsync) and the journal is an input, like the listeners'.
    let who: WriterIndex | undefined;
    if (collector.posture.enabled) {
      const file = path.join(base.stateDir, 'posture', 'posture.journal');
      extraInputs.push(journalInput(file, 'ndjson'));
      const journal = new RecordJournal(file);
      who = new WriterIndex();
      const root = path.resolve(collector.posture.root);
      const service = new PostureService({
        ctx: { host: base.host, agent: base.agent, namespace: base.namespace, root, stateDir: postureStateDir(base.stateDir, root), now: Date.now, log: o.log },
        config: collector.posture,
        emit: (d) => journal.append(JSON.stringify(d)),
        who,
        // With an audit log to read, a real-time change waits (bounded) for its watch record.
        whoWaitMs: collector.inputs.some((i) => i.format === 'auditd') ? Math.min(collector.posture.fim.who_window_ms, 3_000) : 0,
      });
      if (o.once) {
        try {
          await service.pass({ full: true, start: true });
        } finally {
          await service.close();
          await journal.close();
        }
      } else {
        void service.start();
        // Closed in order: the service stops (its last pass ends), then its journal.
        closers.unshift(() => service.close(), () => journal.close());
        o.log.info({ 'file.count': service.fim?.realtimeTargets.length ?? 0 }, 'posture on: file integrity, inventory and baseline checks');
      }
    }
    let detect: PipelineOptionsDetect | undefined;
    if (collector.rules.enabled) {
      const detector = await createDetector(o.config, { default: base.namespace, others: base.inputs.map((i) => i.namespace) }, { log: o.log });
      closers.push(() => detector.close());
      o.log.info({ rules: detector.rules }, 'rules engine on: alerts are raised as events are shipped');
      detect = (doc) => detector.process(doc);
    }
    // The FIM's who-changed-it join taps the auditd events this pipeline parses anyway.
    if (who) {
      const tap = who;
      const inner = detect;
      detect = (doc) => {
        tap.observe(doc);
        return inner ? inner(doc) : [];
      };
    }
    // The bastion join: auditd events of a login that came through the bastion carry its session id
    // (learnt from the login's attested hook records; collectors/auditd/bastion-join.ts).
    // Its map is saved with each checkpoint commit and read back here, so a restart in the middle
    // of a login keeps tagging that login's auditd events.
    const joinFile = path.join(base.stateDir, 'bastion-join.json');
    const join = new BastionSessionJoin({
      file: joinFile,
      onRefused: (reason, d) => o.log.warn({ 'event.reason': reason, 'auditkit.session.id': d.session, 'auditkit.bastion.session_id': d.bastion }, 'a hook record claimed a bastion session for a login it does not own or that is already mapped; refused (logged once per reason)'),
    });
    const loaded = join.load();
    if (loaded.damaged) o.log.warn({ 'file.path': joinFile }, 'the saved bastion join map could not be read; kept aside, starting empty (logins are mapped again by their next hook record)');
    else if (loaded.loaded > 0) o.log.info({ sessions: loaded.loaded }, 'bastion join map loaded');
    // The hook parser's login memory (the address and bastion id a login declared, inherited by its
    // su/sudo shells: collectors/shell/hook.ts), shared by the hook inputs and kept the same way, in
    // its own file: each snapshot has its own format and version, a damaged one costs only its own
    // state, and each is rewritten only when its own map changed.
    const hookSessionsFile = path.join(base.stateDir, 'hook-sessions.json');
    const hookSessions = new SessionAddresses(collector.hook_logins.max_logins, collector.hook_logins.per_uid, hookSessionsFile);
    const hookLoaded = hookSessions.load();
    if (hookLoaded.damaged) o.log.warn({ 'file.path': hookSessionsFile }, 'the saved hook login memory could not be read; kept aside, starting empty (a login is remembered again by its own shell\'s next record)');
    else if (hookLoaded.loaded > 0) o.log.info({ sessions: hookLoaded.loaded }, 'hook login memory loaded');
    const saveState = async (force: boolean): Promise<void> => {
      const r = await Promise.allSettled([join.save(force), hookSessions.save(force)]);
      for (const s of r) if (s.status === 'rejected') throw s.reason;
    };
    const result = await runPipeline({
      ...base,
      inputs: [...base.inputs, ...extraInputs],
      stopGraceMs: 5_000,
      enrich: (doc) => join.apply(doc),
      parserShared: new Map([['hook', hookSessions]]),
      // Both memories' drops, visible in every heartbeat (a flood or a too-small cap shows there).
      evicted: () => ({ bastion_join: join.evicted, hook_budget: hookSessions.evicted.budget, hook_cap: hookSessions.evicted.cap }),
      onCommit: () => saveState(false),
      ...(detect ? { detect } : {}),
    });
    // The last commit may have fallen within the saves' rate limit: what it held is written now.
    await saveState(true).catch((err: unknown) => o.log.error({ err }, 'saving the bastion join map or the hook login memory at stop failed'));
    return result;
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

type PipelineOptionsDetect = NonNullable<Parameters<typeof runPipeline>[0]['detect']>;

/** What a run did, as `collect --json` prints it (and heartbeats carry). */
export function agentSummary(r: PipelineResult): Record<string, unknown> {
  const c = r.counters;
  return {
    read: c.received,
    parsed: c.parsed,
    failed: c.failed,
    shipped: c.sent + c.duplicates,
    created: c.sent,
    duplicates: c.duplicates,
    deadlettered: c.deadlettered,
    rejected: c.rejected,
    alerts: c.alerts,
    detect_errors: c.detectErrors,
    dropped: totalDropped(c),
    dropped_by_reason: c.dropped,
    lost: c.lost,
    retries: c.retries,
    spooled: r.spooled,
    rotated_missing: r.rotatedMissing,
    bytes_read: r.bytesRead,
    // The join's and the hook login memory's drops, as heartbeats carry them (a flood shows here too).
    ...(r.evicted ? { evicted: r.evicted } : {}),
  };
}
