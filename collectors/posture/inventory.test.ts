import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertValidDocument } from '../../schema';
import type { PostureContext } from './context';
import { defaultPostureConfig } from './config';
import { collectInventory, loadInventoryState, saveInventoryState } from './inventory';
import { encodeUtmp, parseUtmp, readListening, UT, UTMP_SIZE } from './inventory-sources';
import { connectScan, parsePortRules } from './exposure';
import { scanTargetsFrom } from './index';
import * as net from 'node:net';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const get = (d: unknown, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), d);

const TCP_HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (i: number, hexIp: string, port: number, st: string, uid: number, inode: number): string =>
  `   ${i}: ${hexIp}:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000 ${uid} 0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

function prepared(): { root: string; state: string; w: (p: string, t: string | Buffer) => void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-inv-'));
  dirs.push(base);
  const root = path.join(base, 'root');
  const w = (p: string, t: string | Buffer): void => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), t);
  };
  w('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice A,,,:/home/alice:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
  w('/etc/shadow', 'root:$6$abc:19000:0:99999:7:::\nalice:$6$def:19100:0:99999:7:::\nwww-data:*:19000:0:99999:7:::\n');
  w('/etc/group', 'root:x:0:\nsudo:x:27:alice\nalice:x:1000:\nwww-data:x:33:\n');
  w('/var/lib/dpkg/status', 'Package: openssh-server\nStatus: install ok installed\nInstalled-Size: 1500\nArchitecture: amd64\nVersion: 1:9.2p1-2\nDescription: secure shell (SSH) server\n more text\n\nPackage: telnetd\nStatus: deinstall ok config-files\nVersion: 0.17\nArchitecture: amd64\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2\n');
  // sshd on 0.0.0.0:22 (pid 500), redis on 0.0.0.0:6379 (pid 600, uid 999), a loopback-only postgres, one ESTABLISHED connection.
  w('/proc/net/tcp', TCP_HEAD + tcpLine(0, '00000000', 22, '0A', 0, 1001) + tcpLine(1, '00000000', 6379, '0A', 999, 1002) + tcpLine(2, '0100007F', 5432, '0A', 107, 1003) + tcpLine(3, '0100007F', 40000, '01', 0, 0));
  w('/proc/net/tcp6', '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1004 1 0000000000000000 100 0 0 10 0\n');
  w('/proc/net/udp', TCP_HEAD + tcpLine(0, '00000000', 123, '07', 0, 1005));
  w('/proc/stat', 'cpu 1 2 3\nbtime 1760000000\n');
  for (const [pid, name, uid, inodes, cmd] of [[500, 'sshd', 0, [1001, 1004], 'sshd: /usr/sbin/sshd -D'], [600, 'redis-server', 999, [1002], '/usr/bin/redis-server *:6379']] as const) {
    w(`/proc/${pid}/status`, `Name:\t${name}\nPPid:\t1\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
    w(`/proc/${pid}/stat`, `${pid} (${name}) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n`);
    w(`/proc/${pid}/cmdline`, cmd.split(' ').join('\0') + '\0');
    fs.mkdirSync(path.join(root, `proc/${pid}/fd`), { recursive: true });
    inodes.forEach((ino, i) => fs.symlinkSync(`socket:[${ino}]`, path.join(root, `proc/${pid}/fd/${i + 3}`)));
    fs.symlinkSync('/dev/null', path.join(root, `proc/${pid}/fd/0`));
  }
  w('/var/log/wtmp', Buffer.concat([
    encodeUtmp({ type: UT.BOOT_TIME, line: '~', user: 'reboot', host: '6.1.0', sec: 1760000000 }),
    encodeUtmp({ type: UT.USER_PROCESS, pid: 4242, line: 'pts/0', id: 'ts/0', user: 'alice', host: '203.0.113.7', sec: 1760000100, usec: 250000, ip: '203.0.113.7', session: 0 }),
    encodeUtmp({ type: UT.DEAD_PROCESS, pid: 4242, line: 'pts/0', id: 'ts/0', sec: 1760003700 }),
  ]));
  w('/var/log/btmp', encodeUtmp({ type: UT.LOGIN_PROCESS, pid: 4300, line: 'ssh:notty', user: 'admin', host: '198.51.100.9', sec: 1760000050, ip: '198.51.100.9' }));
  return { root, state: path.join(base, 'state'), w };
}

function ctxOf(root: string, stateDir: string, now: number): PostureContext {
  return { host: { name: 'h1', id: 'host-1' }, agent: { type: 'auditkit', version: 't' }, namespace: 'test', root, stateDir, now: () => now };
}

