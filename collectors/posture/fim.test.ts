import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertValidDocument } from '../../schema';
import { parserByKind } from '../parsers';
import type { PostureContext } from './context';
import { defaultPostureConfig, type FimConfig } from './config';
import { FimMonitor } from './fim';
import { comparePaths } from './fim-state';
import { WriterIndex } from './fim-who';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tree(): { root: string; state: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-fim-'));
  dirs.push(base);
  const root = path.join(base, 'root');
  const w = (p: string, text: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text, { mode });
  };
  w('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n');
  w('/etc/group', 'root:x:0:\nalice:x:1000:\n');
  w('/etc/shadow', 'root:*:19000:0:99999:7:::\n', 0o640);
  w('/etc/sudoers', 'root ALL=(ALL) ALL\n', 0o440);
  w('/etc/sudoers.d/ops', '%ops ALL=(ALL) ALL\n', 0o440);
  w('/home/alice/.ssh/authorized_keys', 'ssh-ed25519 AAAA alice\n', 0o600);
  w('/usr/bin/ls', 'ELF ls', 0o755);
  w('/usr/bin/id', 'ELF id', 0o755);
  fs.symlinkSync('/usr/bin/ls', path.join(root, '/usr/bin/dir'));
  return { root, state: path.join(base, 'state') };
}

function monitor(root: string, stateDir: string, emitted: Record<string, unknown>[], extra: Partial<FimConfig> = {}, who?: WriterIndex, now: () => number = Date.now): FimMonitor {
  const cfg = defaultPostureConfig().fim;
  const ctx: PostureContext = { host: { name: 'h1', id: 'host-1' }, agent: { type: 'auditkit', version: 't' }, namespace: 'test', root, stateDir, now };
  return new FimMonitor({
    ctx,
    config: { ...cfg, realtime: ['/etc/passwd', '/etc/shadow', '/etc/sudoers', '/etc/sudoers.d', '~/.ssh/authorized_keys'], scan: ['/usr/bin'], scan_rate_bytes: 0, ...extra },
    who,
    whoWaitMs: 0,
    emit: async (d) => {
      assertValidDocument(d);
      emitted.push(d);
    },
  });
}

const get = (d: Record<string, unknown> | undefined, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), d);

