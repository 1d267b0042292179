import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AuditkitEvent } from '../../schema';
import { getField } from '../../schema';
import { assertValidDocument } from '../../schema';
import type { ParseOutput } from '../types';
import { AuditAssembler, type AssemblerOptions } from './assembler';
import { auditbeatParser, auditdParser } from './index';
import { parserByKind } from '../parsers';
import { fileResolver, type IdResolver } from './users';
import { linkedSessionId } from './session';

const CTX = { host: { name: 'web-1', id: 'host-1' }, agent: { type: 'auditkit' }, namespace: 'test', now: () => 1_000 };
const RESOLVER: IdResolver = {
  user: (id) => ({ '0': 'root', '1000': 'alice', '1001': 'bob' })[id],
  group: (id) => ({ '0': 'root', '1000': 'alice' })[id],
};

function feed(lines: readonly string[], opts: Partial<AssemblerOptions> = {}, final = true): { events: AuditkitEvent[]; outs: ParseOutput[]; a: AuditAssembler } {
  const a = new AuditAssembler(CTX, { resolver: RESOLVER, ...opts });
  const outs: ParseOutput[] = [];
  let off = 0;
  lines.forEach((text, i) => {
    outs.push(...a.push({ text, origin: { file: '/var/log/audit/audit.log', fileId: 'f1', offset: off, end: off + text.length + 1, line: i + 1 } }));
    off += Buffer.byteLength(text) + 1;
  });
  if (final) outs.push(...a.flush(0, true));
  const events = outs.flatMap((o) => (o.kind === 'event' ? [o.doc] : []));
  for (const e of events) assertValidDocument(e);
  return { events, outs, a };
}

const lost = (outs: ParseOutput[]): number => outs.reduce((n, o) => n + (o.kind === 'lost' ? o.count : 0), 0);
const errors = (outs: ParseOutput[]): string[] => outs.flatMap((o) => (o.kind === 'error' ? [o.code] : []));
const f = (e: AuditkitEvent | undefined, p: string): unknown => getField(e, p);

