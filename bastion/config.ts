import { z } from 'zod';
import { SEVERITIES } from '../schema';

/**
 * The `bastion:` section of auditkit.yml. Hosts and host groups are NOT here:
 * they come from the same `inventory:` deploy uses. Users and grants are state
 * (managed with `auditkit bastion user|grant`), not config. Secrets never live
 * here: a system account's key is a file (mode 600), its password a file or the
 * NAME of an environment variable.
 */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the NAME of an environment variable');

export const bastionAccountSchema = z
  .strictObject({
    key: z.string().min(1).optional().describe('Private key file of this account on the targets (mode 600, refused otherwise; ~ expanded).'),
    password_file: z.string().min(1).optional().describe('File holding the account password (mode 600).'),
    password_env: envName.optional().describe('Environment variable holding the account password.'),
  })
  .describe('A system account the bastion logs in as on targets.');

// The guard rail's policy (bastion/guard.ts applies it): here so that loading auditkit.yml
// does not load the rules engine.
const action = z.enum(['allow', 'warn', 'block']);
const severity = z.enum(SEVERITIES);

export const entrySchema = z
  .strictObject({
    action: action.describe('What a rule this entry selects does to the command.'),
    ids: z.array(z.string().min(1)).min(1).optional().describe('Rule ids (any of).'),
    tags: z.array(z.string().min(1)).min(1).optional().describe("Rule tags or categories (any of), e.g. destructive, reverse_shell."),
    severity: z.array(severity).min(1).optional().describe('Rule severities (any of).'),
    min_severity: severity.optional().describe('Rules at or above this severity.'),
    comment: z.string().optional(),
  })
  .describe('One policy entry: every selector given must hold (ids AND tags AND severity); an entry without selectors selects every rule.');
export type GuardPolicyEntry = z.output<typeof entrySchema>;

/** `bastion.guard` in auditkit.yml. */
export const guardPolicySchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Check each command before it reaches the host.'),
    policy: z.array(entrySchema).default([]).describe('Ordered entries, tried before the built-in policy; the first that selects a rule decides its action.'),
    builtin_policy: z.boolean().default(true).describe('Append the built-in policy (block critical destructive commands, warn on high) after `policy`.'),
    default: action.default('allow').describe('Action for a matched rule that no entry selects.'),
    max_command_length: z.number().int().min(256).max(1 << 20).default(8192).describe('Characters of a command the rules see (the extractor cuts commands at the same default); the rules engine parses shell, which is not linear on pathological input.'),
    oversize: action.default('block').describe('Action for a command longer than max_command_length (what lies past the limit was not checked).'),
    on_error: action.default('block').describe('Action when the check itself fails (a bug): fail closed by default.'),
  })
  .describe('The guard rail: commands checked by the rules engine at the bastion.');
export type GuardPolicyConfig = z.output<typeof guardPolicySchema>;

