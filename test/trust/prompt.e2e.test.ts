/**
 * Issue 14, findings 11 and "a prompt is never held hostage": the real hook in a
 * real interactive bash under a pseudo-terminal, against a receiver in its own
 * process (so it can be SIGSTOPped), measured per prompt: healthy, SIGSTOPped,
 * flooded by connections of another uid (nobody), backlog full (RETRY). And user
 * functions named exec/command/builtin must not silence the hook.
 * Needs root, setpriv and node-pty, and `npm run build` (the receiver runs from dist).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ptyModule, type Pty } from '../harness/pty';

const REPO = path.resolve(__dirname, '../..');
const HOOK = path.join(REPO, 'collectors/assets/shell/auditkit.sh');
const ZSH_HOOK = path.join(REPO, 'collectors/assets/shell/auditkit.zsh');
const hasZsh = spawnSync('zsh', ['--version']).status === 0;
const ok = process.getuid?.() === 0 && ptyModule !== undefined && fs.existsSync(path.join(REPO, 'dist/collectors/index.js')) && spawnSync('setpriv', ['--version']).status === 0;
if (!ok) console.warn('test/trust/prompt.e2e.test.ts skipped: needs root, setpriv, node-pty and npm run build');
const maybe = ok ? describe : describe.skip;

const RECEIVER = `
const { startHookReceiver } = require(${JSON.stringify(path.join(REPO, 'dist/collectors/index.js'))});
const fs = require('node:fs');
const mode = process.argv[1];
startHookReceiver((r) => { if (mode === 'full') throw new Error('full'); fs.appendFileSync(process.argv[2], r.text + '\\n'); }, { port: 0, aliveFile: process.argv[3] })
  .then((rx) => console.log('PORT ' + rx.port));
`;

maybe('the hook never holds a prompt hostage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-prompt-'));
  // The receiver's liveness stamp (the hook reads it before it connects).
  const alive = path.join(dir, 'run', 'hook.alive');
  // The hook's private scratch dir (else it makes /dev/shm/.auditkit-0, which outlives the test).
  const xdg = path.join(dir, 'xdg');
  fs.mkdirSync(xdg, { mode: 0o700 });
  fs.chmodSync(xdg, 0o700);
  const children: ChildProcess[] = [];
  const terms: Pty[] = [];
  afterAll(async () => {
    // Every shell this file opened, not only the last: a pty left open keeps jest from exiting.
    for (const t of terms) t.kill();
    for (const c of children) if (c.exitCode === null) { c.kill('SIGCONT'); c.kill('SIGKILL'); }
    // A hung-up shell still writes its history file into `dir` as it exits.
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  async function receiver(mode: string, out: string, stamp = alive): Promise<{ child: ChildProcess; port: number }> {
    const child = spawn(process.execPath, ['-e', RECEIVER, mode, out, stamp], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const port = await new Promise<number>((resolve) => child.stdout?.on('data', (d: Buffer) => { const m = /PORT (\d+)/.exec(d.toString()); if (m) resolve(Number(m[1])); }));
    return { child, port };
  }

  function shell(port: number, pre = ''): { term: Pty; screen: () => string } {
    const rc = path.join(dir, `rc-${port}`);
    fs.writeFileSync(rc, fs.readFileSync(HOOK, 'utf8').replace(/^__auditkit_port=.*$/m, `__auditkit_port=${port}`).replace(/^__auditkit_logger_socket=.*$/m, `__auditkit_logger_socket=${path.join(dir, 'nolog.sock')}`).replace(/^__auditkit_alive=.*$/m, `__auditkit_alive=${alive}`) + `\nPS1='PROMPT> '\n${pre}\n`);
    let screen = '';
    const t = (ptyModule as NonNullable<typeof ptyModule>).spawn('bash', ['--noprofile', '--rcfile', rc, '-i'], { name: 'xterm', cols: 200, rows: 50, cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, XDG_RUNTIME_DIR: xdg } });
    t.onData((d) => (screen += d));
    terms.push(t);
    return { term: t, screen: () => screen };
  }

  /** ms until the next prompt; a prompt held longer than `capMs` counts as `capMs` (the caller fails it). */
  async function promptMs(s: { term: Pty; screen: () => string }, cmd: string, capMs = 10_000): Promise<number> {
    const before = (s.screen().match(/PROMPT> /g) ?? []).length;
    const t0 = process.hrtime.bigint();
    s.term.write(cmd + '\r');
    for (;;) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if ((s.screen().match(/PROMPT> /g) ?? []).length > before || ms >= capMs) return ms;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async function median(s: { term: Pty; screen: () => string }, tag: string, n = 5): Promise<number> {
    const ts: number[] = [];
    for (let i = 0; i < n; i++) ts.push(await promptMs(s, `: ${tag}-${i}`));
    ts.sort((a, b) => a - b);
    return ts[ts.length - 1] as number; // the worst of n
  }

  it('adds at most the ack timeout + 100 ms to a prompt: healthy, SIGSTOPped, flooded, full', async () => {
    const out = path.join(dir, 'records');
    const rx = await receiver('ok', out);
    const s = shell(rx.port);
    await new Promise((r) => setTimeout(r, 1000));
    await promptMs(s, ':');
    const figures: Record<string, number> = {};
    figures['healthy'] = await median(s, 'healthy');
    const flood = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', `
      const net = require('node:net'); const held = [];
      function one() { const c = net.connect(${rx.port}, '127.0.0.1'); c.on('error', () => {}); c.on('close', () => setImmediate(one)); held.push(c); }
      for (let i = 0; i < 300; i++) one();`], { stdio: 'ignore' });
    children.push(flood);
    await new Promise((r) => setTimeout(r, 1000));
    figures['flooded'] = await median(s, 'flooded');
    flood.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    rx.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    // Right after the stop the stamp is still fresh: the hook connects, the kernel completes
    // the handshake (queue not full) and the ack wait (0.5 s) ends it; later the stamp is stale.
    figures['sigstopped'] = await median(s, 'stopped');
    // Its accept queue full (backlog 4096, somaxconn caps it): every further SYN is dropped
    // and retried for ~2 minutes; bash's /dev/tcp connect has no timeout of its own.
    const queue = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', `
      const net = require('node:net'); const held = []; let up = 0;
      for (let i = 0; i < 4300; i++) { const c = net.connect(${rx.port}, '127.0.0.1'); c.on('connect', () => { if (++up === 4097) console.log('FULL'); }); c.on('error', () => {}); held.push(c); }
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(queue);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 8_000);
      queue.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('FULL')) { clearTimeout(t); resolve(); } });
    });
    // Past the stamp's 1.5 s: a queue filled within 1.5 s of the freeze is the README's residual window.
    await new Promise((r) => setTimeout(r, Math.max(500, stoppedAt + 2_000 - Date.now())));
    figures['sigstopped_queue_full'] = await median(s, 'stopped-full');
    rx.child.kill('SIGCONT');
    rx.child.kill('SIGKILL');
    queue.kill('SIGKILL');
    // Down: the port refuses (the stamp it left is stale too).
    await new Promise((r) => setTimeout(r, 300));
    figures['down'] = await median(s, 'down');
    const full = await receiver('full', out);
    s.term.kill();
    const s2 = shell(full.port);
    await new Promise((r) => setTimeout(r, 1000));
    await promptMs(s2, ':');
    figures['full'] = await median(s2, 'full');
    full.child.kill('SIGKILL');
    console.log(`prompt delay, worst of 5 (ms): ${JSON.stringify(figures)}; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    // The bound: ack timeout (0.5 s) + 100 ms, no allowance on top. The worst of 5 at load
    // average 15-25 on the 2-CPU dev VM was 160-250 ms in the slow states (the logger fork),
    // and a held connect (today's code with the queue full) is >= 1 s (the first SYN retry).
    for (const v of Object.values(figures)) expect(v).toBeLessThan(600);
    const recs = fs.readFileSync(out, 'utf8');
    expect(recs).toContain('healthy-0');
  }, 120_000);

  // zsh's ztcp has no connect timeout either: the same liveness check in auditkit.zsh.
  (hasZsh ? it : it.skip)('zsh: adds at most the ack timeout + 100 ms with the collector SIGSTOPped and its accept queue full', async () => {
    const out = path.join(dir, 'records-zsh');
    const zalive = path.join(dir, 'run', 'zsh.alive');
    const rx = await receiver('ok', out, zalive);
    const zdot = path.join(dir, `zsh-${rx.port}`);
    fs.mkdirSync(zdot);
    const hook = fs.readFileSync(ZSH_HOOK, 'utf8')
      .replace(/^__auditkit_port=.*$/m, `__auditkit_port=${rx.port}`)
      .replace(/^__auditkit_logger_socket=.*$/m, `__auditkit_logger_socket=${path.join(dir, 'nolog.sock')}`)
      .replace(/^__auditkit_alive=.*$/m, `__auditkit_alive=${zalive}`);
    fs.writeFileSync(path.join(zdot, '.zshrc'), `${hook}\nPS1='PROMPT> '\n`);
    let screen = '';
    const t = (ptyModule as NonNullable<typeof ptyModule>).spawn('zsh', ['-i'], { name: 'xterm', cols: 200, rows: 50, cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: zdot, ZDOTDIR: zdot, TERM: 'xterm' } });
    t.onData((d) => (screen += d));
    terms.push(t);
    const s = { term: t, screen: () => screen };
    await new Promise((r) => setTimeout(r, 1000));
    await promptMs(s, ':');
    const figures: Record<string, number> = { healthy: await median(s, 'zhealthy', 3) };
    rx.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const queue = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', `
      const net = require('node:net'); const held = []; let up = 0;
      for (let i = 0; i < 4300; i++) { const c = net.connect(${rx.port}, '127.0.0.1'); c.on('connect', () => { if (++up === 4097) console.log('FULL'); }); c.on('error', () => {}); held.push(c); }
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(queue);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 8_000);
      queue.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('FULL')) { clearTimeout(timer); resolve(); } });
    });
    await new Promise((r) => setTimeout(r, Math.max(500, stoppedAt + 2_000 - Date.now())));
    figures['sigstopped_queue_full'] = await median(s, 'zstopped-full', 3);
    rx.child.kill('SIGCONT');
    rx.child.kill('SIGKILL');
    queue.kill('SIGKILL');
    console.log(`zsh prompt delay, worst of 3 (ms): ${JSON.stringify(figures)}; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const v of Object.values(figures)) expect(v).toBeLessThan(600);
    expect(fs.readFileSync(out, 'utf8')).toContain('zhealthy-0');
  }, 90_000);

  it('records commands even when the user defines functions named exec, command and builtin, and says so', async () => {
    const out = path.join(dir, 'records-tamper');
    const rx = await receiver('ok', out);
    const s = shell(rx.port, 'exec() { :; }; command() { :; }; builtin() { :; }');
    await new Promise((r) => setTimeout(r, 1000));
    await promptMs(s, ':');
    await promptMs(s, 'echo after-tamper');
    for (let i = 0; i < 100 && !(fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('after-tamper')); i++) await new Promise((r) => setTimeout(r, 50));
    const line = fs.readFileSync(out, 'utf8').split('\n').find((l) => l.includes('after-tamper')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ cmd: 'echo after-tamper' });
    expect(fs.readFileSync(out, 'utf8')).toMatch(/"shadowed":"exec command builtin"/);
  }, 60_000);
});
