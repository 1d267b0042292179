/**
 * Record type and syscall -> ECS categorisation, following go-libaudit's
 * aucoalesce normalizations (the table Auditbeat and the Elastic auditd
 * integration use; see ../shared/research/auditd-normalizers.md §2).
 */

/** How the actor/target identities of a user-space record map to ECS (aucoalesce "ecs.mappings"). */
export type UserMapping =
  | 'session' // PAM and login family: auid -> user, acct/id/uid -> user.effective
  | 'login' // LOGIN: old-auid -> user, auid -> user.effective
  | 'user-mgmt' // ADD_USER/DEL_USER/USER_MGMT/USER_CHAUTHTOK: auid -> user, uid -> user.effective, acct/id -> user.target
  | 'group-mgmt' // ADD_GROUP/...: auid -> user, uid -> user.effective, acct/id -> group
  | 'none';

export interface Normalization {
  readonly action: string;
  readonly category: readonly string[];
  readonly type: readonly string[];
  readonly kind?: 'alert';
  readonly users?: UserMapping;
  readonly direction?: 'ingress' | 'egress';
}

function n(action: string, category: readonly string[], type: readonly string[], extra: Partial<Normalization> = {}): Normalization {
  return { action, category, type, ...extra };
}

const AUTH = ['authentication'];
const ANOM_LOGIN = ['authentication', 'intrusion_detection'];

