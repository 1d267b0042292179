import { z } from 'zod';
import { DATASETS, namespaceProblem } from '../schema';
import { PARSERS } from './parsers';
import { sizeSchema } from './size';
import { postureConfigSchema } from './posture/config';

const namespace = z
  .string()
  .refine((s) => namespaceProblem(s) === undefined, { message: 'invalid data stream namespace (lower case, no - \\ / * ? " < > | , # : or spaces)' });

export { parseSize } from './size';

const size = sizeSchema.refine((n) => n > 0, { message: 'expected a positive size' });

/** Named in validate's messages (core/error-codes.ts documents it). */
const LISTENER_EXPOSED = 'AK_LISTENER_EXPOSED';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

/** One input: files to follow and the format they are in. */
export const collectorInputSchema = z
  .strictObject({
    paths: z.array(z.string().min(1)).min(1).optional().describe('Files to follow; the last path component may be a glob (*, ?).'),
    path: z.string().min(1).optional().describe('One file to follow (same as paths: [path]).'),
    format: z.string().default('auto').describe('Parser kind (see `auditkit ingest --help`), or auto to sniff each file.'),
    dataset: z.enum(DATASETS).optional().describe('Route the events to this dataset (default: the parser\'s).'),
    namespace: namespace.optional().describe('Namespace for this input (default: collector.namespace).'),
    start_at: z.enum(['beginning', 'end']).default('beginning').describe('Where to start a file seen for the first time with no checkpoint, at the first start only.'),
    max_line_bytes: size.default(1024 * 1024).describe('Longer lines are skipped to their end and dead-lettered (head kept).'),
  })
  .superRefine((v, ctx) => {
    if (!v.paths && !v.path) ctx.addIssue({ code: 'custom', message: 'an input needs `path` or `paths`', path: ['paths'] });
    if (v.paths && v.path) ctx.addIssue({ code: 'custom', message: 'set either `path` or `paths`, not both', path: ['path'] });
    if (v.format !== 'auto' && !PARSERS.some((p) => p.kind === v.format)) {
      ctx.addIssue({ code: 'custom', message: `unknown format ${JSON.stringify(v.format)}; expected auto or one of: ${PARSERS.map((p) => p.kind).join(', ')}`, path: ['format'] });
    }
    for (const p of [...(v.paths ?? []), ...(v.path ? [v.path] : [])]) {
      if (/[*?[]/.test(p.slice(0, p.lastIndexOf('/') + 1))) ctx.addIssue({ code: 'custom', message: `globs are allowed only in the last path component: ${p}`, path: ['paths'] });
    }
  });

/** The `collector:` section of auditkit.yml (the host agent). Owned by collectors/. */
export const collectorConfigSchema = z.strictObject({
  host_name: z.string().min(1).optional().describe('Host name to report; default: os.hostname().'),
  state_dir: z.string().default('/var/lib/auditkit').describe('Checkpoints, spool and dead letters.'),
  namespace: namespace.optional().describe('Namespace of the collector\'s streams; default: elasticsearch.namespace.'),
  inputs: z.array(collectorInputSchema).default([]).describe('Files to follow.'),
  poll_interval_ms: z.number().int().min(10).max(60_000).default(250).describe('How often files are checked for new data and rotation.'),
  rotated_grace_ms: z.number().int().min(0).default(5_000).describe('A rotated file is closed after it stayed unchanged at its end this long.'),
  batch_records: z.number().int().min(1).max(1_000_000).default(2_000).describe('Records read per input per step.'),
  spool: z
    .strictObject({
      max_bytes: size.default(1024 ** 3).describe('Spool size cap; when full the sources wait (backpressure).'),
      segment_bytes: size.default(8 * 1024 ** 2).describe('Size of one spool segment file.'),
      fsync: z.enum(['always', 'interval', 'never']).default('interval').describe('always: fsync every batch; interval: every fsync_interval_ms; never: leave it to the OS (survives a process crash, not a power loss).'),
      fsync_interval_ms: z.number().int().min(1).default(250),
      when_full: z.enum(['block', 'drop_newest']).default('block').describe('block (default, nothing lost) or drop_newest (counted in heartbeats as dropped.spool_full).'),
    })
    .prefault({}),
  sink: z
    .strictObject({
      flush_bytes: size.default(5 * 1024 ** 2).describe('Send a bulk request when this much is waiting.'),
      flush_interval_ms: z.number().int().min(1).default(250).describe('...or when the oldest waiting record is this old.'),
      max_docs: z.number().int().min(1).default(10_000).describe('Most documents in one bulk request.'),
      max_inflight: z.number().int().min(1).max(64).default(2).describe('Bulk requests in flight at once.'),
      backoff_initial_ms: z.number().int().min(1).default(500),
      backoff_max_ms: z.number().int().min(1).default(30_000),
      request_timeout_ms: z.number().int().min(100).default(60_000),
    })
    .prefault({}),
  hook_logins: z
    .strictObject({
      per_uid: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(64)
        .describe('Logins the hook parser remembers (address and bastion session they declared, inherited by their su/sudo shells) per non-root account that declared them; one over evicts that account\'s own least recently used login (heartbeat auditkit.agent.evicted.hook_budget). Raise it for accounts with many concurrent logins (shared service accounts, jump users); max_logins / per_uid accounts flooding at once can push out another account\'s login.'),
      max_logins: z.number().int().min(1).max(1_000_000).default(10_000).describe('Logins the hook parser remembers in all (least recently used forgotten first; heartbeat auditkit.agent.evicted.hook_cap); about 100 bytes each in memory and in <state_dir>/hook-sessions.json.'),
    })
    .prefault({})
    .describe('Bounds of the hook parser\'s per-login memory (collectors/shell/README.md, "Memory bounds").'),
  heartbeat_interval_s: z.number().min(0).default(30).describe('Heartbeats with counters to logs-auditkit.agent-<ns>; 0 turns them off.'),
  rules: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Run the rules engine on every event as it is shipped (streaming): alerts reach logs-auditkit.alerts-<ns> within seconds. Which rules, exceptions and state limits: the `rules:` section.'),
    })
    .prefault({}),
  listeners: z
    .strictObject({
      hook: z
        .strictObject({
          enabled: z.boolean().default(true).describe('Receive the shell hook\'s records over loopback TCP (its primary transport; it falls back to syslog when nobody listens).'),
          host: z.string().default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).default(601).describe('A privileged port on purpose: no ordinary user can take it while the collector is down.'),
          alive_file: z
            .string()
            .default('/run/auditkit/hook.alive')
            .describe('Liveness stamp (epoch ms, rewritten every 250 ms) the hook reads before it connects: stale (collector frozen or gone), the hook falls back to syslog at once instead of waiting on a connect that has no timeout. Must match the hook\'s __auditkit_alive; empty: none.'),
          uid_proofs: z
            .boolean()
            .default(true)
            .describe('Answer a shell\'s first record, attested from the kernel socket table, with a proof of its uid (an HMAC under a key held in memory) that the hook keeps in a shell variable and sends with its next records, which then need no walk of the socket table (1.6–4 ms a prompt on a large host). false: every record is looked up in the table.'),
        })
        .prefault({}),
      omaudit: z
        .strictObject({
          enabled: z.boolean().default(false).describe('Accept legacy OMAudit agents (HTTP GET /omaudit/omaudit_pull/...) during a migration.'),
          host: z.string().default('127.0.0.1').describe('Loopback by default; listening on other addresses should come with a token.'),
          port: z.number().int().min(0).max(65535).default(8000),
          token: z.string().min(1).optional().describe('Shared secret the agents must send (token= parameter).'),
        })
        .prefault({}),
      journal: z
        .strictObject({
          fsync: z
            .enum(['always', 'group', 'interval'])
            .default('interval')
            .describe(
              'When a listener record is OK\'d (the hook then forgets it). interval (default): once written to the journal (page cache), fdatasync every fsync_interval_ms: survives a collector SIGKILL/crash, a kernel crash or power loss may lose the last fsync_interval_ms; group: after an fdatasync shared by the records written meanwhile (group commit): survives power loss, costs one disk flush per prompt; always: after its own fdatasync.',
            ),
          fsync_interval_ms: z.number().int().min(1).max(10_000).default(200).describe('interval: how often the journal is fdatasync\'d.'),
        })
        .prefault({})
        .describe('Durability of the listener journals against prompt latency (collectors/pipeline/README.md, "Listener journals").'),
      max_backlog_bytes: size
        .default(64 * 1024 ** 2)
        .describe('Unread bytes a listener journal may hold (the reader waits while the spool is full); past it senders get RETRY and the hook falls back to syslog, so nothing answered OK can be lost.'),
    })
    .prefault({})
    .superRefine((v, ctx) => {
      // Sender checks read the kernel's local socket table: a remote sender has no entry there.
      if (v.hook.enabled && !isLoopback(v.hook.host)) {
        ctx.addIssue({ code: 'custom', path: ['hook', 'host'], message: `${LISTENER_EXPOSED}: the shell hook listener on ${v.hook.host} would take records from other hosts, whose sender uid cannot be checked (anyone could forge anyone's commands); keep host 127.0.0.1 (or ::1) and let each host run its collector` });
      }
      if (v.omaudit.enabled && !isLoopback(v.omaudit.host) && v.omaudit.token === undefined) {
        ctx.addIssue({ code: 'custom', path: ['omaudit', 'token'], message: `${LISTENER_EXPOSED}: the OMAudit listener on ${v.omaudit.host} is reachable from other hosts without a token: anyone could write command records; set collector.listeners.omaudit.token (and the agents' token=) or listen on 127.0.0.1` });
      }
    })
    .describe('Socket sources. Records are journalled to state_dir (fsync before the sender gets OK) and followed like files.'),
  posture: postureConfigSchema.prefault({}).describe('Host posture: file integrity with who changed it, inventory, exposure, baseline checks (collectors/posture).'),
});

export type CollectorConfig = z.output<typeof collectorConfigSchema>;
export type CollectorInputConfig = z.output<typeof collectorInputSchema>;