export const bastionConfigSchema = z
  .strictObject({
    listen: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 0.0.0.0:2222')
      .default('0.0.0.0:2222')
      .describe('Address and port the SSH door listens on.'),
    name: z.string().min(1).optional().describe('Name of this bastion instance in events (observer.name; default: the machine name).'),
    state_dir: z.string().min(1).default('/var/lib/auditkit/bastion').describe('Bastion state: host key, state cache, journals, spool, recordings, live sessions (mode 700).'),
    host_key: z.string().min(1).optional().describe('The door\'s SSH host key (default <state_dir>/ssh_host_ed25519_key, generated on first start).'),
    guard: guardPolicySchema.prefault({}),
    known_hosts: z.string().min(1).default('/etc/auditkit/bastion/known_hosts').describe('known_hosts of the targets: a target whose key is missing or changed is refused (no accept-new).'),
    state: z
      .strictObject({
        backend: z.enum(['elasticsearch', 'file']).default('elasticsearch').describe('Where users and grants live: an admin-only Elasticsearch index shared by every instance (mirrored to a local cache for outages), or the local cache file alone (one instance).'),
        index: z.string().min(1).default('auditkit-bastion-state').describe('Index of the state documents (outside logs-auditkit.*, so the collector and reader roles cannot read it).'),
        refresh_s: z.number().int().positive().default(15).describe('How often a running bastion reloads users and grants.'),
      })
      .prefault({}),
    accounts: z.record(z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/, 'expected a Unix account name'), bastionAccountSchema).default({}).describe('Credentials of the system accounts grants name.'),
    login: z
      .strictObject({
        max_tries: z.number().int().min(1).max(10).default(3).describe('Failed authentications per connection before it is closed.'),
        failure_delay_ms: z.number().int().min(0).max(10_000).default(400).describe('Fixed delay before every refusal (timing and brute force).'),
        lockout_failures: z.number().int().min(1).default(5).describe('Failures within lockout_window_s that lock a user.'),
        lockout_address_failures: z.number().int().min(1).default(20).describe('Failures within lockout_window_s that lock a source address, whatever the user names (higher: several people may share a NAT address).'),
        lockout_window_s: z.number().int().positive().default(900),
        lockout_s: z.number().int().positive().default(900).describe('How long a lock lasts.'),
        totp_window: z.number().int().min(0).max(3).default(1).describe('TOTP periods accepted either side of now (clock skew).'),
      })
      .prefault({}),
    session: z
      .strictObject({
        idle_timeout_s: z.number().int().min(0).default(1800).describe('Close a session after this long without input (0: never).'),
        env_name: envName.default('AUDITKIT_BASTION_SESSION').describe('Environment variable carrying the bastion session id to the target (needs AcceptEnv in the target\'s sshd_config).'),
        check_interval_ms: z.number().int().min(100).default(1000).describe('How often live sessions are checked for expired grants and kill requests.'),
      })
      .prefault({}),
    web: z
      .strictObject({
        listen: z
          .string()
          .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 0.0.0.0:8443')
          .optional()
          .describe('Address and port of the web portal (login, hosts, web terminal, one-time tokens, replays). Unset: no portal.'),
        tls: z.boolean().default(true).describe('Serve HTTPS (a self-signed certificate is generated into state_dir on first start unless cert/key are given). false only behind a TLS-terminating proxy on loopback: cookies stay Secure.'),
        cert: z.string().min(1).optional().describe('PEM certificate (chain) of the portal; with key.'),
        key: z.string().min(1).optional().describe('PEM private key of the portal (mode 600, refused otherwise); with cert.'),
        public_url: z.string().url().optional().describe('Base URL users reach the portal at (token links); default https://<listen address>.'),
        session_ttl_s: z.number().int().min(60).default(8 * 3600).describe('A portal login lasts at most this long.'),
        session_idle_s: z.number().int().min(60).default(1800).describe('A portal login ends after this long without a request.'),
        token_ttl_s: z.number().int().min(10).max(7 * 86400).default(300).describe('Default lifetime of a one-time terminal token (auditkit bastion token --ttl).'),
        admin_group: z.string().min(1).default('bastion-admin').describe('Bastion users in this user group are portal admins (everyone\'s replays, live sessions).'),
        rate_limit_per_min: z.number().int().min(10).default(300).describe('Requests per minute per source address (login attempts: a tenth of it, and the lockout).'),
      })
      .prefault({}),
    batch: z
      .strictObject({
        concurrency: z.number().int().min(1).max(256).default(10).describe('Hosts a batch task runs on at the same time.'),
        timeout_s: z.number().int().min(1).default(300).describe('A host without a result after this long is ended (result "timeout").'),
        output_bytes: z.number().int().min(256).max(1024 * 1024).default(64 * 1024).describe('stdout and stderr kept per host (each); past it the result is marked truncated.'),
      })
      .prefault({})
      .describe('Batch tasks: one command on many hosts (auditkit bastion exec, the portal\'s task form).'),
    recording: z
      .strictObject({
        dir: z.string().min(1).optional().describe('Where recordings go (default <state_dir>/recordings).'),
        max_bytes: z.number().int().positive().default(100 * 1024 * 1024).describe('Cap of terminal bytes recorded per session; past it a marker is written and recording stops (the session goes on).'),
        retention_days: z.number().int().min(0).default(180).describe('Recordings older than this are deleted (0: keep forever).'),
        input: z.boolean().default(true).describe('Record input ("i" events); input at password prompts is masked.'),
      })
      .prefault({}),
  })
  .describe('The SSH bastion (auditkit bastion serve).');

export type BastionConfig = z.output<typeof bastionConfigSchema>;
export type BastionAccountConfig = z.output<typeof bastionAccountSchema>;