export const RECORD_TYPES: Readonly<Record<string, Normalization>> = {
  USER_LOGIN: n('logged-in', AUTH, ['start'], { users: 'session', direction: 'ingress' }),
  USER_LOGOUT: n('logged-out', AUTH, ['end'], { users: 'session', direction: 'ingress' }),
  USER_AUTH: n('authenticated', AUTH, ['info'], { users: 'session', direction: 'ingress' }),
  USER_ACCT: n('was-authorized', AUTH, ['info'], { users: 'session', direction: 'ingress' }),
  USER_ERR: n('error', AUTH, ['info'], { users: 'session', direction: 'ingress' }),
  CRED_ACQ: n('acquired-credentials', AUTH, ['info'], { users: 'session', direction: 'ingress' }),
  CRED_REFR: n('refreshed-credentials', AUTH, ['info'], { users: 'session', direction: 'ingress' }),
  CRED_DISP: n('disposed-credentials', AUTH, ['info'], { users: 'session', direction: 'ingress' }),
  USER_START: n('started-session', ['session'], ['start'], { users: 'session', direction: 'ingress' }),
  USER_END: n('ended-session', ['session'], ['end'], { users: 'session', direction: 'ingress' }),
  LOGIN: n('changed-login-id-to', AUTH, ['start'], { users: 'login' }),
  USER_CMD: n('ran-command', ['process'], ['start']),
  USER_ROLE_CHANGE: n('changed-role-to', [], []),
  USER_TTY: n('typed', [], []),
  TTY: n('typed', [], []),
  ADD_USER: n('added-user-account', ['iam'], ['user', 'creation'], { users: 'user-mgmt' }),
  DEL_USER: n('deleted-user-account', ['iam'], ['user', 'deletion'], { users: 'user-mgmt' }),
  USER_MGMT: n('modified-user-account', ['iam'], ['user', 'change'], { users: 'user-mgmt' }),
  USER_CHAUTHTOK: n('changed-password', ['iam'], ['user', 'change'], { users: 'user-mgmt' }),
  ADD_GROUP: n('added-group-account-to', ['iam'], ['group', 'creation'], { users: 'group-mgmt' }),
  DEL_GROUP: n('deleted-group-account-from', ['iam'], ['group', 'deletion'], { users: 'group-mgmt' }),
  GRP_MGMT: n('modified-group-account', ['iam'], ['group', 'change'], { users: 'group-mgmt' }),
  GRP_CHAUTHTOK: n('changed-group-password', ['iam'], ['group', 'change'], { users: 'group-mgmt' }),
  ACCT_LOCK: n('locked-account', ['iam'], ['user', 'info']),
  ACCT_UNLOCK: n('unlocked-account', ['iam'], ['user', 'info']),
  ROLE_ASSIGN: n('assigned-user-role-to', ['iam'], ['user', 'change']),
  ROLE_REMOVE: n('removed-user-role-from', ['iam'], ['user', 'change']),
  ROLE_MODIFY: n('modified-role', ['iam'], ['change']),
  ANOM_LOGIN_FAILURES: n('failed-log-in-too-many-times-to', ANOM_LOGIN, ['start', 'denied'], { kind: 'alert', users: 'session' }),
  ANOM_LOGIN_LOCATION: n('attempted-log-in-from-unusual-place-to', ANOM_LOGIN, ['start', 'denied'], { kind: 'alert', users: 'session' }),
  ANOM_LOGIN_SESSIONS: n('opened-too-many-sessions-to', ANOM_LOGIN, ['start', 'denied'], { kind: 'alert', users: 'session' }),
  ANOM_LOGIN_TIME: n('attempted-log-in-during-unusual-hour-to', ANOM_LOGIN, ['start', 'denied'], { kind: 'alert', users: 'session' }),
  ANOM_LOGIN_SERVICE: n('attempted-log-in-to-restricted-service', ANOM_LOGIN, ['start', 'denied'], { kind: 'alert', users: 'session' }),
  ANOM_LOGIN_ACCT: n('attempted-log-in-to-restricted-account', ANOM_LOGIN, ['start', 'denied'], { kind: 'alert', users: 'session' }),
  ANOM_ABEND: n('crashed-program', ['process', 'intrusion_detection'], ['end', 'info'], { kind: 'alert' }),
  ANOM_EXEC: n('attempted-execution-of-forbidden-program', ['process', 'intrusion_detection'], ['start', 'info'], { kind: 'alert' }),
  ANOM_PROMISCUOUS: n('changed-promiscuous-mode-on-device', ['intrusion_detection'], ['info', 'change'], { kind: 'alert' }),
  ANOM_ADD_ACCT: n('added-user-account', ['iam', 'intrusion_detection'], ['user', 'creation', 'info'], { kind: 'alert' }),
  ANOM_DEL_ACCT: n('deleted-user-account', ['iam', 'intrusion_detection'], ['user', 'deletion', 'info'], { kind: 'alert' }),
  ANOM_MOD_ACCT: n('modified-user-account', ['iam', 'intrusion_detection'], ['user', 'change', 'info'], { kind: 'alert' }),
  ANOM_ROOT_TRANS: n('user-became-root', ['authentication', 'intrusion_detection'], ['start', 'info'], { kind: 'alert' }),
  ANOM_ACCESS_FS: n('accessed-watched-file-or-directory', ['file', 'intrusion_detection'], ['access', 'info'], { kind: 'alert' }),
  ANOM_MK_EXE: n('made-an-executable', ['file', 'intrusion_detection'], ['change', 'info'], { kind: 'alert' }),
  ANOM_LINK: n('used-suspicious-link', ['file', 'intrusion_detection'], ['info'], { kind: 'alert' }),
  ANOM_MAX_DAC: n('max-dac-failures-reached', ['intrusion_detection'], ['info'], { kind: 'alert' }),
  ANOM_MAX_MAC: n('max-mac-failures-reached', ['intrusion_detection'], ['info'], { kind: 'alert' }),
  ANOM_AMTU_FAIL: n('amtu-failed', ['intrusion_detection'], ['info'], { kind: 'alert' }),
  ANOM_RBAC_FAIL: n('rbac-self-test-failure', ['intrusion_detection'], ['info'], { kind: 'alert' }),
  ANOM_RBAC_INTEGRITY_FAIL: n('file-integrity-check-failure', ['intrusion_detection'], ['info'], { kind: 'alert' }),
  ANOM_CRYPTO_FAIL: n('crypto-officer-failure', ['intrusion_detection'], ['info'], { kind: 'alert' }),
  CONFIG_CHANGE: n('changed-audit-configuration', ['process', 'configuration'], ['change']),
  DAEMON_START: n('started-audit', ['process'], ['start']),
  DAEMON_END: n('shutdown-audit', ['process'], ['end']),
  DAEMON_ABORT: n('aborted-auditd-startup', ['process'], ['end']),
  DAEMON_ROTATE: n('rotated-audit-logs', ['process'], ['change']),
  DAEMON_RESUME: n('resumed-audit-logging', ['process'], ['change']),
  DAEMON_CONFIG: n('changed-auditd-configuration', ['process', 'configuration'], ['change']),
  DAEMON_RECONFIG: n('reconfigured-auditd', ['process', 'configuration'], ['info']),
  DAEMON_ERR: n('audit-error', ['process'], ['info']),
  USYS_CONFIG: n('changed-configuration', ['configuration'], ['change']),
  NETFILTER_CFG: n('loaded-firewall-rule-to', ['configuration'], ['change']),
  FEATURE_CHANGE: n('changed-audit-feature', ['configuration'], ['change']),
  MAC_POLICY_LOAD: n('loaded-selinux-policy', ['configuration'], ['access']),
  MAC_STATUS: n('changed-selinux-enforcement', ['configuration'], ['change']),
  MAC_CONFIG_CHANGE: n('changed-selinux-boolean', ['configuration'], ['change']),
  SERVICE_START: n('started-service', ['process'], ['start']),
  SERVICE_STOP: n('stopped-service', ['process'], ['end']),
  SYSTEM_BOOT: n('booted-system', ['host'], ['start']),
  SYSTEM_SHUTDOWN: n('shutdown-system', ['host'], ['end']),
  SYSTEM_RUNLEVEL: n('changed-to-runlevel', ['host'], ['change']),
  KERN_MODULE: n('loaded-kernel-module', ['driver'], ['start']),
  SOFTWARE_UPDATE: n('package-updated', ['package'], ['info']),
  CRYPTO_SESSION: n('started-crypto-session', ['process'], ['info'], { direction: 'ingress' }),
  CRYPTO_KEY_USER: n('negotiated-crypto-key', ['process'], ['info'], { direction: 'ingress' }),
  AVC: n('violated-selinux-policy', [], []),
  USER_AVC: n('access-permission', [], []),
  SELINUX_ERR: n('caused-mac-policy-error', [], []),
  VIRT_CONTROL: n('issued-vm-control', ['host'], ['info']),
  VIRT_RESOURCE: n('assigned-vm-resource', ['host'], ['info']),
  VIRT_MACHINE_ID: n('assigned-vm-id', ['host'], ['info']),
  TIME_ADJNTPVAL: n('changed-system-time', ['host'], ['change']),
  TIME_INJOFFSET: n('changed-system-time', ['host'], ['change']),
  SECCOMP: n('violated-seccomp-policy', ['process'], ['info']),
  INTEGRITY_RULE: n('integrity-rule', ['file'], ['info']),
};

