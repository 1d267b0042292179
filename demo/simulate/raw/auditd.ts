/**
 * The timeline as `/var/log/audit/audit.log`, line for line as auditd 3.x writes
 * it with `log_format = ENRICHED` (the default since audit 3.0): the raw fields,
 * then 0x1D and the names auditd resolved on the host (UID="alice" …). Writing the
 * names makes the log replayable on another machine, exactly as on a real host.
 *
 * - A process start (exec the kernel saw) is one event of SYSCALL (execve) +
 *   EXECVE + CWD + PATH (the program, the interpreter of a script, ld.so) +
 *   PROCTITLE + EOE, key "exec". Values the kernel would hex-encode (any byte
 *   < 0x21 or > 0x7E, or a double quote) are hex-encoded, unquoted.
 * - An sshd login is the PAM conversation: [USER_AUTH] USER_ACCT CRED_ACQ
 *   USER_START (login uid and session set) USER_LOGIN; the logout USER_END
 *   CRED_DISP USER_LOGOUT. A failed login from the network is USER_AUTH res=failed
 *   plus sshd's USER_LOGIN res=failed (acct "(invalid user)" for unknown names);
 *   a mistyped password that is retried in the same connection is USER_AUTH only.
 * - sudo: USER_ACCT USER_CMD CRED_REFR USER_START … USER_END CRED_DISP.
 * - su: USER_AUTH USER_ACCT CRED_ACQ USER_START.
 * - Account changes (shadow-utils): ADD_USER (+ ADD_GROUP of the private group),
 *   USER_MGMT, USER_CHAUTHTOK, ADD_GROUP, DEL_USER.
 *
 * Serials increase with time per host and never skip (no "lost" events); the
 * first serial is a stable function of the host id. Pure and deterministic.
 */
import * as path from 'node:path';
import type { AccountAction, ExecAction, Identity, LoginAction, LogoutAction, SimAction, SimFleet, SimHost, SimSession, SudoAction, SuAction } from '../timeline';
import { fleetAccounts, sshdPid, stableInt, type Accounts } from './common';

const GS = '\u001d';
const UNSET = 4294967295;
const LD_SO = '/lib64/ld-linux-x86-64.so.2';
const SUBJ = 'unconfined';

/** Kernel/auditd rule: hex when any byte is < 0x21, > 0x7E or a double quote. */
export function needsHex(s: string): boolean {
  for (const b of Buffer.from(s, 'utf8')) if (b < 0x21 || b > 0x7e || b === 0x22) return true;
  return false;
}

