import { ScpTap, scpCommand, SftpTap, SFTP_MAX_PACKET, type FileEvent } from './transfer';

/** An SFTP packet: uint32 length, type, then the body parts (numbers are uint32, strings are length-prefixed). */
function pkt(type: number, ...parts: Array<number | string | Buffer | bigint>): Buffer {
  const body = Buffer.concat(
    parts.map((p) => {
      if (typeof p === 'number') {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(p);
        return b;
      }
      if (typeof p === 'bigint') {
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(p);
        return b;
      }
      const s = typeof p === 'string' ? Buffer.from(p) : p;
      const l = Buffer.alloc(4);
      l.writeUInt32BE(s.length);
      return Buffer.concat([l, s]);
    }),
  );
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1);
  head[4] = type;
  return Buffer.concat([head, body]);
}
const ATTRS_NONE = 0;

function tap(): { files: FileEvent[]; violations: string[]; t: SftpTap } {
  const files: FileEvent[] = [];
  const violations: string[] = [];
  return { files, violations, t: new SftpTap({ file: (f) => files.push(f), violation: (r) => violations.push(r) }, () => 1000) };
}

/** Feed a buffer one byte at a time: the splitter must not care where chunks end. */
const dribble = (b: Buffer, fn: (d: Buffer) => void): void => {
  for (let i = 0; i < b.length; i++) fn(b.subarray(i, i + 1));
};

describe('SftpTap', () => {
  it('gives one upload event from OPEN, WRITEs and CLOSE, whatever the chunking', () => {
    const { files, violations, t } = tap();
    t.fromClient(pkt(1, 3)); // INIT v3 (no id)
    t.fromTarget(pkt(2, 3));
    dribble(pkt(3, 7, '/srv/a.txt', 0x1a, ATTRS_NONE), (d) => t.fromClient(d)); // write|creat|trunc
    t.fromTarget(pkt(102, 7, Buffer.from('h1')));
    t.fromClient(Buffer.concat([pkt(6, 8, Buffer.from('h1'), 0n, Buffer.alloc(1000)), pkt(6, 9, Buffer.from('h1'), 1000n, Buffer.alloc(24))]));
    t.fromTarget(Buffer.concat([pkt(101, 8, 0, '', ''), pkt(101, 9, 0, '', '')]));
    t.fromClient(pkt(4, 10, Buffer.from('h1')));
    dribble(pkt(101, 10, 0, 'ok', ''), (d) => t.fromTarget(d));
    expect(violations).toEqual([]);
    expect(files).toEqual([{ action: 'file-upload', protocol: 'sftp', path: '/srv/a.txt', bytes: 1024, direction: 'upload', flags: ['write', 'creat', 'trunc'], outcome: 'success', at: 1000 }]);
  });

  it('counts DATA answers to READs as a download; a failed OPEN and a rename are events too; open handles are reported at the end', () => {
    const { files, t } = tap();
    t.fromClient(pkt(3, 1, '/etc/hosts', 1, ATTRS_NONE));
    t.fromTarget(pkt(102, 1, Buffer.from('H')));
    t.fromClient(pkt(5, 2, Buffer.from('H'), 0n, 32768));
    t.fromTarget(pkt(103, 2, Buffer.alloc(500)));
    t.fromClient(pkt(3, 3, '/root/secret', 1, ATTRS_NONE));
    t.fromTarget(pkt(101, 3, 3, 'Permission denied', ''));
    t.fromClient(pkt(200, 4, 'posix-rename@openssh.com', '/a', '/b'));
    t.fromTarget(pkt(101, 4, 0, '', ''));
    t.finish('client-closed');
    expect(files.map((f) => [f.action, f.path, f.outcome, f.bytes ?? f.newPath, f.reason])).toEqual([
      ['file-download', '/root/secret', 'failure', 0, 'Permission denied'],
      ['file-rename', '/a', 'success', '/b', undefined],
      ['file-download', '/etc/hosts', 'unknown', 500, 'client-closed'],
    ]);
  });

  it('refuses a packet longer than OpenSSH allows at its length field, before any of it is kept', () => {
    const { violations, t } = tap();
    const huge = Buffer.alloc(5);
    huge.writeUInt32BE(SFTP_MAX_PACKET + 1);
    t.fromClient(huge.subarray(0, 4));
    expect(violations).toEqual([`SFTP packet length ${SFTP_MAX_PACKET + 1} outside 1..${SFTP_MAX_PACKET}`]);
    t.fromClient(Buffer.alloc(1 << 20)); // ignored from now on
    expect(violations).toHaveLength(1);
  });

  it('refuses more outstanding requests than it follows', () => {
    const { violations, t } = tap();
    for (let i = 0; i < 5000 && violations.length === 0; i++) t.fromClient(pkt(13, i, `/f${i}`));
    expect(violations[0]).toMatch(/outstanding SFTP requests/);
  });
});