function execEvent(serial: number, ms = '1700000000.100', args: string[] = ['ls', '-la']): string[] {
  const h = `msg=audit(${ms}:${serial}):`;
  return [
    `type=SYSCALL ${h} arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=100 pid=${200 + serial} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=7 comm="ls" exe="/usr/bin/ls" key="exec"`,
    `type=EXECVE ${h} argc=${args.length} ${args.map((a, i) => `a${i}="${a}"`).join(' ')}`,
    `type=CWD ${h} cwd="/home/alice"`,
    `type=PATH ${h} item=0 name="/usr/bin/ls" inode=42 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
    `type=PROCTITLE ${h} proctitle=6C73002D6C61`,
    `type=EOE ${h}`,
  ];
}

describe('auditd record assembly', () => {
  it('assembles the records of one execve into one ECS event with user, login user, process and file', () => {
    const { events, outs } = feed(execEvent(10));
    expect(errors(outs)).toEqual([]);
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(f(e, 'event.action')).toBe('executed');
    expect(f(e, 'event.category')).toEqual(['process']);
    expect(f(e, 'event.type')).toEqual(['start']);
    expect(f(e, 'event.outcome')).toBe('success');
    expect(f(e, 'event.dataset')).toBe('auditkit.auditd');
    expect(f(e, 'user.name')).toBe('alice');
    expect(f(e, 'process.entry_leader.user.name')).toBe('alice');
    expect(f(e, 'process.args')).toEqual(['ls', '-la']);
    expect(f(e, 'process.command_line')).toBe('ls -la');
    expect(f(e, 'process.title')).toBe('ls -la');
    expect(f(e, 'process.working_directory')).toBe('/home/alice');
    expect(f(e, 'process.parent.pid')).toBe(100);
    expect(f(e, 'file.path')).toBe('/usr/bin/ls');
    expect(f(e, 'tags')).toEqual(['exec']);
    expect(f(e, 'auditkit.tty')).toBe('pts/0');
    expect(f(e, 'auditkit.session.id')).toBe(linkedSessionId('host-1', 1000, 7));
    expect(f(e, 'auditkit.source.offset')).toBe(0);
  });

  it('gives the same event the same deterministic id on a replay', () => {
    const a = feed(execEvent(10)).events[0];
    const b = feed(execEvent(10)).events[0];
    expect(f(a, 'event.id')).toBe(f(b, 'event.id'));
    expect(f(a, 'event.id')).not.toBe(f(feed(execEvent(11)).events[0], 'event.id'));
  });

  it('separates interleaved events and tolerates records out of order (PROCTITLE before SYSCALL)', () => {
    const a = execEvent(20);
    const b = execEvent(21);
    const lines = [b[4] as string, a[0] as string, b[0] as string, a[1] as string, b[1] as string, a[2] as string, a[3] as string, b[2] as string, b[3] as string, a[4] as string, a[5] as string, b[5] as string];
    const { events, outs } = feed(lines);
    expect(errors(outs)).toEqual([]);
    expect(lost(outs)).toBe(0);
    expect(events).toHaveLength(2);
    for (const e of events) {
      expect(f(e, 'process.args')).toEqual(['ls', '-la']);
      expect(f(e, 'process.title')).toBe('ls -la');
      expect(f(e, 'file.path')).toBe('/usr/bin/ls');
    }
  });

  it('counts serial gaps as lost events, but not serials that arrive late', () => {
    const lines = [...execEvent(30, '1700000000.100'), ...execEvent(33, '1700000000.200'), ...execEvent(31, '1700000000.150'), ...execEvent(40, '1700000009.000')];
    const { events, outs } = feed(lines);
    expect(events).toHaveLength(4);
    // missing: 32, 34..39
    expect(lost(outs)).toBe(7);
  });

  it('handles a u32 serial rollover without inventing losses, and counts the serials skipped across it', () => {
    const clean = feed([...execEvent(4294967294), ...execEvent(4294967295), ...execEvent(0), ...execEvent(1)]);
    expect(clean.events).toHaveLength(4);
    expect(lost(clean.outs)).toBe(0);
    const skipped = feed([...execEvent(4294967294), ...execEvent(1)]);
    expect(lost(skipped.outs)).toBe(2); // 4294967295 and 0
  });

  it('finishes events without EOE on timeout, and reports the lowest buffered offset until then', () => {
    const lines = execEvent(50).slice(0, 3); // SYSCALL, EXECVE, CWD: no PROCTITLE, no EOE
    const { events, a } = feed(lines, {}, false);
    expect(events).toHaveLength(0);
    expect(a.pendingOffset('f1')).toBe(0);
    expect(a.pendingOffset('other')).toBeUndefined();
    expect(a.flush(1_000 + 1_999)).toHaveLength(0);
    const late = a.flush(1_000 + 2_000);
    expect(late.filter((o) => o.kind === 'event')).toHaveLength(1);
    expect(a.pendingOffset('f1')).toBeUndefined();
  });

  it('caps the events in flight by finishing the oldest', () => {
    const lines: string[] = [];
    for (let s = 1; s <= 20; s++) lines.push(...execEvent(s).slice(0, 2));
    const { events, a } = feed(lines, { maxInFlight: 5 }, false);
    expect(events.length).toBe(15);
    expect(a.inFlight).toBe(5);
  });

  it('reassembles chunked EXECVE arguments (aN_len, aN[i]) across several records', () => {
    const h = 'msg=audit(1700000000.100:60):';
    const big = 'x'.repeat(20);
    const hex = Buffer.from(big).toString('hex').toUpperCase();
    const lines = [
      `type=SYSCALL ${h} arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=7 comm="echo" exe="/usr/bin/echo"`,
      `type=EXECVE ${h} argc=3 a0="echo" a1_len=20 a1[0]=${hex.slice(0, 20)}`,
      `type=EXECVE ${h} a1[1]=${hex.slice(20)} a2=48656C6C6F20776F726C64`,
      `type=EOE ${h}`,
    ];
    const e = feed(lines).events[0];
    expect(f(e, 'process.args')).toEqual(['echo', big, 'Hello world']);
    expect(f(e, 'process.command_line')).toBe(`echo ${big} 'Hello world'`);
  });

  it('truncates huge EXECVE argument lists with a visible marker', () => {
    const args = Array.from({ length: 3000 }, (_, i) => `arg${i}`);
    const h = 'msg=audit(1700000000.100:70):';
    const lines = [
      `type=SYSCALL ${h} arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=1000 uid=1000 gid=1000 euid=1000 ses=7 comm="x" exe="/x"`,
      `type=EXECVE ${h} argc=3000 ${args.slice(0, 1500).map((a, i) => `a${i}="${a}"`).join(' ')}`,
      `type=EXECVE ${h} ${args.slice(1500).map((a, i) => `a${i + 1500}="${a}"`).join(' ')}`,
      `type=EOE ${h}`,
    ];
    const e = feed(lines, { maxArgs: 100 }).events[0];
    const got = f(e, 'process.args') as string[];
    expect(got).toHaveLength(101);
    expect(got[100]).toMatch(/^\[\.\.\. 2900 arguments \(\d+ bytes\) truncated by auditkit \.\.\.\]$/);
    expect(f(e, 'process.args_count')).toBe(3000);
    expect(f(e, 'auditd.execve.truncated')).toBe(true);
  });

  it('decodes hex only when the value is unquoted', () => {
    const h = 'msg=audit(1700000000.100:80):';
    const lines = [
      `type=SYSCALL ${h} arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=1000 uid=1000 gid=1000 euid=1000 ses=7 comm="x" exe="/x"`,
      `type=EXECVE ${h} argc=3 a0="3005" a1=3005 a2="ABCD"`,
      `type=CWD ${h} cwd=2F746D702F612062`,
      `type=EOE ${h}`,
    ];
    const e = feed(lines).events[0];
    expect(f(e, 'process.args')).toEqual(['3005', '0\u0005', 'ABCD']);
    expect(f(e, 'process.working_directory')).toBe('/tmp/a b');
  });

  it('reads the node= prefix and ENRICHED names (0x1D separator) before the local passwd', () => {
    const GS = '\u001d';
    const h = 'msg=audit(1700000000.100:90):';
    const lines = [
      `node=db-7 type=SYSCALL ${h} arch=c00000b7 syscall=221 success=yes exit=0 ppid=1 pid=2 auid=1234 uid=1234 gid=1234 euid=0 ses=9 comm="id" exe="/usr/bin/id" key=(null)${GS}ARCH=aarch64 SYSCALL=execve AUID="carol" UID="carol" GID="carol" EUID="root"`,
      `node=db-7 type=EXECVE ${h} argc=1 a0="id"`,
      `node=db-7 type=SOCKADDR ${h} saddr=0A0000160000000000000000000000000000000000000001000000000${GS}SADDR={ fam=inet6 laddr=::1 lport=22 }`,
      `node=db-7 type=EOE ${h}`,
    ];
    const e = feed(lines).events[0];
    expect(f(e, 'auditd.node')).toBe('db-7');
    expect(f(e, 'auditd.data.arch')).toBe('aarch64');
    expect(f(e, 'event.action')).toBe('executed');
    expect(f(e, 'user.name')).toBe('carol');
    expect(f(e, 'user.effective.name')).toBe('root');
    expect(f(e, 'process.entry_leader.user.name')).toBe('carol');
    expect(f(e, 'tags')).toBeUndefined();
  });

  it('maps an SSH login (USER_LOGIN) the go-libaudit way: auid to user, acct to user.effective, addr to source', () => {
    const { events } = feed([
      `type=USER_LOGIN msg=audit(1700000000.100:100): pid=5 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=203.0.113.9 addr=203.0.113.9 terminal=/dev/pts/1 res=success'`,
      `type=USER_LOGIN msg=audit(1700000000.200:101): pid=6 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=198.51.100.4 terminal=ssh res=failed'`,
    ]);
    const [ok, bad] = events;
    expect(f(ok, 'event.category')).toEqual(['authentication']);
    expect(f(ok, 'event.action')).toBe('logged-in');
    expect(f(ok, 'event.outcome')).toBe('success');
    expect(f(ok, 'user.id')).toBe('1000');
    expect(f(ok, 'user.effective.id')).toBe('1000');
    expect(f(ok, 'source.ip')).toBe('203.0.113.9');
    expect(f(ok, 'process.entry_leader.entry_meta.source.ip')).toBe('203.0.113.9');
    expect(f(ok, 'auditkit.tty')).toBe('pts/1');
    expect(f(bad, 'event.outcome')).toBe('failure');
    expect(f(bad, 'user.id')).toBeUndefined();
    expect(f(bad, 'user.effective.name')).toBe('root');
    expect(f(bad, 'auditkit.session.id')).toBeUndefined();
  });

  it('maps sudo (USER_CMD) to a process start with the command, cwd and the login user', () => {
    const e = feed([`type=USER_CMD msg=audit(1700000000.100:110): pid=9 uid=1000 auid=1000 ses=3 msg='cwd="/home/alice" cmd=73797374656D63746C20726573746172742073736864 terminal=pts/0 res=success'`]).events[0];
    expect(f(e, 'event.action')).toBe('ran-command');
    expect(f(e, 'event.category')).toEqual(['process']);
    expect(f(e, 'process.command_line')).toBe('systemctl restart sshd');
    expect(f(e, 'process.args')).toEqual(['systemctl', 'restart', 'sshd']);
    expect(f(e, 'process.working_directory')).toBe('/home/alice');
    expect(f(e, 'user.name')).toBe('alice');
    expect(f(e, 'process.entry_leader.user.name')).toBe('alice');
  });

  it('maps account changes (ADD_USER, DEL_GROUP) to iam with the target account', () => {
    const { events } = feed([
      `type=ADD_USER msg=audit(1700000000.100:120): pid=1264 uid=0 auid=1000 ses=3 msg='op=add-user acct="mallory" exe="/usr/sbin/useradd" hostname=? addr=? terminal=pts/0 res=success'`,
      `type=DEL_GROUP msg=audit(1700000000.200:121): pid=1265 uid=0 auid=1000 ses=3 msg='op=delete-group id=1005 exe="/usr/sbin/groupdel" hostname=? addr=? terminal=pts/0 res=success'`,
    ]);
    const [add, del] = events;
    expect(f(add, 'event.category')).toEqual(['iam']);
    expect(f(add, 'event.type')).toEqual(['user', 'creation']);
    expect(f(add, 'event.action')).toBe('added-user-account');
    expect(f(add, 'user.target.name')).toBe('mallory');
    expect(f(add, 'user.name')).toBe('alice');
    expect(f(add, 'user.effective.name')).toBe('root');
    expect(f(del, 'event.type')).toEqual(['group', 'deletion']);
    expect(f(del, 'group.id')).toBe('1005');
  });

  it('maps audit configuration changes (CONFIG_CHANGE) to configuration/change with the rule key', () => {
    const e = feed([`type=CONFIG_CHANGE msg=audit(1700000000.100:130): auid=1000 ses=3 op=remove_rule key="identity" list=4 res=1`, `type=EOE msg=audit(1700000000.100:130):`]).events[0];
    expect(f(e, 'event.action')).toBe('changed-audit-configuration');
    expect(f(e, 'event.category')).toEqual(['process', 'configuration']);
    expect(f(e, 'event.type')).toEqual(['change']);
    expect(f(e, 'event.outcome')).toBe('success');
    expect(f(e, 'tags')).toEqual(['identity']);
    expect(f(e, 'auditd.data.op')).toBe('remove_rule');
  });

  it('decodes SOCKADDR of a connect into destination ip and port', () => {
    const h = 'msg=audit(1700000000.100:140):';
    const e = feed([
      `type=SYSCALL ${h} arch=c000003e syscall=42 success=no exit=-115 a0=8 items=0 ppid=1 pid=2 auid=4294967295 uid=48 gid=48 euid=48 ses=4294967295 comm="php" exe="/usr/bin/php" key=(null)`,
      `type=SOCKADDR ${h} saddr=02002BCB7F0000010000000000000000`,
      `type=EOE ${h}`,
    ]).events[0];
    expect(f(e, 'event.action')).toBe('connected-to');
    expect(f(e, 'destination.ip')).toBe('127.0.0.1');
    expect(f(e, 'destination.port')).toBe(11211);
    expect(f(e, 'network.direction')).toBe('egress');
    expect(f(e, 'event.outcome')).toBe('failure');
    expect(f(e, 'auditd.data.exit')).toBe('EINPROGRESS');
    expect(f(e, 'process.entry_leader')).toBeUndefined();
  });

  it('turns unparsable lines into counted errors with code and location, never throwing', () => {
    const { outs } = feed(['garbage', 'type=SYSCALL no header here', 'type=SYSCALL msg=audit(abc:def): x=1']);
    const errs = outs.filter((o) => o.kind === 'error');
    expect(errs.map((o) => (o.kind === 'error' ? o.code : ''))).toEqual(['AUDITD_NO_TYPE', 'AUDITD_NO_HEADER', 'AUDITD_BAD_HEADER']);
    const first = errs[0];
    expect(first?.kind === 'error' && first.message).toBe('/var/log/audit/audit.log:1 (offset 0): expected an audit record starting with "type=" (or "node=… type="), got a line without "type="; the line was skipped');
  });

  it('counts records that arrive after their event was finished', () => {
    const ev = execEvent(150);
    const { events, outs } = feed([...ev, ev[2] as string]);
    expect(events).toHaveLength(1);
    expect(errors(outs)).toEqual(['AUDITD_LATE_RECORD']);
  });
});

