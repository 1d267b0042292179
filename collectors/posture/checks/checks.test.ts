/**
 * Every built-in check, table-driven: it passes on the hardened tree and fails on the
 * misconfigured one with evidence naming the file (and line, where there is one). A check
 * that the misconfigured tree does not break (or makes not applicable) carries an overlay:
 * a patch on the hardened tree that makes it fail. Adding a check means adding a row here;
 * the first test fails until you do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinPoliciesDir, loadPolicies, runPolicies, type BaselineReport, type CheckResult, type CommandRunner, type Policy, type TestSpec } from '.';
import { CAN_CHOWN, hardenedTree, misconfiguredTree, patch, writeTree, type Tree } from './test-trees';

interface Case {
  /** Evidence expected when the check fails (on the misconfigured tree, or the overlay). */
  readonly fail: RegExp;
  /** What the misconfigured tree yields when it is not `fail`; then `overlay` shows the failure. */
  readonly misconfigured?: 'pass' | 'not_applicable';
  readonly overlay?: Tree;
}

const CASES: Readonly<Record<string, Case>> = {
  'login-defs-pass-max-days': { fail: /\/etc\/login\.defs:\d+: PASS_MAX_DAYS 99999/ },
  'login-defs-pass-min-days': { fail: /\/etc\/login\.defs:\d+: PASS_MIN_DAYS 0/ },
  'login-defs-pass-warn-age': { fail: /\/etc\/login\.defs:\d+: PASS_WARN_AGE 3/ },
  'login-defs-encrypt-method': { fail: /\/etc\/login\.defs:\d+: ENCRYPT_METHOD MD5/ },
  'login-defs-umask': { fail: /\/etc\/login\.defs:\d+: UMASK 022/ },
  'useradd-inactive': { fail: /\/etc\/default\/useradd:\d+: INACTIVE -1/ },
  'pwquality-minlen': { fail: /\/etc\/security\/pwquality\.conf:\d+: minlen 8/ },
  'pwquality-complexity': { fail: /\/etc\/security\/pwquality\.conf:\d+: minclass 1/ },
  'pam-pwquality-enabled': { fail: /\/etc\/pam\.d\/common-password/ },
  'pam-faillock-enabled': { fail: /\/etc\/pam\.d\/common-auth/ },
  'faillock-deny': { fail: /\/etc\/security\/faillock\.conf:\d+: deny 10/ },
  'faillock-unlock-time': { fail: /\/etc\/security\/faillock\.conf:\d+: unlock_time 60/ },
  'pam-password-history': { fail: /\/etc\/pam\.d\/common-password/ },
  'pam-unix-strong-hash': { fail: /\/etc\/pam\.d\/common-password/ },
  'pam-unix-no-nullok': { fail: /\/etc\/pam\.d\/common-auth:\d+: auth \[success=1 default=igno/ },
  'shadow-no-empty-passwords': { fail: /\/etc\/shadow:\d+: bob::19700:0:99999:7:::/ },
  'passwd-shadowed': { fail: /\/etc\/passwd:\d+: bob has a password field oth/ },
  'uid-0-only-root': { fail: /\/etc\/passwd:\d+: toor:x:0:0::\/root:\/bin\/bash/ },
  'root-primary-group': { fail: /no line matches .* in \/etc\/passwd/ },
  'no-legacy-nis-entries': { fail: /\/etc\/passwd:\d+: \+::::::/ },
  'unique-uids': { fail: /uid 0: root \(\/etc\/passwd:1\), toor \(\/etc\// },
  'unique-gids': { fail: /gid 1000: alice \(\/etc\/group:3\), staff \(\// },
  'unique-user-names': { fail: /user name alice: \/etc\/passwd:4, \/etc\/pas/ },
  'unique-group-names': { fail: /group name alice: \/etc\/group:3, \/etc\/gro/ },
  'passwd-groups-exist': { fail: /\/etc\/passwd:\d+: daemon has gid 1, which \/etc/ },
  'shadow-group-empty': { fail: /\/etc\/group:\d+: shadow:x:42:alice/ },
  'system-accounts-no-login': { fail: /\/etc\/passwd:\d+: daemon \(uid 1\) has shell \/bi/ },
  'root-path-login-defs': { fail: /\/etc\/login\.defs:\d+: ENV_SUPATH PATH=\.:\/usr\/sbin:/ },
  'root-path-profile': { fail: /\/root\/\.profile:\d+: PATH=\.:\$PATH/ },
  'shell-timeout': { fail: /\/etc\/profile/ },
  'shell-umask': { fail: /\/etc\/profile:\d+: umask 022/ },
  'auditd-installed': { misconfigured: 'pass', overlay: { '/var/lib/dpkg/status': 'Package: sudo\nStatus: install ok installed\nVersion: 1\n\nPackage: auditd\nStatus: deinstall ok config-files\nVersion: 1\n' }, fail: /none of auditd, audit is installed \(\/var\/lib\/dpkg\/status\)/ },
  'auditd-enabled': { fail: /auditd\.service: disabled \(\/lib\/systemd\/s/ },
  'audit-boot-parameter': { fail: /\/etc\/default\/grub/ },
  'audit-backlog-limit': { fail: /\/etc\/default\/grub/ },
  'auditd-max-log-file-action': { fail: /\/etc\/audit\/auditd\.conf:\d+: max_log_file_action ignore/ },
  'auditd-space-left-action': { fail: /\/etc\/audit\/auditd\.conf:\d+: space_left_action syslog/ },
  'audit-config-permissions': { fail: /\/etc\/audit\/auditd\.conf: mode 0644 exceeds 0640/ },
  'audit-log-directory-permissions': { fail: /\/var\/log\/audit: mode 0755 exceeds 0750/ },
  'audit-rules-exec': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-identity': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-sudoers': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-time-change': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-logins': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-network-environment': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-mac-policy': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-kernel-modules': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-self': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-immutable': { fail: /\/etc\/audit\/rules\.d\/auditkit\.rules/ },
  'audit-rules-loaded': { fail: /`auditctl -l` output is not matching .*: No rules/ },
  'banner-issue-no-os-info': { fail: /\/etc\/issue:\d+: Debian GNU\/Linux 12 \\n \\l/ },
  'banner-issue-net-no-os-info': { fail: /\/etc\/issue\.net:\d+: Debian GNU\/Linux 12/ },
  'banner-motd-no-os-info': { fail: /\/etc\/motd:\d+: The programs included with t/ },
  'banner-files-permissions': { fail: /\/etc\/motd: mode 0666 exceeds 0644/ },
  'automatic-security-updates': { fail: /none of unattended-upgrades is installed/ },
  'tmp-separate-mount': { misconfigured: 'pass', overlay: { '/etc/fstab': 'UUID=1234 / ext4 errors=remount-ro 0 1\n' }, fail: /\/tmp is not a separate mount/ },
  'tmp-mount-options': { fail: /\/etc\/fstab:\d+: UUID=2222 \/tmp ext4 defaults/ },
  'dev-shm-mount-options': { fail: /\/dev\/shm is not a separate mount/ },
  'var-tmp-mount-options': { fail: /\/etc\/fstab:\d+: UUID=5678 \/var\/tmp ext4 defa/ },
  'home-mount-nodev': { fail: /\/etc\/fstab:\d+: UUID=9abc \/home ext4 default/ },
  'core-dumps-limited': { fail: /\/etc\/security\/limits\.conf/ },
  'systemd-coredump-disabled': { fail: /\/etc\/systemd\/coredump\.conf/ },
  'bootloader-password': { fail: /\/boot\/grub\/grub\.cfg/ },
  'mac-framework-installed': { fail: /none of apparmor is installed \(\/var\/lib\// },
  'mac-not-disabled-at-boot': { fail: /\/etc\/default\/grub:\d+: GRUB_CMDLINE_LINUX_DEFAULT="quiet apparmor=0"/ },
  'selinux-enforcing': { fail: /\/etc\/selinux\/config:\d+: SELINUX permissive/ },
  'sysctl-aslr': { fail: /\/proc\/sys\/kernel\/randomize_va_space: 0/ },
  'sysctl-dmesg-restrict': { fail: /\/proc\/sys\/kernel\/dmesg_restrict: 0/ },
  'sysctl-kptr-restrict': { fail: /\/proc\/sys\/kernel\/kptr_restrict: 0/ },
  'sysctl-ptrace-scope': { fail: /\/proc\/sys\/kernel\/yama\/ptrace_scope: 0/ },
  'sysctl-suid-dumpable': { fail: /\/proc\/sys\/fs\/suid_dumpable: 2/ },
  'sysctl-protected-links': { fail: /\/proc\/sys\/fs\/protected_hardlinks: 1/ },
  'sysctl-unprivileged-bpf': { fail: /\/proc\/sys\/kernel\/unprivileged_bpf_disabled: 0/ },
  'sysctl-perf-event-paranoid': { fail: /\/proc\/sys\/kernel\/perf_event_paranoid: 1/ },
  'sysctl-bpf-jit-harden': { fail: /\/proc\/sys\/net\/core\/bpf_jit_harden: 0/ },
  'module-cramfs-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-freevxfs-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-hfs-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-hfsplus-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-jffs2-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-udf-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-usb-storage-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-dccp-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-sctp-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-rds-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'module-tipc-disabled': { fail: /\/etc\/modprobe\.d\/hardening\.conf/ },
  'sysctl-ipv4-forwarding': { fail: /\/proc\/sys\/net\/ipv4\/ip_forward: 1/ },
  'sysctl-ipv6-forwarding': { fail: /\/proc\/sys\/net\/ipv6\/conf\/all\/forwarding: 1/ },
  'sysctl-send-redirects': { fail: /\/proc\/sys\/net\/ipv4\/conf\/all\/send_redirects: 1/ },
  'sysctl-ipv4-accept-redirects': { fail: /\/proc\/sys\/net\/ipv4\/conf\/all\/accept_redirects: 1/ },
  'sysctl-ipv4-secure-redirects': { fail: /\/proc\/sys\/net\/ipv4\/conf\/all\/secure_redirects: 1/ },
  'sysctl-ipv6-accept-redirects': { fail: /\/proc\/sys\/net\/ipv6\/conf\/all\/accept_redirects: 1/ },
  'sysctl-ipv4-source-route': { fail: /\/proc\/sys\/net\/ipv4\/conf\/all\/accept_source_route: 1/ },
  'sysctl-ipv6-source-route': { fail: /\/proc\/sys\/net\/ipv6\/conf\/all\/accept_source_route: 1/ },
  'sysctl-log-martians': { fail: /\/proc\/sys\/net\/ipv4\/conf\/all\/log_martians: 0/ },
  'sysctl-icmp-broadcasts': { fail: /\/proc\/sys\/net\/ipv4\/icmp_echo_ignore_broadcasts: 0/ },
  'sysctl-icmp-bogus-errors': { fail: /\/proc\/sys\/net\/ipv4\/icmp_ignore_bogus_error_responses: 0/ },
  'sysctl-rp-filter': { fail: /\/proc\/sys\/net\/ipv4\/conf\/all\/rp_filter: 0/ },
  'sysctl-tcp-syncookies': { fail: /\/proc\/sys\/net\/ipv4\/tcp_syncookies: 0/ },
  'sysctl-ipv6-accept-ra': { fail: /\/proc\/sys\/net\/ipv6\/conf\/all\/accept_ra: 1/ },
  'firewall-enabled': { fail: /nftables\.service: disabled \(\/lib\/systemd/ },
  'etc-passwd-permissions': { fail: /\/etc\/passwd-: mode 0666 exceeds 0644/ },
  'etc-group-permissions': { fail: /\/etc\/group: mode 0664 exceeds 0644/ },
  'etc-shadow-permissions': { fail: /\/etc\/shadow: mode 0644 exceeds 0640/ },
  'etc-gshadow-permissions': { fail: /\/etc\/gshadow: mode 0644 exceeds 0640/ },
  'opasswd-permissions': { fail: /\/etc\/security\/opasswd: mode 0644 exceeds 0600/ },
  'crontab-permissions': { fail: /\/etc\/crontab: mode 0644 exceeds 0600/ },
  'cron-directories-permissions': { fail: /\/etc\/cron\.d: mode 0755 exceeds 0700/ },
  'cron-allow-restricted': { fail: /none of \/etc\/cron\.allow exists/ },
  'grub-config-permissions': { fail: /\/boot\/grub\/grub\.cfg: mode 0644 exceeds 0600/ },
  'auth-log-permissions': { fail: /\/var\/log\/auth\.log: mode 0644 exceeds 0640/ },
  'root-home-permissions': { fail: /\/root: mode 0755 exceeds 0750/ },
  'tmp-sticky-bit': { fail: /\/tmp: mode 0777 lacks 1000/ },
  'world-writable-dirs-sticky': { fail: /\/opt\/shared: mode 0777/ },
  'world-writable-files': { fail: /\/etc\/motd: mode 0666/ },
  'unowned-files': { fail: /\/opt\/app\/blob: uid 4242 \(no such user\) gid / },
  'telnet-server-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: telnetd 1\.0-1 \(install ok in/ },
  'rsh-server-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: rsh-server 1\.0-1 \(install ok/ },
  'tftp-server-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: tftpd-hpa 1\.0-1 \(install ok / },
  'inetd-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: xinetd 1\.0-1 \(install ok ins/ },
  'nis-server-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: nis 1\.0-1 \(install ok instal/ },
  'talk-server-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: talkd 1\.0-1 \(install ok inst/ },
  'telnet-client-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: telnet 1\.0-1 \(install ok ins/ },
  'rsh-client-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: rsh-client 1\.0-1 \(install ok/ },
  'prelink-absent': { fail: /\/var\/lib\/dpkg\/status:\d+: prelink 1\.0-1 \(install ok in/ },
  'avahi-disabled': { fail: /avahi-daemon\.service: enabled \(\/etc\/syst/ },
  'cups-disabled': { fail: /cups\.socket: enabled \(\/etc\/systemd\/system\/sockets\.target\.wants\/cups\.socket\)/ },
  'rsyncd-disabled': { fail: /rsync\.service: enabled \(\/etc\/systemd\/sys/ },
  'snmpd-disabled': { fail: /snmpd\.service: enabled \(\/etc\/systemd\/sys/ },
  'nfs-server-disabled': { fail: /nfs-server\.service: enabled \(\/etc\/system/ },
  'rpcbind-disabled': { fail: /rpcbind\.socket: enabled \(\/etc\/systemd\/system\/sockets\.target\.wants/ },
  'ftp-server-disabled': { fail: /vsftpd\.service: enabled \(\/etc\/systemd\/sy/ },
  'dhcp-server-disabled': { fail: /isc-dhcp-server\.service: enabled \(\/etc\/s/ },
  'dns-server-disabled': { fail: /named\.service: enabled \(\/etc\/systemd\/sys/ },
  'samba-disabled': { fail: /smbd\.service: enabled \(\/etc\/systemd\/syst/ },
  'ldap-server-disabled': { fail: /slapd\.service: enabled \(\/etc\/systemd\/sys/ },
  'autofs-disabled': { fail: /autofs\.service: enabled \(\/etc\/systemd\/sy/ },
  'debug-shell-disabled': { fail: /debug-shell\.service: enabled \(\/etc\/syste/ },
  'ctrl-alt-del-masked': { fail: /ctrl-alt-del\.target: absent \(no unit file\).*\n?expected masked/ },
  'time-sync-enabled': { fail: /chrony\.service: disabled \(\/lib\/systemd\/s/ },
  'cron-enabled': { fail: /cron\.service: disabled \(\/lib\/systemd\/sys/ },
  'journald-persistent': { fail: /\/etc\/systemd\/journald\.conf:\d+: Storage volatile/ },
  'journald-compress': { fail: /\/etc\/systemd\/journald\.conf:\d+: Compress no/ },
  'ssh-config-permissions': { fail: /\/etc\/ssh\/sshd_config: mode 0644 exceeds 0600/ },
  'ssh-host-private-keys-permissions': { fail: /\/etc\/ssh\/ssh_host_ed25519_key: mode 0644 exceeds 0640/ },
  'ssh-host-public-keys-permissions': { fail: /\/etc\/ssh\/ssh_host_ed25519_key\.pub: mode 0666 exceeds 0644/ },
  'ssh-permit-root-login': { fail: /\/etc\/ssh\/sshd_config:\d+: PermitRootLogin yes/ },
  'ssh-password-authentication': { fail: /\/etc\/ssh\/sshd_config\.d\/50-cloud-init\.conf:\d+: PasswordAuthentication yes \(/ },
  'ssh-permit-empty-passwords': { fail: /\/etc\/ssh\/sshd_config:\d+: PermitEmptyPasswords yes/ },
  'ssh-max-auth-tries': { fail: /\/etc\/ssh\/sshd_config:\d+: MaxAuthTries 6/ },
  'ssh-x11-forwarding': { fail: /\/etc\/ssh\/sshd_config:\d+: X11Forwarding yes/ },
  'ssh-client-alive-interval': { fail: /\/etc\/ssh\/sshd_config:\d+: ClientAliveInterval 0/ },
  'ssh-client-alive-count-max': { fail: /\/etc\/ssh\/sshd_config:\d+: ClientAliveCountMax 0/ },
  'ssh-login-grace-time': { fail: /\/etc\/ssh\/sshd_config:\d+: LoginGraceTime 120/ },
  'ssh-ciphers-strong': { fail: /\/etc\/ssh\/sshd_config:\d+: Ciphers aes128-ctr,aes128-cb/ },
  'ssh-macs-strong': { fail: /\/etc\/ssh\/sshd_config:\d+: MACs hmac-sha2-256,hmac-md5/ },
  'ssh-kex-strong': { fail: /\/etc\/ssh\/sshd_config:\d+: KexAlgorithms curve25519-sha/ },
  'ssh-hostbased-authentication': { fail: /\/etc\/ssh\/sshd_config:\d+: HostbasedAuthentication yes/ },
  'ssh-ignore-rhosts': { fail: /\/etc\/ssh\/sshd_config:\d+: IgnoreRhosts no/ },
  'ssh-permit-user-environment': { fail: /\/etc\/ssh\/sshd_config:\d+: PermitUserEnvironment yes/ },
  'ssh-log-level': { fail: /\/etc\/ssh\/sshd_config:\d+: LogLevel QUIET/ },
  'ssh-use-pam': { fail: /\/etc\/ssh\/sshd_config:\d+: UsePAM no/ },
  'ssh-banner': { fail: /Banner is not set in \/etc\/ssh\/sshd_config.*built-in default none/ },
  'ssh-max-startups': { fail: /\/etc\/ssh\/sshd_config:\d+: MaxStartups 10:30:100/ },
  'ssh-max-sessions': { fail: /\/etc\/ssh\/sshd_config:\d+: MaxSessions 20/ },
  'ssh-tcp-forwarding': { fail: /\/etc\/ssh\/sshd_config:\d+: AllowTcpForwarding yes/ },
  'ssh-access-limited': { fail: /\/etc\/ssh\/sshd_config/ },
  'ssh-gssapi-authentication': { fail: /\/etc\/ssh\/sshd_config:\d+: GSSAPIAuthentication yes/ },
  'sudo-use-pty': { fail: /\/etc\/sudoers/ },
  'sudo-logfile': { fail: /\/etc\/sudoers/ },
  'sudo-no-nopasswd-all': { fail: /\/etc\/sudoers\.d\/90-cloud-init-users:\d+: admin ALL=\(ALL\) NOPASSWD:ALL/ },
  'sudo-no-rule-for-all-users': { fail: /\/etc\/sudoers:\d+: ALL ALL=\(ALL\)\s+ALL/ },
  'sudo-authenticate-not-disabled': { fail: /\/etc\/sudoers:\d+: Defaults !authenticate/ },
  'sudo-timestamp-timeout': { fail: /\/etc\/sudoers:\d+: Defaults timestamp_timeout=-/ },
  'sudoers-permissions': { fail: /\/etc\/sudoers: mode 0644 exceeds 0440/ },
  'su-restricted-to-group': { fail: /\/etc\/pam\.d\/su/ },
};

/** auditctl stands in at the process boundary: the tests cannot load rules into a kernel. */
const auditctl = (loaded: boolean): CommandRunner => async (argv) => ({
  stdout: argv[0] === 'auditctl' && loaded ? '-w /etc/passwd -p wa -k identity\n-a always,exit -F arch=b64 -S execve -F key=exec\n' : 'No rules\n',
  code: 0,
  error: undefined,
});

function usesOwnership(t: TestSpec): boolean {
  switch (t.kind) {
    case 'all':
    case 'any':
      return t.tests.some(usesOwnership);
    case 'permissions':
      return t.spec.owner !== undefined || t.spec.group !== undefined;
    case 'file_scan':
      return t.spec.find === 'unowned';
    default:
      return false;
  }
}

let policies: Policy[];
const dirs: string[] = [];
async function scan(tree: Tree, commands: CommandRunner): Promise<BaselineReport> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ak-posture-'));
  dirs.push(root);
  await writeTree(root, tree);
  return runPolicies(policies, root, { commands });
}
const byId = (r: BaselineReport): Map<string, CheckResult> => new Map(r.results.map((x) => [x.id, x]));

let hardened: Map<string, CheckResult>;
let misconfigured: Map<string, CheckResult>;
let hardenedScore = 0;

beforeAll(async () => {
  policies = await loadPolicies([builtinPoliciesDir()]);
  const h = await scan(hardenedTree(), auditctl(true));
  hardened = byId(h);
  hardenedScore = h.score;
  misconfigured = byId(await scan(misconfiguredTree(), auditctl(false)));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const allChecks = (): Array<{ id: string; test: TestSpec }> => policies.flatMap((p) => p.checks.map((c) => ({ id: c.id, test: c.test })));
// Without root the fixture cannot give files to uid 0, so owner checks cannot pass there.
const judged = (id: string): boolean => CAN_CHOWN || !allChecks().some((c) => c.id === id && usesOwnership(c.test));

describe('built-in baseline checks', () => {
  it('have a table row with a failing case for every check, and no row without a check', () => {
    const ids = allChecks().map((c) => c.id);
    expect(ids.length).toBeGreaterThanOrEqual(80);
    expect(ids.filter((id) => !(id in CASES))).toEqual([]);
    expect(Object.keys(CASES).filter((id) => !ids.includes(id))).toEqual([]);
    expect(Object.entries(CASES).filter(([, c]) => c.misconfigured !== undefined && c.overlay === undefined).map(([id]) => id)).toEqual([]);
  });

  it('all pass on the hardened tree', () => {
    const notPassing = [...hardened.values()].filter((r) => judged(r.id) && r.status !== 'pass').map((r) => `${r.id}: ${r.status}: ${r.evidence}`);
    expect(notPassing).toEqual([]);
    if (CAN_CHOWN) expect(hardenedScore).toBe(100);
  });

  it.each(Object.entries(CASES))('%s fails on the misconfigured tree with evidence naming the file', async (id, c) => {
    if (!judged(id)) return;
    const r = misconfigured.get(id) as CheckResult;
    expect(r.status).toBe(c.misconfigured ?? 'fail');
    let failed = r;
    if (c.overlay) {
      failed = byId(await scan(patch(hardenedTree(), c.overlay), auditctl(true))).get(id) as CheckResult;
      expect(failed.status).toBe('fail');
    }
    expect(failed.evidence).toMatch(c.fail);
  });

  it('report every failing check with its remediation in English and Chinese', () => {
    for (const r of misconfigured.values()) {
      expect(r.remediation.en.length).toBeGreaterThan(10);
      expect(r.remediation['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      expect(r.policy).toMatch(/^linux-/);
    }
  });
});