describe('scpCommand', () => {
  it('reads the sink and source modes the OpenSSH client sends', () => {
    expect(scpCommand(['scp', '-v', '-t', '--', '/tmp/x'])).toEqual({ mode: 'sink', path: '/tmp/x', dirTarget: false });
    expect(scpCommand(['scp', '-r', '-d', '-t', '/tmp/d'])).toEqual({ mode: 'sink', path: '/tmp/d', dirTarget: true });
    expect(scpCommand(['/usr/bin/scp', '-pf', '/etc/hosts'])).toEqual({ mode: 'source', path: '/etc/hosts', dirTarget: false });
    expect(scpCommand(['scp', 'a', 'b'])).toBeUndefined();
    expect(scpCommand(['ls', '-t'])).toBeUndefined();
  });
});

describe('ScpTap', () => {
  const run = (cmd: Parameters<typeof scpCommand>[0], source: string[], answers: string[], up: boolean): { files: FileEvent[]; violations: string[] } => {
    const files: FileEvent[] = [];
    const violations: string[] = [];
    const c = scpCommand(cmd);
    if (!c) throw new Error('not scp');
    const t = new ScpTap(c, { file: (f) => files.push(f), violation: (r) => violations.push(r) }, () => 5);
    // Interleave as the protocol does: the sink answers, the source sends, one step at a time.
    for (let i = 0; i < Math.max(source.length, answers.length); i++) {
      const a = answers[i];
      const s = source[i];
      if (a !== undefined) (up ? t.fromTarget.bind(t) : t.fromClient.bind(t))(Buffer.from(a, 'latin1'));
      if (s !== undefined) (up ? t.fromClient.bind(t) : t.fromTarget.bind(t))(Buffer.from(s, 'latin1'));
    }
    t.finish('exit');
    return { files, violations };
  };

  it('an upload: one event with the announced name and the bytes that went through', () => {
    const { files, violations } = run(['scp', '-t', '/tmp/dest'], ['C0644 5 hello.txt\n', 'hello\0'], ['\0', '\0', '\0'], true);
    expect(violations).toEqual([]);
    expect(files).toEqual([{ action: 'file-upload', protocol: 'scp', path: '/tmp/dest', name: 'hello.txt', bytes: 5, announced: 5, direction: 'upload', outcome: 'success', at: 5 }]);
  });

  it('a recursive download names each file under the directory, and a sink refusal is a failure', () => {
    const { files } = run(['scp', '-r', '-f', '/srv/d'], ['D0755 0 d\n', 'C0600 3 a\n', 'abc\0', 'C0600 2 b\n', 'E\n'], ['\0', '\0', '\0', '\0', '\x01scp: b: Permission denied\n', '\0'], false);
    expect(files.map((f) => [f.path, f.outcome, f.bytes, f.reason])).toEqual([
      ['/srv/d/a', 'success', 3, undefined],
      ['/srv/d/b', 'failure', 0, 'scp: b: Permission denied'],
    ]);
  });

  it('a control line past the cap is a violation', () => {
    const { violations } = run(['scp', '-t', '/tmp'], ['C0644 1 ' + 'x'.repeat(10_000)], ['\0'], true);
    expect(violations[0]).toMatch(/control line longer/);
  });
});