const FILE_INFO = n('opened-file', ['file'], ['info']);

function many(names: readonly string[], norm: Normalization, into: Record<string, Normalization>): void {
  for (const name of names) into[name] = norm;
}

export const SYSCALLS: Readonly<Record<string, Normalization>> = (() => {
  const m: Record<string, Normalization> = {};
  many(['execve', 'execveat'], n('executed', ['process'], ['start']), m);
  many(['open', 'openat', 'openat2', 'readlink', 'readlinkat', 'open_by_handle_at', 'name_to_handle_at'], FILE_INFO, m);
  m.creat = n('opened-file', ['file'], ['creation']);
  many(['truncate', 'ftruncate', 'fallocate'], n('opened-file', ['file'], ['change']), m);
  many(['write', 'writev', 'pwrite64', 'pwritev', 'pwritev2'], n('wrote-to-file', ['file'], ['change']), m);
  many(['read', 'readv', 'pread64', 'preadv'], n('read-file', ['file'], ['info']), m);
  many(['chmod', 'fchmod', 'fchmodat', 'fchmodat2'], n('changed-file-permissions-of', ['file'], ['change']), m);
  many(['chown', 'fchown', 'fchownat', 'lchown'], n('changed-file-ownership-of', ['file'], ['change']), m);
  many(['setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr', 'fremovexattr'], n('changed-file-attributes-of', ['file'], ['change']), m);
  many(['unlink', 'unlinkat', 'rmdir'], n('deleted', ['file'], ['deletion']), m);
  many(['rename', 'renameat', 'renameat2'], n('renamed', ['file'], ['change']), m);
  many(['mkdir', 'mkdirat'], n('created-directory', ['file'], ['creation']), m);
  many(['link', 'linkat'], n('linked', ['file'], ['creation']), m);
  many(['symlink', 'symlinkat'], n('symlinked', ['file'], ['creation']), m);
  many(['mknod', 'mknodat'], n('make-device', ['file'], ['creation']), m);
  many(['stat', 'lstat', 'fstat', 'newfstatat', 'statx', 'access', 'faccessat', 'faccessat2', 'getxattr', 'lgetxattr', 'fgetxattr', 'listxattr', 'llistxattr', 'flistxattr'], n('checked-metadata-of', ['file'], ['info']), m);
  many(['mount', 'fsmount', 'move_mount'], n('mounted', ['file'], ['creation']), m);
  many(['umount', 'umount2'], n('unmounted', ['file'], ['deletion']), m);
  m.connect = n('connected-to', ['network'], ['connection', 'start'], { direction: 'egress' });
  many(['accept', 'accept4'], n('accepted-connection-from', ['network'], ['connection', 'start'], { direction: 'ingress' }), m);
  m.bind = n('bound-socket', ['network'], ['start']);
  m.listen = n('listen-for-connections', ['network'], ['start']);
  many(['sendto', 'sendmsg', 'sendmmsg'], n('sent-to', ['network'], ['connection', 'info'], { direction: 'egress' }), m);
  many(['recvfrom', 'recvmsg', 'recvmmsg'], n('received-from', ['network'], ['connection', 'info'], { direction: 'ingress' }), m);
  many(['kill', 'tkill', 'tgkill'], n('killed-pid', ['process'], ['end']), m);
  many(['exit', 'exit_group'], n('end', ['process'], ['end']), m);
  many(['setuid', 'setreuid', 'setresuid', 'setfsuid', 'setgid', 'setregid', 'setresgid', 'setfsgid', 'setgroups'], n('changed-identity-of', ['process'], ['change']), m);
  many(['sethostname', 'setdomainname'], n('changed-system-name', ['host'], ['change']), m);
  many(['init_module', 'finit_module'], n('loaded-kernel-module', ['driver'], ['start']), m);
  m.delete_module = n('unloaded-kernel-module', ['driver'], ['end']);
  many(['adjtimex', 'clock_adjtime', 'clock_settime', 'settimeofday', 'stime'], n('changed-system-time', ['host'], ['change']), m);
  many(['ptrace'], n('traced', ['process'], ['access']), m);
  return m;
})();