describe('file integrity monitoring', () => {
  it('records a first baseline silently, then reports content, attribute, creation and deletion changes as valid ECS', async () => {
    const { root, state } = tree();
    const out: Record<string, unknown>[] = [];
    const m = monitor(root, state, out);
    expect(await m.scanAll('start')).toEqual([]);
    fs.appendFileSync(path.join(root, 'etc/passwd'), 'mallory:x:0:0::/root:/bin/bash\n');
    fs.chmodSync(path.join(root, 'etc/sudoers'), 0o666);
    fs.writeFileSync(path.join(root, 'etc/sudoers.d/backdoor'), 'mallory ALL=(ALL) NOPASSWD: ALL\n');
    fs.rmSync(path.join(root, 'usr/bin/id'));
    fs.rmSync(path.join(root, 'usr/bin/dir'));
    fs.symlinkSync('/tmp/evil', path.join(root, 'usr/bin/dir'));
    const changes = await m.scanAll('scan');
    const by = new Map(out.map((d) => [get(d, 'file.path'), d]));
    expect(changes.map((c) => `${c.action} ${c.path}`).sort()).toEqual([
      'attributes_modified /etc/sudoers',
      'created /etc/sudoers.d/backdoor',
      'deleted /usr/bin/id',
      'updated /etc/passwd',
      'updated /usr/bin/dir',
    ]);
    const passwd = by.get('/etc/passwd');
    expect(get(passwd, 'event.type')).toEqual(['change']);
    expect(get(passwd, 'event.action')).toBe('updated');
    expect(get(passwd, 'auditkit.fim.changes')).toEqual(['content', 'size']);
    expect(get(passwd, 'file.hash.sha256')).toMatch(/^[0-9a-f]{64}$/);
    expect(get(passwd, 'auditkit.fim.previous.hash.sha256')).not.toBe(get(passwd, 'file.hash.sha256'));
    expect(get(passwd, 'auditkit.fim.critical')).toBe(true);
    const sudoers = by.get('/etc/sudoers');
    expect(get(sudoers, 'file.mode')).toBe('0666');
    expect(get(sudoers, 'auditkit.fim.previous.mode')).toBe('0440');
    expect(get(sudoers, 'auditkit.fim.changes')).toEqual(['mode']);
    expect(get(by.get('/etc/sudoers.d/backdoor'), 'event.type')).toEqual(['creation']);
    expect(get(by.get('/usr/bin/id'), 'event.type')).toEqual(['deletion']);
    expect(get(by.get('/usr/bin/id'), 'auditkit.fim.critical')).toBe(false);
    expect(get(by.get('/usr/bin/dir'), 'file.target_path')).toBe('/tmp/evil');
    expect(get(by.get('/usr/bin/dir'), 'auditkit.fim.previous.target_path')).toBe('/usr/bin/ls');
    // Nothing changed since: nothing reported.
    expect(await m.scanAll('scan')).toEqual([]);
    await m.close();
  });

  it('reports at start what changed while it was stopped, with the same id a crash-replay would give', async () => {
    const { root, state } = tree();
    const first: Record<string, unknown>[] = [];
    const a = monitor(root, state, first);
    await a.scanAll('start');
    await a.close();
    fs.writeFileSync(path.join(root, 'home/alice/.ssh/authorized_keys'), 'ssh-ed25519 AAAA alice\nssh-rsa BBBB attacker\n');
    const out: Record<string, unknown>[] = [];
    const b = monitor(root, state, out);
    expect(b.hasBaseline).toBe(true);
    const changes = await b.scanAll('start');
    expect(changes.map((c) => c.path)).toEqual(['/home/alice/.ssh/authorized_keys']);
    expect(get(out[0], 'auditkit.fim.detected_by')).toBe('start');
    // The same change seen again from the same baseline (crash before the save) gets the same id.
    const again = b.toDoc(changes[0] as (typeof changes)[number], undefined);
    expect(get(again, 'event.id')).toBe(get(out[0], 'event.id'));
    await b.close();
  });

  it('bounds a scan: symlink loops are not followed, max_files and max_depth stop the walk, large files are not hashed', async () => {
    const { root, state } = tree();
    fs.symlinkSync('..', path.join(root, 'usr/bin/loop'));
    let d = path.join(root, 'usr/bin/deep');
    for (let i = 0; i < 20; i++) d = path.join(d, 'x');
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/bin/big'), Buffer.alloc(4096));
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(root, `usr/bin/f${i}`), String(i));
    const out: Record<string, unknown>[] = [];
    const m = monitor(root, state, out, { max_files: 40, max_depth: 3, max_file_bytes: 1024 });
    await m.scanAll('start');
    expect(m.stats.truncated).toBeGreaterThan(0);
    expect(m.stats.files).toBeLessThanOrEqual(40);
    await m.close();
    const m2 = monitor(root, path.join(state, 'b'), out, { max_depth: 3, max_file_bytes: 1024 });
    await m2.scanAll('start');
    expect(m2.stats.tooDeep).toBeGreaterThan(0);
    fs.writeFileSync(path.join(root, 'usr/bin/big'), Buffer.alloc(8192, 1));
    const ch = await m2.scanAll('scan');
    const big = out.find((x) => get(x, 'file.path') === '/usr/bin/big');
    expect(ch.map((c) => c.path)).toContain('/usr/bin/big');
    expect(get(big, 'auditkit.fim.hash_skipped')).toBe('too_large');
    expect(get(big, 'file.hash')).toBeUndefined();
    await m2.close();
  });

  it('sees a change to a watched file through inotify within seconds', async () => {
    const { root, state } = tree();
    const out: Record<string, unknown>[] = [];
    const m = monitor(root, state, out, { debounce_ms: 50 });
    await m.scanAll('start');
    const errors: unknown[] = [];
    const w = m.startWatching((e) => errors.push(e));
    expect(w.watchCount).toBeGreaterThan(0);
    const t0 = Date.now();
    // Replace by rename, as visudo and sed -i do: a watch on the old inode would miss it.
    fs.writeFileSync(path.join(root, 'etc/sudoers.tmp'), 'root ALL=(ALL) ALL\nbob ALL=(ALL) NOPASSWD: ALL\n', { mode: 0o440 });
    fs.renameSync(path.join(root, 'etc/sudoers.tmp'), path.join(root, 'etc/sudoers'));
    fs.writeFileSync(path.join(root, 'etc/sudoers.d/new'), 'x\n');
    while (out.length < 2 && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(errors).toEqual([]);
    expect(out.map((d) => `${String(get(d, 'event.action'))} ${String(get(d, 'file.path'))}`).sort()).toEqual(['created /etc/sudoers.d/new', 'updated /etc/sudoers']);
    expect(out.every((d) => get(d, 'auditkit.fim.detected_by') === 'realtime')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    // Files outside the set in a watched directory are ignored.
    fs.writeFileSync(path.join(root, 'etc/motd'), 'hi\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(out).toHaveLength(2);
    await m.close();
  });

  it('caps the number of inotify watches and leaves the rest to the scan', async () => {
    const { root, state } = tree();
    for (let i = 0; i < 30; i++) fs.mkdirSync(path.join(root, `etc/sudoers.d/d${i}`));
    const m = monitor(root, state, [], { max_watches: 5 });
    const w = m.startWatching(() => undefined);
    expect(w.watchCount).toBe(5);
    expect(w.skipped).toBeGreaterThan(0);
    await m.close();
  });

  it('says who changed the file by joining the auditd watch record of the same path, close in time', async () => {
    const { root, state } = tree();
    const out: Record<string, unknown>[] = [];
    const who = new WriterIndex();
    const m = monitor(root, state, out, {}, who);
    await m.scanAll('start');
    fs.appendFileSync(path.join(root, 'etc/shadow'), 'mallory:$6$x:19500:0:99999:7:::\n');
    fs.writeFileSync(path.join(root, 'etc/sudoers.d/ops'), '%ops ALL=(ALL) NOPASSWD: ALL\n');
    const ctimeShadow = fs.statSync(path.join(root, 'etc/shadow')).ctimeMs;
    const ctimeOps = fs.statSync(path.join(root, 'etc/sudoers.d/ops')).ctimeMs;
    // The records auditd writes for these watches (-w /etc/shadow -k identity; -w /etc/sudoers.d/ -k privilege),
    // in the raw ENRICHED format, 300 ms and 1.2 s after the changes. vipw writes shadow by rename (nametype CREATE);
    // the editor opened ops by a relative name from /etc/sudoers.d (resolved against CWD).
    const ts = (ms: number): string => (ms / 1000).toFixed(3);
    const GS = '\u001d';
    const a = `msg=audit(${ts(ctimeShadow + 300)}:4711):`;
    const b = `msg=audit(${ts(ctimeOps + 1200)}:4712):`;
    const lines = [
      `type=SYSCALL ${a} arch=c000003e syscall=82 success=yes exit=0 a0=7ffd a1=7ffe a2=0 a3=0 items=4 ppid=2001 pid=2002 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="vipw" exe="/usr/sbin/vipw" subj=unconfined key="identity"${GS}ARCH=x86_64 SYSCALL=rename AUID="alice" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`,
      `type=CWD ${a} cwd="/root"`,
      `type=PATH ${a} item=0 name="/etc/" inode=2 dev=08:01 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
      `type=PATH ${a} item=1 name="/etc/" inode=2 dev=08:01 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
      `type=PATH ${a} item=2 name="/etc/nshadow" inode=77 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="shadow"`,
      `type=PATH ${a} item=3 name="/etc/shadow" inode=77 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="shadow"`,
      `type=PROCTITLE ${a} proctitle=7669707700${'2D73'}`,
      `type=EOE ${a}`,
      `type=SYSCALL ${b} arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55d0 a2=241 a3=1b6 items=2 ppid=3001 pid=3002 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=4 comm="vim" exe="/usr/bin/vim.basic" subj=unconfined key="privilege"${GS}ARCH=x86_64 SYSCALL=openat AUID="bob" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`,
      `type=CWD ${b} cwd="/etc/sudoers.d"`,
      `type=PATH ${b} item=0 name="/etc/sudoers.d/" inode=9 dev=08:01 mode=040750 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
      `type=PATH ${b} item=1 name="ops" inode=10 dev=08:01 mode=0100440 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`,
      `type=PROCTITLE ${b} proctitle=76696D006F7073`,
      `type=EOE ${b}`,
    ];
    const unit = parserByKind('auditd');
    if (!unit) throw new Error('no auditd parser');
    const p = unit.create({ host: { name: 'h1', id: 'host-1' }, agent: { type: 'auditkit' }, namespace: 'test', now: () => Date.now() });
    let off = 0;
    for (const text of lines) {
      for (const o of p.push({ text, origin: { file: '/var/log/audit/audit.log', fileId: 'f', offset: off, end: off + text.length + 1 } })) if (o.kind === 'event') who.observe(o.doc);
      off += text.length + 1;
    }
    for (const o of p.flush(Date.now(), true)) if (o.kind === 'event') who.observe(o.doc);
    // A record of another path at the same time must not be taken.
    await m.scanCritical('scan');
    const shadow = out.find((d) => get(d, 'file.path') === '/etc/shadow');
    const ops = out.find((d) => get(d, 'file.path') === '/etc/sudoers.d/ops');
    expect(get(shadow, 'user.name')).toBe('root');
    expect(get(shadow, 'process.entry_leader.user.name')).toBe('alice');
    expect(get(shadow, 'process.executable')).toBe('/usr/sbin/vipw');
    expect(get(shadow, 'auditkit.fim.who.key')).toBe('identity');
    expect(get(shadow, 'auditkit.fim.who.delta_ms')).toBeGreaterThanOrEqual(299);
    expect(get(ops, 'process.entry_leader.user.name')).toBe('bob');
    expect(get(ops, 'process.name')).toBe('vim');
    expect(get(ops, 'auditkit.fim.who.joined')).toBe(true);
    expect(get(ops, 'related.user')).toEqual(['root', 'bob']);
    await m.close();
  });

  it('does not name a writer whose record is of the same path but outside the window', async () => {
    const { root, state } = tree();
    const out: Record<string, unknown>[] = [];
    const who = new WriterIndex();
    const m = monitor(root, state, out, { who_window_ms: 1000 }, who);
    await m.scanAll('start');
    fs.appendFileSync(path.join(root, 'etc/passwd'), 'x:x:1:1::/:/bin/sh\n');
    const ct = fs.statSync(path.join(root, 'etc/passwd')).ctimeMs;
    who.observe({ '@timestamp': new Date(ct - 60_000).toISOString(), event: { dataset: 'auditkit.auditd', id: 'old' }, user: { name: 'root' }, auditd: { paths: [{ name: '/etc/passwd', nametype: 'NORMAL' }] } });
    who.observe({ '@timestamp': new Date(ct).toISOString(), event: { dataset: 'auditkit.auditd', id: 'other' }, user: { name: 'root' }, auditd: { paths: [{ name: '/etc/group', nametype: 'NORMAL' }] } });
    await m.scanCritical('scan');
    expect(out).toHaveLength(1);
    expect(get(out[0], 'user')).toBeUndefined();
    expect(get(out[0], 'auditkit.fim.who')).toBeUndefined();
    await m.close();
  });

  it('keeps the scan set as a sorted on-disk stream: a merge pass finds created, updated, deleted files among names that sort differently as plain strings', async () => {
    const { root, state } = tree();
    // '-' sorts before '/' as a string: a/b and a-b must still merge in walk order.
    for (const p of ['usr/bin/a/b', 'usr/bin/a-b', 'usr/bin/a.c', 'usr/bin/a/c/d', 'usr/bin/Z', 'usr/bin/é']) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), p);
    }
    const out: Record<string, unknown>[] = [];
    const m = monitor(root, state, out);
    expect(await m.scanAll('start')).toEqual([]);
    const lines = fs.readFileSync(path.join(state, 'fim-baseline.scan.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as [string])[0]);
    expect(lines).toEqual([...lines].sort(comparePaths));
    expect(lines).toContain('/usr/bin/a/c/d');
    // The critical set is not in the stream, the scan set is not in the JSON part.
    expect(lines.some((l) => l.startsWith('/etc/'))).toBe(false);
    expect(Object.keys((JSON.parse(fs.readFileSync(path.join(state, 'fim-baseline.json'), 'utf8')) as { files: object }).files).some((k) => k.startsWith('/usr/'))).toBe(false);
    await m.close();
    fs.writeFileSync(path.join(root, 'usr/bin/a-b'), 'changed');
    fs.rmSync(path.join(root, 'usr/bin/a/c'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/bin/a/new'), 'n');
    fs.appendFileSync(path.join(root, 'etc/passwd'), 'eve:x:0:0::/root:/bin/sh\n');
    const m2 = monitor(root, state, out);
    const changes = await m2.scanAll('start');
    expect(changes.map((c) => `${c.action} ${c.path}`).sort()).toEqual(['created /usr/bin/a/new', 'deleted /usr/bin/a/c', 'deleted /usr/bin/a/c/d', 'updated /etc/passwd', 'updated /usr/bin/a-b'].sort());
    // Nothing changed: nothing reported, nothing rehashed.
    const before = m2.stats.hashedBytes;
    expect(await m2.scanAll('scan')).toEqual([]);
    expect(m2.stats.hashedBytes).toBe(before);
    await m2.close();
  });

  it('a scan stopped by max_files reports no deletions for what it did not reach, and an old single-file baseline moves to the stream', async () => {
    const { root, state } = tree();
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(root, `usr/bin/f${String(i).padStart(2, '0')}`), String(i));
    const m = monitor(root, state, []);
    await m.scanAll('start');
    await m.close();
    // A baseline written before the stream existed: everything in fim-baseline.json.
    const stream = path.join(state, 'fim-baseline.scan.ndjson');
    const json = JSON.parse(fs.readFileSync(path.join(state, 'fim-baseline.json'), 'utf8')) as { files: Record<string, unknown> };
    for (const l of fs.readFileSync(stream, 'utf8').trim().split('\n')) {
      const [k, v] = JSON.parse(l) as [string, unknown];
      json.files[k] = v;
    }
    fs.writeFileSync(path.join(state, 'fim-baseline.json'), JSON.stringify(json));
    fs.rmSync(stream);
    fs.writeFileSync(path.join(root, 'usr/bin/f03'), 'changed');
    const out: Record<string, unknown>[] = [];
    const m2 = monitor(root, state, out, { max_files: 12 });
    const changes = await m2.scanAll('start');
    expect(m2.stats.truncated).toBeGreaterThan(0);
    expect(changes.filter((c) => c.action === 'deleted')).toEqual([]);
    expect(changes.map((c) => c.path)).toContain('/usr/bin/f03');
    await m2.close();
    // Entries beyond the bound are kept: an unbounded scan finds nothing deleted either.
    const m3 = monitor(root, state, []);
    expect((await m3.scanAll('scan')).filter((c) => c.action === 'deleted')).toEqual([]);
    await m3.close();
  });
});