const REASM = path.resolve(__dirname, '../../../shared/corpora/auditd/dev/go-libaudit/reassembler');
(existsSync(REASM) ? describe : describe.skip)('go-libaudit reassembler logs', () => {
  if (!existsSync(REASM)) console.warn(`reassembler corpus tests skipped: ${REASM} is missing`);
  const read = (n: string): string[] => readFileSync(path.join(REASM, n), 'utf8').split('\n');
  it.each([
    ['normal.log', 5, 0],
    ['out_of_order.log', 5, 0],
    ['lost_messages.log', 5, 9],
    ['rollover.log', 5, 0],
  ])('%s gives %d events and %d lost', (name, n, l) => {
    const { events, outs } = feed(read(name));
    expect(events).toHaveLength(n);
    expect(lost(outs)).toBe(l);
    expect(errors(outs)).toEqual([]);
  });
});

describe('parser units', () => {
  it('are registered for --format auditd and auditbeat and sniff their formats', () => {
    expect(parserByKind('auditd')).toBe(auditdParser);
    expect(parserByKind('auditbeat')).toBe(auditbeatParser);
    expect(auditdParser.sniff(execEvent(1))).toBe(true);
    expect(auditdParser.sniff(['{"a":1}'])).toBe(false);
    expect(auditbeatParser.sniff(['{"@timestamp":"2024-01-01T00:00:00Z","event":{"module":"auditd"}}'])).toBe(true);
    expect(auditbeatParser.sniff(execEvent(1))).toBe(false);
  });

  it('resolves ids from passwd and group files when no ENRICHED names are present', () => {
    const r = fileResolver({ passwd: path.join(__dirname, 'testdata/passwd'), group: path.join(__dirname, 'testdata/group') });
    expect(r.user('1000')).toBe('alice');
    expect(r.group('27')).toBe('sudo');
    expect(r.user('4242')).toBeUndefined();
    expect(fileResolver({ passwd: '/nonexistent', group: '/nonexistent' }).user('0')).toBeUndefined();
  });
});
