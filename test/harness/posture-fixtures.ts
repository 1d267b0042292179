/**
 * Shared fixtures of the posture int tests (test/posture, test/reports): a prepared host
 * tree for `--root`, and the auditd records of `vim FILE` run through sudo, as auditd 3
 * writes them (log_format = ENRICHED), which the FIM's who-changed-it join reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface PostureRootOptions {
  /** The one non-root account (passwd, shadow, group). */
  readonly user: { readonly name: string; readonly uid: number };
  /** /etc/sudoers and /etc/sudoers.d/ops. */
  readonly sudoers?: boolean;
  /** ~user/.ssh/authorized_keys. */
  readonly authorizedKeys?: boolean;
}

/**
 * `<base>/root` with passwd/shadow/group, sshd_config (PermitRootLogin no) and a
 * /proc/net/tcp where redis listens on 0.0.0.0:6379 (0x18EB), which the default
 * exposure policy (22 only) does not allow.
 */
export function preparePostureRoot(base: string, o: PostureRootOptions): string {
  const root = path.join(base, 'root');
  const w = (p: string, t: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), t, { mode });
  };
  const { name, uid } = o.user;
  w('/etc/passwd', `root:x:0:0:root:/root:/bin/bash\n${name}:x:${uid}:${uid}::/home/${name}:/bin/bash\n`);
  w('/etc/shadow', `root:$6$x:19000:0:99999:7:::\n${name}:$6$y:19000:0:99999:7:::\n`, 0o640);
  w('/etc/group', `root:x:0:\n${name}:x:${uid}:\n`);
  if (o.sudoers) {
    w('/etc/sudoers', 'root ALL=(ALL) ALL\n', 0o440);
    w('/etc/sudoers.d/ops', '%ops ALL=(ALL) ALL\n', 0o440);
  }
  w('/etc/ssh/sshd_config', 'PermitRootLogin no\n');
  if (o.authorizedKeys) w(`/home/${name}/.ssh/authorized_keys`, `ssh-ed25519 AAAA ${name}\n`, 0o600);
  w('/proc/net/tcp', '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 7001 1 0000000000000000 100 0 0 10 0\n');
  return root;
}

export interface VimRecordOptions {
  readonly serial: number;
  /** Event time, epoch ms. */
  readonly ms: number;
  /** The file vim opened for writing. */
  readonly file: string;
  /** The audit rule key (`-k`), e.g. privilege, sshd. */
  readonly key: string;
  /** PATH mode of the file (octal as auditd writes it), e.g. 0100440. */
  readonly mode: string;
  /** PATH mode of its directory; default 040755. */
  readonly dirMode?: string;
  /** PROCTITLE hex; default `vim\0FILE`. */
  readonly proctitle?: string;
}

/** `vim FILE` by bob (auid 1001, ses 4) through sudo (uid 0): SYSCALL openat, CWD, two PATH, PROCTITLE, EOE. */
export function vimAuditRecords(o: VimRecordOptions): string {
  const GS = '\u001d';
  const h = `msg=audit(${(o.ms / 1000).toFixed(3)}:${o.serial}):`;
  const proctitle = o.proctitle ?? Buffer.from(`vim\0${o.file}`).toString('hex').toUpperCase();
  return [
    `type=SYSCALL ${h} arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55d0 a2=241 a3=1b6 items=2 ppid=3001 pid=3002 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=4 comm="vim" exe="/usr/bin/vim.basic" subj=unconfined key="${o.key}"${GS}ARCH=x86_64 SYSCALL=openat AUID="bob" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`,
    `type=CWD ${h} cwd="/root"`,
    `type=PATH ${h} item=0 name="${path.posix.dirname(o.file)}/" inode=9 dev=08:01 mode=${o.dirMode ?? '040755'} ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
    `type=PATH ${h} item=1 name="${o.file}" inode=10 dev=08:01 mode=${o.mode} ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
    `type=PROCTITLE ${h} proctitle=${proctitle}`,
    `type=EOE ${h}`,
  ].join('\n') + '\n';
}
