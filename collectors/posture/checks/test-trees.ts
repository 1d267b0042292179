/**
 * Prepared host trees for the baseline tests: a hardened Debian-like host on which every
 * built-in check passes, and a misconfigured one made of realistic mistakes (cloud-init's
 * NOPASSWD rule, Debian's X11Forwarding yes, a uid-0 "toor", ...). Trees are plain maps of
 * path → entry so a test case can patch one file on top of the hardened tree.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export type Entry =
  | string
  | { readonly content: string; readonly mode?: number; readonly uid?: number; readonly gid?: number }
  | { readonly dir: true; readonly mode?: number; readonly uid?: number; readonly gid?: number }
  | { readonly symlink: string }
  /** Remove what the base tree had at this path. */
  | { readonly remove: true };

export type Tree = Record<string, Entry>;

/** Ownership needs root; elsewhere the owner checks are left out of the table (see checks.test.ts). */
export const CAN_CHOWN = typeof process.getuid === 'function' && process.getuid() === 0;

export async function writeTree(root: string, tree: Tree): Promise<void> {
  const paths = Object.keys(tree).sort();
  for (const p of paths) {
    const e = tree[p] as Entry;
    const real = path.join(root, p);
    if (typeof e !== 'string' && 'remove' in e) continue;
    await fsp.mkdir(path.dirname(real), { recursive: true });
    if (typeof e !== 'string' && 'symlink' in e) {
      await fsp.symlink(e.symlink, real);
      continue;
    }
    if (typeof e !== 'string' && 'dir' in e) await fsp.mkdir(real, { recursive: true });
    else await fsp.writeFile(real, typeof e === 'string' ? e : e.content);
    const mode = typeof e === 'string' ? undefined : e.mode;
    // chmod after writing: the process umask would otherwise strip bits such as o+w.
    await fsp.chmod(real, mode ?? ('dir' in (typeof e === 'string' ? {} : e) ? 0o755 : 0o644));
    if (CAN_CHOWN) await fsp.lchown(real, typeof e === 'string' ? 0 : (e.uid ?? 0), typeof e === 'string' ? 0 : (e.gid ?? 0));
  }
}

/** base + patch; a `{ remove: true }` entry deletes the base's entry. */
export function patch(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (typeof v !== 'string' && 'remove' in v) delete out[k];
    else out[k] = v;
  }
  return out;
}

const file = (content: string, mode: number, gid = 0, uid = 0): Entry => ({ content, mode, uid, gid });
const dir = (mode: number, uid = 0, gid = 0): Entry => ({ dir: true, mode, uid, gid });

function dpkgStatus(pkgs: readonly string[]): string {
  return pkgs.map((p) => `Package: ${p}\nStatus: install ok installed\nPriority: optional\nVersion: 1.0-1\nDescription: ${p}\n two-line description\n`).join('\n');
}

/** Enabled: unit file under /lib/systemd/system plus a wants link, as `systemctl enable` leaves it. */
function enabled(unit: string, target = 'multi-user.target'): Tree {
  return {
    [`/lib/systemd/system/${unit}`]: `[Unit]\nDescription=${unit}\n[Install]\nWantedBy=${target}\n`,
    [`/etc/systemd/system/${target}.wants/${unit}`]: { symlink: `/lib/systemd/system/${unit}` },
  };
}

function sysctlTree(values: Readonly<Record<string, string>>): Tree {
  const t: Tree = {};
  for (const [k, v] of Object.entries(values)) t[`/proc/sys/${k.replace(/\./g, '/')}`] = `${v}\n`;
  return t;
}