export function hex(s: string | Buffer): string {
  return (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('hex').toUpperCase();
}

/** A value as auditd writes an untrusted string: "quoted" or HEX. */
export function enc(s: string): string {
  return needsHex(s) ? hex(s) : `"${s}"`;
}

interface AuditEvent {
  readonly t: number;
  /** Tie-breaker for equal times: creation order. */
  readonly order: number;
  /** Record bodies: `[type, text after "msg=audit(…): "]`. */
  readonly records: ReadonlyArray<readonly [type: string, body: string]>;
}

/** How the kernel would execute this argv: the path given to execve, the exe, the interpreter if a script. */
function execTarget(a: ExecAction): { name: string; exe: string; interpreter?: string } {
  const argv0 = a.args[0] ?? a.executable;
  const given = argv0.includes('/') ? argv0 : a.executable;
  const canonical = (p: string): string => {
    const resolved = p.startsWith('./') ? path.posix.join(a.cwd, p) : p;
    if (resolved === '/bin/sh' || resolved === '/usr/bin/sh') return '/usr/bin/dash';
    if (resolved.startsWith('/bin/') || resolved.startsWith('/sbin/')) return `/usr${resolved}`;
    return resolved;
  };
  if (given.endsWith('.sh')) return { name: given, exe: '/usr/bin/bash', interpreter: '/bin/bash' };
  return { name: given, exe: canonical(given) };
}

function ids(acc: Accounts, prefix: '' | 'o', uid: number, gid: number): string {
  return prefix === '' ? `uid=${uid} gid=${gid} euid=${uid} suid=${uid} fsuid=${uid} egid=${gid} sgid=${gid} fsgid=${gid}` : `ouid=${uid} ogid=${gid}`;
}

function nameOf(acc: Accounts, uid: number): string {
  return uid === UNSET ? 'unset' : (acc.userName(uid) ?? String(uid));
}

function groupOf(acc: Accounts, gid: number): string {
  return acc.groupName(gid) ?? String(gid);
}

function sessionTty(s: SimSession | undefined): string {
  return s ? s.tty.replace('/', '') : '(none)';
}

class HostAuditLog {
  readonly events: AuditEvent[] = [];
  private order = 0;
  constructor(readonly host: SimHost, readonly acc: Accounts) {}

  push(t: number, records: ReadonlyArray<readonly [string, string]>): void {
    this.events.push({ t, order: this.order++, records });
  }

  /** A PAM or sshd user-space record: `pid= uid= auid= ses= subj= msg='…'` + enrichment. */
  userRecord(pid: number, uid: number, auid: number, ses: number, msg: string, extra: { id?: number } = {}): string {
    const enrich = [`UID="${nameOf(this.acc, uid)}"`, `AUID="${nameOf(this.acc, auid)}"`, ...(extra.id !== undefined ? [`ID="${nameOf(this.acc, extra.id)}"`] : [])];
    return `pid=${pid} uid=${uid} auid=${auid} ses=${ses} subj=${SUBJ} msg='${msg}'${GS}${enrich.join(' ')}`;
  }

  exec(a: ExecAction): void {
    const acc = this.acc;
    const s = a.session;
    const auid = a.loginUser ? a.loginUser.uid : UNSET;
    const ses = s && a.loginUser ? s.auditSession : UNSET;
    const uid = a.runAs.uid;
    const gid = acc.gidOf(uid);
    const target = execTarget(a);
    const comm = path.posix.basename(target.name).slice(0, 15);
    const regs = [0, 1, 2, 3].map((i) => stableInt(0x55_0000_0000, 0x56_0000_0000, a.host, a.seq, i).toString(16));
    const items: Array<{ name: string; owner: number }> = [{ name: target.name, owner: 0 }];
    if (target.interpreter) items.push({ name: target.interpreter, owner: 0 });
    items.push({ name: LD_SO, owner: 0 });
    const ownerOf = (p: string): number => (p.startsWith('/home/') ? uid : p.startsWith('/tmp/') ? uid : 0);
    const syscall =
      `arch=c000003e syscall=59 success=yes exit=0 a0=${regs[0]} a1=${regs[1]} a2=${regs[2]} a3=${regs[3]} items=${items.length} ` +
      `ppid=${a.ppid} pid=${a.pid} auid=${auid} ${ids(acc, '', uid, gid)} tty=${sessionTty(s)} ses=${ses} comm=${enc(comm)} exe=${enc(target.exe)} subj=${SUBJ} key="exec"` +
      `${GS}ARCH=x86_64 SYSCALL=execve AUID="${nameOf(acc, auid)}" UID="${nameOf(acc, uid)}" GID="${groupOf(acc, gid)}" EUID="${nameOf(acc, uid)}" SUID="${nameOf(acc, uid)}" ` +
      `FSUID="${nameOf(acc, uid)}" EGID="${groupOf(acc, gid)}" SGID="${groupOf(acc, gid)}" FSGID="${groupOf(acc, gid)}"`;
    const execve = [`argc=${a.args.length}`, ...a.args.map((x, i) => `a${i}=${enc(x)}`)].join(' ');
    const cwd = `cwd=${enc(a.cwd)}`;
    const paths = items.map((it, i) => {
      const owner = it.name.startsWith('./') || it.name.startsWith('/tmp/') ? ownerOf(it.name.startsWith('./') ? a.cwd + '/' : it.name) : it.owner;
      const ogid = acc.gidOf(owner);
      return `item=${i} name=${enc(it.name)} inode=${stableInt(130_000, 2_900_000, this.host.id, it.name)} dev=fd:01 mode=0100755 ${ids(acc, 'o', owner, ogid)} rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="${nameOf(acc, owner)}" OGID="${groupOf(acc, ogid)}"`;
    });
    // The kernel keeps at most 128 bytes of the command line; NULs between args force hex.
    const title = Buffer.from(a.args.join('\u0000'), 'utf8').subarray(0, 128);
    const proctitle = `proctitle=${a.args.length === 1 && !needsHex(title.toString('utf8')) ? `"${title.toString('utf8')}"` : hex(title)}`;
    this.push(a.t, [['SYSCALL', syscall], ['EXECVE', execve], ['CWD', cwd], ...paths.map((p) => ['PATH', p] as const), ['PROCTITLE', proctitle], ['EOE', '']]);
  }

  login(a: LoginAction): void {
    const ip = a.sourceIp;
    const conn = stableInt(2000, 60000, this.host.id, a.seq, 'sshd');
    const addr = `hostname=${ip} addr=${ip}`;
    const acct = a.account;
    if (a.outcome === 'failure') {
      const known = a.uid !== undefined;
      const retryInSameConnection = known && a.story === undefined && ip.startsWith('10.');
      this.push(a.t, [['USER_AUTH', this.userRecord(conn, 0, UNSET, UNSET, `op=PAM:authentication grantors=? acct=${enc(known ? acct : '?')} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=failed`)]]);
      if (!retryInSameConnection) {
        this.push(a.t + 2, [['USER_LOGIN', this.userRecord(conn, 0, UNSET, UNSET, `op=login acct=${enc(known ? acct : '(invalid user)')} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=failed`)]]);
      }
      return;
    }
    const s = a.session;
    if (!s || a.uid === undefined) return;
    const pid = sshdPid(s);
    const uid = a.uid;
    if (a.method === 'password') {
      this.push(a.t - 900, [['USER_AUTH', this.userRecord(pid, 0, UNSET, UNSET, `op=PAM:authentication grantors=pam_unix acct=${enc(acct)} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=success`)]]);
    }
    this.push(a.t - 880, [['USER_ACCT', this.userRecord(pid, 0, UNSET, UNSET, `op=PAM:accounting grantors=pam_permit acct=${enc(acct)} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=success`)]]);
    this.push(a.t - 870, [['CRED_ACQ', this.userRecord(pid, 0, UNSET, UNSET, `op=PAM:setcred grantors=pam_permit,pam_cap acct=${enc(acct)} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=success`)]]);
    this.push(a.t - 300, [['USER_START', this.userRecord(pid, 0, uid, s.auditSession, `op=PAM:session_open grantors=pam_selinux,pam_loginuid,pam_keyinit,pam_permit,pam_umask,pam_unix,pam_systemd,pam_mail,pam_limits,pam_env acct=${enc(acct)} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=success`)]]);
    this.push(a.t, [['USER_LOGIN', this.userRecord(pid, 0, uid, s.auditSession, `op=login id=${uid} exe="/usr/sbin/sshd" ${addr} terminal=/dev/${s.tty} res=success`, { id: uid })]]);
  }

  logout(a: LogoutAction): void {
    const s = a.session;
    const pid = sshdPid(s);
    const addr = `hostname=${s.sourceIp} addr=${s.sourceIp}`;
    this.push(a.t, [['USER_END', this.userRecord(pid, 0, s.uid, s.auditSession, `op=PAM:session_close grantors=pam_selinux,pam_loginuid,pam_keyinit,pam_permit,pam_umask,pam_unix,pam_systemd,pam_mail,pam_limits,pam_env acct=${enc(s.user)} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=success`)]]);
    this.push(a.t + 1, [['CRED_DISP', this.userRecord(pid, 0, s.uid, s.auditSession, `op=PAM:setcred grantors=pam_permit,pam_cap acct=${enc(s.user)} exe="/usr/sbin/sshd" ${addr} terminal=ssh res=success`)]]);
    this.push(a.t + 2, [['USER_LOGOUT', this.userRecord(pid, 0, s.uid, s.auditSession, `op=logout id=${s.uid} exe="/usr/sbin/sshd" ${addr} terminal=/dev/${s.tty} res=success`, { id: s.uid })]]);
  }

  sudo(a: SudoAction): void {
    const s = a.session;
    const uid = s.uid;
    const res = a.outcome === 'success' ? 'success' : 'failed';
    const term = `terminal=/dev/${s.tty}`;
    const pam = (op: string, grantors: string, acct: string): string =>
      this.userRecord(a.pid, uid, uid, s.auditSession, `op=${op} grantors=${grantors} acct=${enc(acct)} exe="/usr/bin/sudo" hostname=? addr=? ${term} res=${res}`);
    this.push(a.t - 3, [['USER_ACCT', pam('PAM:accounting', 'pam_permit', s.user)]]);
    if (a.command.trim() === '') return; // sudo -l: accounting only, no command
    const words = a.command.split(' ').filter((w) => w.length > 0);
    const first = words[0] ?? '';
    const resolved = first.startsWith('/') || first.startsWith('./') ? first : /^(useradd|usermod|userdel|groupadd|chpasswd|reboot|needrestart|logrotate|ip|ss)$/.test(first) ? `/usr/sbin/${first}` : `/usr/bin/${first}`;
    const cmd = [resolved, ...words.slice(1)].join(' ');
    this.push(a.t - 2, [['USER_CMD', `pid=${a.pid} uid=${uid} auid=${uid} ses=${s.auditSession} subj=${SUBJ} msg='cwd=${enc(a.cwd)} cmd=${enc(cmd)} exe="/usr/bin/sudo" terminal=${s.tty} res=${res}'${GS}UID="${nameOf(this.acc, uid)}" AUID="${nameOf(this.acc, uid)}"`]]);
    this.push(a.t - 1, [['CRED_REFR', pam('PAM:setcred', 'pam_permit', a.target.name)]]);
    this.push(a.t, [['USER_START', pam('PAM:session_open', 'pam_limits,pam_permit,pam_unix', a.target.name)]]);
    const done = a.t + 5 + stableInt(40, 3000, this.host.id, a.seq, 'sudo');
    this.push(done, [['USER_END', pam('PAM:session_close', 'pam_limits,pam_permit,pam_unix', a.target.name)]]);
    this.push(done + 1, [['CRED_DISP', pam('PAM:setcred', 'pam_permit', a.target.name)]]);
  }

  su(a: SuAction): void {
    const s = a.session;
    const res = a.outcome === 'success' ? 'success' : 'failed';
    const rec = (op: string, grantors: string): string =>
      this.userRecord(a.pid, s.uid, s.uid, s.auditSession, `op=${op} grantors=${grantors} acct=${enc(a.target.name)} exe="/usr/bin/su" hostname=? addr=? terminal=/dev/${s.tty} res=${res}`);
    this.push(a.t - 3, [['USER_AUTH', rec('PAM:authentication', a.outcome === 'success' ? 'pam_rootok' : '?')]]);
    if (a.outcome !== 'success') return;
    this.push(a.t - 2, [['USER_ACCT', rec('PAM:accounting', 'pam_permit')]]);
    this.push(a.t - 1, [['CRED_ACQ', rec('PAM:setcred', 'pam_permit')]]);
    this.push(a.t, [['USER_START', rec('PAM:session_open', 'pam_keyinit,pam_limits,pam_unix,pam_systemd')]]);
  }

  account(a: AccountAction): void {
    const s = a.session;
    const tail = `exe=${enc(a.executable)} hostname=${this.host.name} addr=? terminal=${s.tty} res=success`;
    const rec = (msg: string, id?: number): string => this.userRecord(a.pid, a.actor.uid, s.uid, s.auditSession, msg, id !== undefined ? { id } : {});
    switch (a.op) {
      case 'add-user':
        if (a.target.uid !== 0) this.push(a.t - 1, [['ADD_GROUP', rec(`op=add-group id=${a.target.uid} ${tail}`, a.target.uid)]]);
        this.push(a.t, [['ADD_USER', rec(`op=add-user id=${a.target.uid} ${tail}`, a.target.uid)]]);
        break;
      case 'delete-user':
        this.push(a.t, [['DEL_USER', rec(`op=delete-user id=${a.target.uid} ${tail}`, a.target.uid)]]);
        break;
      case 'modify-user':
        this.push(a.t, [['USER_MGMT', rec(`op=add-user-to-group grp=${enc(a.group?.name ?? 'users')} acct=${enc(a.target.name)} ${tail}`)]]);
        break;
      case 'change-password':
        this.push(a.t, [['USER_CHAUTHTOK', rec(`op=PAM:chauthtok grantors=pam_unix acct=${enc(a.target.name)} ${tail}`)]]);
        break;
      case 'add-group':
        this.push(a.t, [['ADD_GROUP', rec(`op=add-group id=${a.target.uid} ${tail}`)]]);
        break;
    }
  }
}

export interface AuditLog {
  readonly lines: string[];
  /** Number of auditd events (serials) written. */
  readonly events: number;
}

/** The audit.log of one host over the whole timeline. */
export function auditLogFor(fleet: SimFleet, actions: readonly SimAction[], host: SimHost): AuditLog {
  const log = new HostAuditLog(host, fleetAccounts(fleet));
  for (const a of actions) {
    if (a.host !== host.name) continue;
    switch (a.kind) {
      case 'exec':
        if (!a.hooked) log.exec(a);
        break;
      case 'login': log.login(a); break;
      case 'logout': log.logout(a); break;
      case 'sudo': log.sudo(a); break;
      case 'su': log.su(a); break;
      case 'account': log.account(a); break;
      default: break;
    }
  }
  const events = log.events.sort((x, y) => x.t - y.t || x.order - y.order);
  let serial = stableInt(1000, 90_000, host.id, 'serial');
  const lines: string[] = [];
  for (const e of events) {
    serial++;
    const head = `msg=audit(${(e.t / 1000).toFixed(3)}:${serial}):`;
    for (const [type, body] of e.records) lines.push(`type=${type} ${head}${body === '' ? ' ' : ` ${body}`}`);
  }
  return { lines, events: events.length };
}

export type { Identity };