/** A syscall without a specific entry: aucoalesce gives no action and process/info. */
export const GENERIC_SYSCALL: Normalization = n('', ['process'], ['info']);

/** Record types that only complement a SYSCALL (never the event's primary record). */
export const AUXILIARY_TYPES = new Set([
  'SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE', 'SOCKADDR', 'EOE', 'BPRM_FCAPS', 'CAPSET', 'MMAP', 'OBJ_PID',
  'FD_PAIR', 'IPC', 'IPC_SET_PERM', 'MQ_OPEN', 'MQ_SENDRECV', 'MQ_NOTIFY', 'MQ_GETSETATTR', 'SOCKETCALL', 'KERNEL_OTHER',
  'URINGOP', 'NETFILTER_PKT', 'OPENAT2', 'MAC_UNLBL_STCADD',
]);

/**
 * Record types that form an event on their own (user-space messages 1100-1299 and
 * 2100-2999 are written by one process in one sendto; they never get
 * SYSCALL/EOE companions). Kernel types (LOGIN, CONFIG_CHANGE, ANOM_*, AVC...)
 * may have SYSCALL/PROCTITLE companions, so they wait for EOE or the timeout.
 */
export function isSingleRecordType(type: string, typeNumber: number | undefined): boolean {
  if (typeNumber !== undefined) return (typeNumber >= 1100 && typeNumber <= 1299) || (typeNumber >= 2100 && typeNumber <= 2999);
  return USER_SPACE_TYPES.has(type);
}