export const GOOD_SYSCTL: Readonly<Record<string, string>> = {
  'kernel.randomize_va_space': '2',
  'kernel.dmesg_restrict': '1',
  'kernel.kptr_restrict': '1',
  'kernel.yama.ptrace_scope': '1',
  'fs.suid_dumpable': '0',
  'fs.protected_hardlinks': '1',
  'fs.protected_symlinks': '1',
  'kernel.unprivileged_bpf_disabled': '2',
  'kernel.perf_event_paranoid': '3',
  'net.core.bpf_jit_harden': '2',
  'net.ipv4.ip_forward': '0',
  'net.ipv6.conf.all.forwarding': '0',
  'net.ipv4.conf.all.send_redirects': '0',
  'net.ipv4.conf.default.send_redirects': '0',
  'net.ipv4.conf.all.accept_redirects': '0',
  'net.ipv4.conf.default.accept_redirects': '0',
  'net.ipv4.conf.all.secure_redirects': '0',
  'net.ipv4.conf.default.secure_redirects': '0',
  'net.ipv6.conf.all.accept_redirects': '0',
  'net.ipv6.conf.default.accept_redirects': '0',
  'net.ipv4.conf.all.accept_source_route': '0',
  'net.ipv4.conf.default.accept_source_route': '0',
  'net.ipv6.conf.all.accept_source_route': '0',
  'net.ipv6.conf.default.accept_source_route': '0',
  'net.ipv4.conf.all.log_martians': '1',
  'net.ipv4.conf.default.log_martians': '1',
  'net.ipv4.icmp_echo_ignore_broadcasts': '1',
  'net.ipv4.icmp_ignore_bogus_error_responses': '1',
  'net.ipv4.conf.all.rp_filter': '1',
  'net.ipv4.conf.default.rp_filter': '1',
  'net.ipv4.tcp_syncookies': '1',
  'net.ipv6.conf.all.accept_ra': '0',
  'net.ipv6.conf.default.accept_ra': '0',
};

const MODULES = ['cramfs', 'freevxfs', 'hfs', 'hfsplus', 'jffs2', 'udf', 'usb-storage', 'dccp', 'sctp', 'rds', 'tipc'];

const GOOD_AUDIT_RULES = `## auditkit rules plus the CIS session, network and MAC watches
-b 8192
-f 1
-w /etc/audit/ -p wa -k audit-config
-w /etc/passwd -p wa -k identity
-w /etc/shadow -p wa -k identity
-w /etc/group -p wa -k identity
-w /etc/gshadow -p wa -k identity
-w /etc/security/opasswd -p wa -k identity
-w /etc/sudoers -p wa -k privilege
-w /etc/sudoers.d/ -p wa -k privilege
-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time
-w /etc/localtime -p wa -k time
-w /var/log/lastlog -p wa -k logins
-w /var/run/faillock -p wa -k logins
-w /var/run/utmp -p wa -k session
-w /var/log/wtmp -p wa -k session
-w /var/log/btmp -p wa -k session
-a always,exit -F arch=b64 -S sethostname,setdomainname -k system-locale
-w /etc/hosts -p wa -k system-locale
-w /etc/apparmor/ -p wa -k MAC-policy
-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules
-a always,exit -F arch=b64 -S execve,execveat -F auid>=1000 -F auid!=4294967295 -k exec
`;

const GOOD_SSHD = `# hardened sshd_config
Include /etc/ssh/sshd_config.d/*.conf
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
MaxAuthTries 4
X11Forwarding no
ClientAliveInterval 300
ClientAliveCountMax 3
LoginGraceTime 60
HostbasedAuthentication no
IgnoreRhosts yes
PermitUserEnvironment no
LogLevel VERBOSE
UsePAM yes
Banner /etc/issue.net
MaxStartups 10:30:60
MaxSessions 10
AllowTcpForwarding no
AllowGroups sshusers
GSSAPIAuthentication no

# Settings for one user only: not the global value.
Match User backup
    PermitRootLogin yes
    X11Forwarding yes
`;

const GOOD_SSHD_DROPIN = `Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512
`;