describe('utmp records (wtmp, btmp)', () => {
  it('parse the 384-byte glibc x86_64 layout: type, pid, line, user, host, time and the IPv4 address', () => {
    const b = encodeUtmp({ type: UT.USER_PROCESS, pid: 77, line: 'pts/3', id: 'ts/3', user: 'bob', host: '192.0.2.4', sec: 1700000000, usec: 5, ip: '192.0.2.4', session: 9 });
    expect(b.length).toBe(UTMP_SIZE);
    const [r] = parseUtmp(Buffer.concat([b, Buffer.alloc(100)]), 768);
    expect(r).toEqual({ type: 7, typeName: 'USER_PROCESS', pid: 77, line: 'pts/3', id: 'ts/3', user: 'bob', host: '192.0.2.4', session: 9, sec: 1700000000, usec: 5, ip: '192.0.2.4', offset: 768 });
  });
  it('skip records with an impossible type instead of guessing', () => {
    const b = Buffer.alloc(UTMP_SIZE, 0xff);
    expect(parseUtmp(b)).toEqual([]);
  });
});

describe('listening sockets from /proc/net', () => {
  it('decode little-endian addresses, IPv6 and the listening states, and skip connections', () => {
    const { root } = prepared();
    const s = readListening(root).map((x) => `${x.transport} ${x.ip} ${x.port} ${x.uid} ${x.inode}`);
    expect(s).toEqual(['tcp 0.0.0.0 22 0 1001', 'tcp 0.0.0.0 6379 999 1002', 'tcp 127.0.0.1 5432 107 1003', 'tcp :: 22 0 1004', 'udp 0.0.0.0 123 0 1005']);
  });
});

describe('inventory', () => {
  it('sends state for a prepared tree: accounts, groups, packages, sockets with their process, processes, logins; all valid ECS', () => {
    const { root, state } = prepared();
    const cfg = defaultPostureConfig();
    const r = collectInventory(ctxOf(root, state, Date.UTC(2026, 0, 1)), cfg.inventory, { ...cfg.exposure, allowed_ports: [22, '123/udp'] }, loadInventoryState(state));
    for (const d of r.docs) assertValidDocument(d);
    expect(r.counts).toEqual({ account: 3, group: 4, package: 2, process: 2, socket: 5, login: 4 });
    const ssh = r.docs.find((d) => get(d, 'event.action') === 'socket_state' && get(d, 'server.port') === 22 && get(d, 'server.ip') === '0.0.0.0');
    expect(get(ssh, 'process.name')).toBe('sshd');
    expect(get(ssh, 'process.pid')).toBe(500);
    expect(get(ssh, 'auditkit.inventory.exposure.allowed')).toBe(true);
    const pg = r.docs.find((d) => get(d, 'server.port') === 5432);
    expect(get(pg, 'auditkit.inventory.exposure.allowed')).toBeUndefined(); // loopback: not exposed
    // First pass: only what is a problem on its own is an event — redis exposed against the policy.
    const events = r.docs.filter((d) => get(d, 'event.kind') === 'event' && get(d, 'auditkit.inventory.kind') !== 'login');
    expect(events.map((d) => `${String(get(d, 'event.action'))} ${String(get(d, 'server.port'))} ${String(get(d, 'process.name'))}`)).toEqual(['port_exposed 6379 redis-server']);
    const logins = r.docs.filter((d) => get(d, 'auditkit.inventory.kind') === 'login');
    const alice = logins.find((d) => get(d, 'event.outcome') === 'success');
    expect(get(alice, 'user.name')).toBe('alice');
    expect(get(alice, 'source.ip')).toBe('203.0.113.7');
    expect(get(alice, '@timestamp')).toBe('2025-10-09T08:55:00.250Z');
    expect(get(alice, 'auditkit.tty')).toBe('pts/0');
    const failed = logins.find((d) => get(d, 'event.outcome') === 'failure');
    expect(get(failed, 'user.name')).toBe('admin');
    expect(get(failed, 'source.ip')).toBe('198.51.100.9');
    const pkg = r.docs.find((d) => get(d, 'package.name') === 'openssh-server');
    expect(get(pkg, 'package.version')).toBe('1:9.2p1-2');
    expect(get(pkg, 'package.size')).toBe(1500 * 1024);
    expect(r.docs.some((d) => get(d, 'package.name') === 'telnetd')).toBe(false);
    const aliceAcct = r.docs.find((d) => get(d, 'event.action') === 'account_state' && get(d, 'user.name') === 'alice');
    expect(get(aliceAcct, 'user.full_name')).toBe('Alice A');
    expect(get(aliceAcct, 'auditkit.inventory.account.password_changed')).toBe('2022-04-18');
  });

  it('reports changes at the next pass: uid 0 added, password changed, account removed, package installed, new exposed port, logins since', async () => {
    const { root, state, w } = prepared();
    const cfg = defaultPostureConfig();
    const ctx1 = ctxOf(root, state, Date.UTC(2026, 0, 1));
    const r1 = collectInventory(ctx1, cfg.inventory, cfg.exposure, loadInventoryState(state));
    await saveInventoryState(state, r1.state);
    w('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice A,,,:/home/alice:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n');
    w('/etc/shadow', 'root:$6$abc:19000:0:99999:7:::\nalice:$6$new:19500:0:99999:7:::\ntoor:$6$x:19500:0:99999:7:::\n');
    fs.appendFileSync(path.join(root, 'var/lib/dpkg/status'), '\nPackage: netcat-traditional\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.10-47\n');
    fs.appendFileSync(path.join(root, 'proc/net/tcp'), tcpLine(4, '00000000', 4444, '0A', 1000, 1006));
    fs.appendFileSync(path.join(root, 'var/log/btmp'), encodeUtmp({ type: UT.LOGIN_PROCESS, pid: 4400, line: 'ssh:notty', user: 'root', host: '198.51.100.9', sec: 1760090000, ip: '198.51.100.9' }));
    const r2 = collectInventory(ctxOf(root, state, Date.UTC(2026, 0, 1, 1)), cfg.inventory, cfg.exposure, loadInventoryState(state));
    for (const d of r2.docs) assertValidDocument(d);
    // No state documents within state_every_s, only changes.
    expect(r2.docs.filter((d) => get(d, 'event.kind') === 'state')).toEqual([]);
    const actions = r2.docs.map((d) => `${String(get(d, 'event.action'))} ${String(get(d, 'package.name') ?? get(d, 'server.port') ?? get(d, 'user.name'))}`).sort();
    expect(actions).toEqual([
      'package_installed netcat-traditional',
      'password_changed alice',
      'port_exposed 4444',
      'socket_opened 4444',
      'user_login root',
      'user_removed www-data',
      'user_uid0_added toor',
    ]);
    const uid0 = r2.docs.find((d) => get(d, 'event.action') === 'user_uid0_added');
    expect(get(uid0, 'event.type')).toEqual(['user', 'creation', 'admin']);
    // The same pass again from the same saved state gives the same ids (a crash before the state save).
    const again = collectInventory(ctxOf(root, state, Date.UTC(2026, 0, 1, 1)), cfg.inventory, cfg.exposure, loadInventoryState(state));
    expect(again.docs.map((d) => get(d, 'event.id')).sort()).toEqual(r2.docs.map((d) => get(d, 'event.id')).sort());
  });
});

