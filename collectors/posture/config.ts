import { z } from 'zod';
import { sizeSchema } from '../size';

/**
 * `collector.posture`: file integrity, inventory, exposure and baseline checks on
 * the host. Defaults live here; the rest of collectors/posture reads only the
 * parsed, frozen result.
 *
 * Every bound an unprivileged local user can push on (how many files a scan walks,
 * how many bytes it hashes, how many inotify watches it holds, how deep it goes,
 * how many processes and sockets it lists) has a default and a maximum here.
 */

/** Files and directories watched in real time: identity, privilege, ssh, cron, systemd, preload, PAM, profiles. */
export const DEFAULT_REALTIME_PATHS: readonly string[] = [
  '/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/security/opasswd',
  '/etc/sudoers', '/etc/sudoers.d',
  '/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d', '/etc/ssh/ssh_config',
  '/root/.ssh/authorized_keys', '~/.ssh/authorized_keys', '~/.ssh/authorized_keys2',
  '/etc/crontab', '/etc/cron.d', '/etc/cron.hourly', '/etc/cron.daily', '/etc/cron.weekly', '/etc/cron.monthly', '/var/spool/cron',
  '/etc/systemd/system',
  '/etc/ld.so.preload', '/etc/ld.so.conf', '/etc/ld.so.conf.d',
  '/etc/pam.d', '/etc/security/limits.conf',
  '/etc/profile', '/etc/profile.d', '/etc/bash.bashrc', '/etc/environment',
  '~/.bashrc', '~/.profile', '~/.bash_profile',
];

/** Scanned (hashed) on a schedule: system binaries and the rest of /etc, as Auditbeat's default set. */
export const DEFAULT_SCAN_PATHS: readonly string[] = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/usr/lib/systemd/system', '/etc'];

const size = sizeSchema;

const absOrHome = z.string().regex(/^(\/|~\/)/, 'expected an absolute path, or ~/… for the same path in every account\'s home');

export const fimConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('File integrity monitoring.'),
  realtime: z.array(absOrHome).default([...DEFAULT_REALTIME_PATHS]).describe('Files and directories watched in real time (inotify) and hashed at every posture pass. `~/x` means x in every account\'s home (accounts from /etc/passwd with uid 0 or >= 1000).'),
  realtime_extra: z.array(absOrHome).default([]).describe('Added to `realtime` (keeps the defaults).'),
  scan: z.array(absOrHome).default([...DEFAULT_SCAN_PATHS]).describe('Directories hashed by the periodic full scan (changes seen within scan_interval_s).'),
  scan_extra: z.array(absOrHome).default([]).describe('Added to `scan` (keeps the defaults).'),
  exclude: z.array(z.string().min(1)).default(['/etc/mtab', '/etc/adjtime', '/etc/ld.so.cache', '/etc/.pwd.lock', '*.swp', '*~']).describe('Paths (exact, directory prefixes ending in /, or *.suffix) never reported.'),
  scan_interval_s: z.number().int().min(60).default(12 * 3600).describe('Full scan period. A scan also runs at start, so changes made while the collector was down are reported then.'),
  max_file_bytes: size.default(64 * 1024 ** 2).describe('Larger files are not hashed (size, mode, owner and times are still compared); auditkit.fim.hash_skipped: too_large.'),
  max_files: z.number().int().min(1).max(5_000_000).default(500_000).describe('Most files one scan looks at; the rest is skipped and counted (a user filling a scanned directory cannot make a scan endless).'),
  max_depth: z.number().int().min(0).max(64).default(12).describe('Deepest directory level walked below each scan path. Symlinks are recorded, never followed.'),
  max_watches: z.number().int().min(1).max(65_536).default(1_024).describe('Most inotify watches (directories) the real-time watcher holds.'),
  debounce_ms: z.number().int().min(0).max(60_000).default(300).describe('Events on one path within this time become one check (an editor writes a file in several steps).'),
  scan_rate_bytes: size.default(50 * 1024 ** 2).describe('Bytes hashed per second by the full scan at most (I/O load on the host); 0: unlimited.'),
  who_window_ms: z.number().int().min(0).max(600_000).default(5_000).describe('An auditd record of the same path at most this far from the change (file ctime) names who made it.'),
});