/** Names of the common user-space types (audit.log writes names, not numbers). */
export const USER_SPACE_TYPES = new Set([
  'USER', 'USER_AUTH', 'USER_ACCT', 'USER_MGMT', 'CRED_ACQ', 'CRED_DISP', 'USER_START', 'USER_END', 'USER_AVC',
  'USER_CHAUTHTOK', 'USER_ERR', 'CRED_REFR', 'USYS_CONFIG', 'USER_LOGIN', 'USER_LOGOUT', 'ADD_USER', 'DEL_USER',
  'ADD_GROUP', 'DEL_GROUP', 'DAC_CHECK', 'CHGRP_ID', 'TEST', 'TRUSTED_APP', 'USER_SELINUX_ERR', 'USER_CMD', 'USER_TTY',
  'CHUSER_ID', 'GRP_AUTH', 'SYSTEM_BOOT', 'SYSTEM_SHUTDOWN', 'SYSTEM_RUNLEVEL', 'SERVICE_START', 'SERVICE_STOP',
  'GRP_MGMT', 'GRP_CHAUTHTOK', 'DAEMON_START', 'DAEMON_END', 'DAEMON_ABORT', 'DAEMON_CONFIG', 'DAEMON_RECONFIG',
  'DAEMON_ROTATE', 'DAEMON_RESUME', 'DAEMON_ACCEPT', 'DAEMON_CLOSE', 'DAEMON_ERR', 'CRYPTO_TEST_USER', 'CRYPTO_PARAM_CHANGE_USER',
  'CRYPTO_LOGIN', 'CRYPTO_LOGOUT', 'CRYPTO_KEY_USER', 'CRYPTO_FAILURE_USER', 'CRYPTO_REPLAY_USER', 'CRYPTO_SESSION',
  'CRYPTO_IKE_SA', 'CRYPTO_IPSEC_SA', 'ANOM_LOGIN_FAILURES', 'ANOM_LOGIN_TIME', 'ANOM_LOGIN_SESSIONS', 'ANOM_LOGIN_ACCT',
  'ANOM_LOGIN_LOCATION', 'ANOM_MAX_DAC', 'ANOM_MAX_MAC', 'ANOM_AMTU_FAIL', 'ANOM_RBAC_FAIL', 'ANOM_RBAC_INTEGRITY_FAIL',
  'ANOM_CRYPTO_FAIL', 'ANOM_ACCESS_FS', 'ANOM_EXEC', 'ANOM_MK_EXEC', 'ANOM_ADD_ACCT', 'ANOM_DEL_ACCT', 'ANOM_MOD_ACCT',
  'ANOM_ROOT_TRANS', 'ANOM_LOGIN_SERVICE', 'RESP_ANOMALY', 'ROLE_ASSIGN', 'ROLE_REMOVE', 'ROLE_MODIFY', 'USER_ROLE_CHANGE',
  'USER_LABELED_EXPORT', 'USER_UNLABELED_EXPORT', 'USER_DEVICE', 'USER_MAC_POLICY_LOAD', 'USER_MAC_CONFIG_CHANGE',
  'VIRT_CONTROL', 'VIRT_RESOURCE', 'VIRT_MACHINE_ID', 'VIRT_INTEGRITY_CHECK', 'VIRT_CREATE', 'VIRT_DESTROY', 'VIRT_MIGRATE_IN',
  'VIRT_MIGRATE_OUT', 'SOFTWARE_UPDATE', 'ACCT_LOCK', 'ACCT_UNLOCK', 'USER_DEVICE', 'LABEL_OVERRIDE', 'LABEL_LEVEL_CHANGE',
]);