describe('central TCP connect scan', () => {
  it('finds an open port on 127.0.0.1, says whether the policy allows it, and refuses to exceed max_targets', async () => {
    const srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const closed = await new Promise<number>((r) => {
      const s2 = net.createServer();
      s2.listen(0, '127.0.0.1', () => {
        const p = (s2.address() as net.AddressInfo).port;
        s2.close(() => r(p));
      });
    });
    try {
      const cfg = { ...defaultPostureConfig().network_scan, ports: [port, closed], rate_per_s: 20, timeout_ms: 500 };
      const t0 = Date.now();
      const f = await connectScan([{ host: 'local', address: '127.0.0.1', allowed: parsePortRules([22]), policy: 'web' }], cfg);
      expect(f).toEqual([
        { host: 'local', address: '127.0.0.1', port: Math.min(port, closed), open: Math.min(port, closed) === port, allowed: false, policy: 'web' },
        { host: 'local', address: '127.0.0.1', port: Math.max(port, closed), open: Math.max(port, closed) === port, allowed: false, policy: 'web' },
      ]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(45); // 20/s: the second attempt waits 50 ms
      await expect(connectScan([{ host: 'a', address: '127.0.0.1', allowed: [], policy: 'p' }], { ...cfg, max_targets: 1 })).rejects.toMatchObject({ code: 'AK_POSTURE_SCAN_TOO_LARGE' });
    } finally {
      srv.close();
    }
  });
});

describe('network scan targets from the inventory', () => {
  it('take each host\'s allowed ports from its group overrides, and refuse an invalid policy naming the host', () => {
    const defaults = defaultPostureConfig();
    const t = scanTargetsFrom([{ name: 'web1', address: '127.0.0.1', collector: { posture: { exposure: { policy: 'web', allowed_ports: [22, '443/tcp'] } } } }, { name: 'db1', address: '127.0.0.2', collector: {} }], defaults);
    expect(t.map((x) => [x.host, x.policy, x.allowed.length])).toEqual([['web1', 'web', 2], ['db1', 'default', 1]]);
    expect(() => scanTargetsFrom([{ name: 'bad', address: '127.0.0.3', collector: { posture: { exposure: { allowed_ports: ['http'] } } } }], defaults)).toThrow(/inventory host bad: collector.posture.exposure is invalid: allowed_ports.0/);
  });
});