export const inventoryPartsSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Host inventory: logins, accounts, packages, listening sockets, processes.'),
  logins: z.boolean().default(true).describe('Logins and failed logins from /var/log/wtmp and /var/log/btmp.'),
  accounts: z.boolean().default(true).describe('Users and groups from /etc/passwd, /etc/shadow, /etc/group.'),
  packages: z.boolean().default(true).describe('Installed packages (dpkg status database).'),
  sockets: z.boolean().default(true).describe('Listening TCP and bound UDP sockets with their process and user (/proc/net).'),
  processes: z.boolean().default(true).describe('A process snapshot (/proc).'),
  max_processes: z.number().int().min(1).max(100_000).default(4_096).describe('Most processes in one snapshot.'),
  max_login_records: z.number().int().min(1).max(1_000_000).default(100_000).describe('Most wtmp/btmp records read per scan (from the end of the file).'),
  state_every_s: z.number().int().min(0).default(12 * 3600).describe('Full state documents (every account, package, socket, process) at most this often; changes are always sent. 0: every pass.'),
});

export const exposureConfigSchema = z.strictObject({
  policy: z.string().min(1).default('default').describe('Name of the policy (for the report); set a different one per inventory group with the group\'s `collector:` overrides.'),
  allowed_ports: z.array(z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d+(-\d+)?(\/(tcp|udp))?$/, 'expected a port, a range 8000-8100, optionally /tcp or /udp')])).default([22]).describe('Ports that may listen on non-loopback addresses (e.g. 22, 443/tcp, 60000-61000/udp). Others are exposures: a new one raises an alert.'),
  ignore_loopback: z.boolean().default(true).describe('Sockets bound only to loopback (127.0.0.0/8, ::1) are never exposures.'),
});

export const networkScanConfigSchema = z.strictObject({
  ports: z.array(z.number().int().min(1).max(65535)).default([21, 22, 23, 25, 80, 111, 139, 443, 445, 2049, 3306, 3389, 5432, 5900, 6379, 8080, 9200, 11211, 27017]).describe('Ports the central TCP connect scan tries on each inventory address (`auditkit posture scan --network`).'),
  rate_per_s: z.number().int().min(1).max(1_000).default(50).describe('Connection attempts per second, at most.'),
  max_targets: z.number().int().min(1).max(4_096).default(256).describe('Most addresses × ports attempts of one scan: the scan refuses to start above it.'),
  timeout_ms: z.number().int().min(50).max(30_000).default(1_000).describe('Connect timeout per attempt.'),
});

export const postureConfigSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('Run the posture modules in the collector: FIM, inventory, exposure, baseline checks.'),
  interval_s: z.number().int().min(30).default(3_600).describe('Posture pass period in the collector (inventory, baseline checks, hashing the real-time set). Real-time FIM events do not wait for it.'),
  root: z.string().default('/').describe('Read the host below this directory (a mounted image).'),
  fim: fimConfigSchema.prefault({}),
  inventory: inventoryPartsSchema.prefault({}),
  exposure: exposureConfigSchema.prefault({}),
  network_scan: networkScanConfigSchema.prefault({}),
  baseline: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Run the baseline checks each pass; a check that passed and now fails raises an alert.'),
      policies: z.array(z.string().min(1)).default([]).describe('Policy files or directories; empty: the built-in policies.'),
    })
    .prefault({}),
});

export type PostureConfig = z.output<typeof postureConfigSchema>;
export type FimConfig = z.output<typeof fimConfigSchema>;
export type InventoryPartsConfig = z.output<typeof inventoryPartsSchema>;
export type ExposureConfig = z.output<typeof exposureConfigSchema>;
export type NetworkScanConfig = z.output<typeof networkScanConfigSchema>;

/** The defaults, parsed (tests, `posture scan` without a config file). */
export function defaultPostureConfig(): PostureConfig {
  return postureConfigSchema.parse({});
}