export function hardenedTree(): Tree {
  const sysctlConf = Object.entries(GOOD_SYSCTL)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  return {
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsync:x:4:65534:sync:/bin:/bin/sync\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n',
    '/etc/passwd-': 'root:x:0:0:root:/root:/bin/bash\n',
    '/etc/group': 'root:x:0:\ndaemon:x:1:\nadm:x:4:\nsudo:x:27:alice\nshadow:x:42:\ncrontab:x:105:\nsshusers:x:1001:alice\nalice:x:1000:\nnogroup:x:65534:\n',
    '/etc/shadow': file('root:$y$j9T$salt$hash:19700:1:365:7:45::\ndaemon:*:19700:0:99999:7:::\nsync:*:19700:0:99999:7:::\nsshd:!:19700::::::\nalice:$y$j9T$salt$hash:19700:1:365:7:45::\n', 0o640, 42),
    '/etc/gshadow': file('root:*::\nshadow:*::\nsudo:*::alice\n', 0o640, 42),
    '/etc/login.defs': 'MAIL_DIR /var/mail\nPASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\nPASS_WARN_AGE 7\nUID_MIN 1000\nUMASK 027\nENCRYPT_METHOD YESCRYPT\nENV_SUPATH PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n',
    '/etc/default/useradd': 'SHELL=/bin/bash\nINACTIVE=30\n',
    '/etc/security/pwquality.conf': '# pwquality\nminlen = 14\nminclass = 4\n',
    '/etc/security/faillock.conf': 'deny = 5\nunlock_time = 900\n',
    '/etc/security/opasswd': file('', 0o600),
    '/etc/security/limits.d/50-core.conf': '* hard core 0\n',
    '/etc/pam.d/common-password':
      'password requisite pam_pwquality.so retry=3\npassword required pam_pwhistory.so remember=5 use_authtok\npassword [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt\npassword requisite pam_deny.so\n',
    '/etc/pam.d/common-auth': 'auth required pam_faillock.so preauth\nauth [success=1 default=ignore] pam_unix.so\nauth [default=die] pam_faillock.so authfail\nauth requisite pam_deny.so\n',
    '/etc/pam.d/su': 'auth sufficient pam_rootok.so\nauth required pam_wheel.so use_uid group=sugroup\n',
    '/etc/profile': 'PATH="/usr/local/bin:/usr/bin:/bin"\numask 027\nexport PATH\n',
    '/etc/profile.d/tmout.sh': 'TMOUT=900\nreadonly TMOUT\nexport TMOUT\n',
    '/root': dir(0o700),
    '/root/.profile': 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PATH\n',
    '/home/alice': dir(0o750, 1000, 1000),
    '/etc/ssh/sshd_config': file(GOOD_SSHD, 0o600),
    '/etc/ssh/sshd_config.d/10-crypto.conf': file(GOOD_SSHD_DROPIN, 0o600),
    '/etc/ssh/ssh_host_ed25519_key': file('PRIVATE', 0o600),
    '/etc/ssh/ssh_host_ed25519_key.pub': file('ssh-ed25519 AAAA root@host\n', 0o644),
    '/etc/sudoers': file('Defaults env_reset\nDefaults use_pty\nDefaults logfile="/var/log/sudo.log"\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n', 0o440),
    '/etc/sudoers.d/deploy': file('deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart myapp\n', 0o440),
    '/etc/crontab': file('SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n', 0o600),
    '/etc/cron.hourly': dir(0o700),
    '/etc/cron.daily': dir(0o700),
    '/etc/cron.weekly': dir(0o700),
    '/etc/cron.monthly': dir(0o700),
    '/etc/cron.d': dir(0o700),
    '/etc/cron.allow': file('root\n', 0o640),
    '/boot/grub/grub.cfg': file('set superusers="admin"\npassword_pbkdf2 admin grub.pbkdf2.sha512.10000.AAAA.BBBB\nmenuentry "Debian" {\n  linux /vmlinuz root=/dev/sda1 ro audit=1\n}\n', 0o600),
    '/etc/default/grub': 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="audit=1 audit_backlog_limit=8192 apparmor=1 security=apparmor"\n',
    '/var/log/auth.log': file('', 0o640, 4),
    '/tmp': dir(0o1777),
    '/var/tmp': dir(0o1777),
    '/opt/app/bin/tool': file('#!/bin/sh\n', 0o755),
    ...sysctlTree(GOOD_SYSCTL),
    '/etc/sysctl.d/60-hardening.conf': `# auditkit hardened fixture\n${sysctlConf}\n`,
    '/etc/sysctl.conf': '# see /etc/sysctl.d\n',
    '/etc/modprobe.d/hardening.conf': MODULES.map((m) => `install ${m} /bin/false\nblacklist ${m}`).join('\n') + '\n',
    '/var/lib/dpkg/status': dpkgStatus(['openssh-server', 'sudo', 'auditd', 'cron', 'apparmor', 'unattended-upgrades', 'libpam-pwquality', 'chrony', 'nftables', 'systemd']),
    ...enabled('auditd.service'),
    ...enabled('chrony.service'),
    ...enabled('cron.service'),
    ...enabled('nftables.service', 'sysinit.target'),
    '/etc/systemd/system/ctrl-alt-del.target': { symlink: '/dev/null' },
    '/lib/systemd/system/avahi-daemon.service': '[Unit]\nDescription=Avahi\n',
    '/etc/systemd/system/avahi-daemon.service': { symlink: '/dev/null' },
    '/etc/systemd/journald.conf': '[Journal]\nStorage=persistent\n#Compress=yes\n',
    '/etc/systemd/coredump.conf': '[Coredump]\nStorage=none\nProcessSizeMax=0\n',
    '/etc/audit/auditd.conf': file('log_file = /var/log/audit/audit.log\nmax_log_file_action = keep_logs\nspace_left_action = email\n', 0o640),
    '/etc/audit/rules.d/auditkit.rules': file(GOOD_AUDIT_RULES, 0o640),
    '/etc/audit/rules.d/99-auditkit-immutable.rules': file('-e 2\n', 0o640),
    '/var/log/audit': dir(0o750),
    '/etc/fstab':
      '# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=1234 / ext4 errors=remount-ro 0 1\ntmpfs /tmp tmpfs defaults,rw,nosuid,nodev,noexec,relatime,size=2G 0 0\ntmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0\nUUID=5678 /var/tmp ext4 defaults,nodev,nosuid,noexec 0 2\nUUID=9abc /home ext4 defaults,nodev,nosuid 0 2\n',
    '/etc/selinux/config': 'SELINUX=enforcing\nSELINUXTYPE=targeted\n',
    '/etc/issue': 'Authorised use only. Activity is monitored and recorded.\n',
    '/etc/issue.net': 'Authorised use only. Activity is monitored and recorded.\n',
    '/etc/motd': 'Welcome. Report problems to ops@example.org.\n',
    '/etc/apt/apt.conf.d/20auto-upgrades': 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
  };
}

const BAD_SYSCTL: Readonly<Record<string, string>> = {
  ...GOOD_SYSCTL,
  'kernel.randomize_va_space': '0',
  'kernel.dmesg_restrict': '0',
  'kernel.kptr_restrict': '0',
  'kernel.yama.ptrace_scope': '0',
  'fs.suid_dumpable': '2',
  'fs.protected_symlinks': '0',
  'kernel.unprivileged_bpf_disabled': '0',
  'kernel.perf_event_paranoid': '1',
  'net.core.bpf_jit_harden': '0',
  'net.ipv4.ip_forward': '1',
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv4.conf.all.send_redirects': '1',
  'net.ipv4.conf.all.accept_redirects': '1',
  'net.ipv4.conf.all.secure_redirects': '1',
  'net.ipv6.conf.all.accept_redirects': '1',
  'net.ipv4.conf.all.accept_source_route': '1',
  'net.ipv6.conf.all.accept_source_route': '1',
  'net.ipv4.conf.all.log_martians': '0',
  'net.ipv4.icmp_echo_ignore_broadcasts': '0',
  'net.ipv4.icmp_ignore_bogus_error_responses': '0',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.tcp_syncookies': '0',
  'net.ipv6.conf.all.accept_ra': '1',
};

const BAD_SSHD = `Include /etc/ssh/sshd_config.d/*.conf
PermitRootLogin yes
PermitEmptyPasswords yes
MaxAuthTries 6
X11Forwarding yes
ClientAliveInterval 0
ClientAliveCountMax 0
LoginGraceTime 120
Ciphers aes128-ctr,aes128-cbc,3des-cbc
MACs hmac-sha2-256,hmac-md5
KexAlgorithms curve25519-sha256,diffie-hellman-group1-sha1
HostbasedAuthentication yes
IgnoreRhosts no
PermitUserEnvironment yes
LogLevel QUIET
UsePAM no
MaxStartups 10:30:100
MaxSessions 20
AllowTcpForwarding yes
GSSAPIAuthentication yes
# the hardened values below come too late: sshd keeps the first
PasswordAuthentication no
`;

/** The hardened tree with realistic mistakes on top. */
export function misconfiguredTree(): Tree {
  const bad: Tree = {
    '/etc/passwd':
      'root:x:0:1000:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/bin/bash\ntoor:x:0:0::/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nalice:x:1002:1000:Alice again:/home/alice:/bin/bash\nbob:$6$salt$hash:1001:2000::/home/bob:/bin/bash\n+::::::\n',
    '/etc/passwd-': file('root:x:0:0:root:/root:/bin/bash\n', 0o666),
    '/etc/group': file('root:x:0:\nshadow:x:42:alice\nalice:x:1000:\nalice:x:1003:\nstaff:x:1000:\n+:::\n', 0o664),
    '/etc/shadow': file('root:$y$j9T$salt$hash:19700:0:99999:7:::\nbob::19700:0:99999:7:::\n', 0o644, 42),
    '/etc/gshadow': file('root:*::\n', 0o644, 42),
    '/etc/login.defs': 'PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 3\nUMASK 022\nENCRYPT_METHOD MD5\nENV_SUPATH PATH=.:/usr/sbin:/usr/bin\n',
    '/etc/default/useradd': 'INACTIVE=-1\n',
    '/etc/security/pwquality.conf': 'minlen = 8\nminclass = 1\n',
    '/etc/security/faillock.conf': 'deny = 10\nunlock_time = 60\n',
    '/etc/security/opasswd': file('', 0o644),
    '/etc/security/limits.d/50-core.conf': { remove: true },
    '/etc/security/limits.conf': '# * soft core 0\n',
    '/etc/pam.d/common-password': 'password [success=1 default=ignore] pam_unix.so obscure nullok md5\npassword requisite pam_deny.so\n',
    '/etc/pam.d/common-auth': 'auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n',
    '/etc/pam.d/su': 'auth sufficient pam_rootok.so\n# auth required pam_wheel.so\n',
    '/etc/profile': 'PATH="/usr/local/bin:/usr/bin:/bin"\numask 022\nexport PATH\n',
    '/etc/profile.d/tmout.sh': { remove: true },
    '/root': dir(0o755),
    '/root/.profile': 'PATH=.:$PATH\nexport PATH\n',
    '/etc/ssh/sshd_config': file(BAD_SSHD, 0o644),
    '/etc/ssh/sshd_config.d/10-crypto.conf': { remove: true },
    '/etc/ssh/sshd_config.d/50-cloud-init.conf': file('PasswordAuthentication yes\n', 0o644),
    '/etc/ssh/ssh_host_ed25519_key': file('PRIVATE', 0o644),
    '/etc/ssh/ssh_host_ed25519_key.pub': file('ssh-ed25519 AAAA root@host\n', 0o666),
    '/etc/sudoers': file('Defaults env_reset\nDefaults !authenticate\nDefaults timestamp_timeout=-1\nroot ALL=(ALL:ALL) ALL\nALL ALL=(ALL) \\\n  ALL\n@includedir /etc/sudoers.d\n', 0o644),
    '/etc/sudoers.d/deploy': { remove: true },
    '/etc/sudoers.d/90-cloud-init-users': file('# Created by cloud-init\nadmin ALL=(ALL) NOPASSWD:ALL\n', 0o440),
    '/etc/crontab': file('SHELL=/bin/sh\n', 0o644),
    '/etc/cron.d': dir(0o755),
    '/etc/cron.allow': { remove: true },
    '/boot/grub/grub.cfg': file('menuentry "Debian" {\n  linux /vmlinuz root=/dev/sda1 ro\n}\n', 0o644),
    '/etc/default/grub': 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet apparmor=0"\nGRUB_CMDLINE_LINUX=""\n',
    '/var/log/auth.log': file('', 0o644, 4),
    '/tmp': dir(0o777),
    '/opt/shared': dir(0o777),
    '/opt/app/bin/tool': file('#!/bin/sh\n', 0o757),
    '/opt/app/blob': file('x', 0o644, 4242, 4242),
    ...sysctlTree(BAD_SYSCTL),
    '/etc/sysctl.d/60-hardening.conf': '# only some keys persisted\nkernel.randomize_va_space = 2\nnet.ipv4.ip_forward = 1\n',
    '/etc/sysctl.d/99-sysctl.conf': { symlink: '../sysctl.conf' },
    '/etc/sysctl.conf': 'net.ipv4.tcp_syncookies=0\n',
    '/etc/modprobe.d/hardening.conf': 'blacklist usb-storage\n',
    '/var/lib/dpkg/status': dpkgStatus(['openssh-server', 'sudo', 'auditd', 'cron', 'systemd', 'telnetd', 'rsh-server', 'tftpd-hpa', 'xinetd', 'nis', 'talkd', 'telnet', 'rsh-client', 'prelink']),
    '/etc/systemd/system/multi-user.target.wants/auditd.service': { remove: true },
    '/etc/systemd/system/multi-user.target.wants/chrony.service': { remove: true },
    '/etc/systemd/system/multi-user.target.wants/cron.service': { remove: true },
    '/etc/systemd/system/sysinit.target.wants/nftables.service': { remove: true },
    '/etc/systemd/system/ctrl-alt-del.target': { remove: true },
    '/etc/systemd/system/avahi-daemon.service': { remove: true },
    ...enabled('avahi-daemon.service'),
    ...enabled('cups.socket', 'sockets.target'),
    ...enabled('rsync.service'),
    ...enabled('snmpd.service'),
    ...enabled('nfs-server.service'),
    ...enabled('rpcbind.socket', 'sockets.target'),
    ...enabled('vsftpd.service'),
    ...enabled('isc-dhcp-server.service'),
    ...enabled('named.service'),
    ...enabled('smbd.service'),
    ...enabled('slapd.service'),
    ...enabled('autofs.service'),
    ...enabled('debug-shell.service', 'sysinit.target'),
    '/etc/systemd/journald.conf': '[Journal]\nStorage=volatile\nCompress=no\n',
    '/etc/systemd/coredump.conf': '[Coredump]\n#Storage=external\n',
    '/etc/audit/auditd.conf': file('max_log_file_action = ignore\nspace_left_action = syslog\n', 0o644),
    '/etc/audit/rules.d/auditkit.rules': file('-w /tmp -p wa -k tmp\n', 0o640),
    '/etc/audit/rules.d/99-auditkit-immutable.rules': { remove: true },
    '/var/log/audit': dir(0o755),
    '/etc/fstab': 'UUID=1234 / ext4 errors=remount-ro 0 1\nUUID=2222 /tmp ext4 defaults 0 2\nUUID=5678 /var/tmp ext4 defaults 0 2\nUUID=9abc /home ext4 defaults 0 2\n',
    '/etc/selinux/config': 'SELINUX=permissive\n',
    '/etc/issue': 'Debian GNU/Linux 12 \\n \\l\n',
    '/etc/issue.net': 'Debian GNU/Linux 12\n',
    '/etc/motd': file('The programs included with the Debian GNU/Linux system are free software.\n', 0o666),
    '/etc/apt/apt.conf.d/20auto-upgrades': 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "0";\n',
  };
  return patch(hardenedTree(), bad);
}
