/**
 * The zsh hook (collectors/assets/shell/auditkit.zsh) in a real interactive zsh
 * under a pseudo-terminal: records arrive at the collector's receiver and parse
 * into the same events as bash's. Needs zsh (CI: apt-get install zsh) and node-pty.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertValidDocument, getField, type AuditkitEvent } from '../../schema';
import { parserByKind } from '../../collectors';
import type { RawRecord } from '../../collectors';
import { startHookReceiver, type HookReceiver } from '../../collectors';
import { ptyModule, typeLine, type Pty } from '../harness/pty';

const HOOK = path.resolve(__dirname, '../../collectors/assets/shell/auditkit.zsh');

let zsh = '';
try {
  zsh = execFileSync('sh', ['-c', 'command -v zsh']).toString().trim();
} catch {
  zsh = '';
}
const missing = [!zsh ? 'zsh' : '', !ptyModule ? 'node-pty' : ''].filter(Boolean);
if (missing.length) console.warn(`zsh hook end-to-end test skipped: missing ${missing.join(', ')} (CI: apt-get install zsh)`);
const maybe = missing.length ? describe.skip : describe;

maybe('the shell hook in a real interactive zsh', () => {
  const records: RawRecord[] = [];
  let receiver: HookReceiver;
  let dir: string;
  let term: Pty;
  let screen = '';

  const events = (): AuditkitEvent[] => {
    const p = parserByKind('hook')!.create({ host: { name: os.hostname(), hostname: os.hostname(), id: 'e2e-host' }, agent: { type: 'auditkit' }, namespace: 'default', now: () => Date.now() });
    return records.flatMap((r) => p.push(r)).flatMap((o) => (o.kind === 'event' ? [o.doc] : []));
  };
  /** Type a command line and wait until its record arrived. */
  const run = (cmd: string): Promise<AuditkitEvent> => typeLine(term, cmd, () => events().find((x) => getField(x, 'process.command_line') === cmd), () => screen);

  beforeAll(async () => {
    receiver = await startHookReceiver((r) => {
      records.push(r);
    }, { port: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-zsh-e2e-'));
    const hook = fs.readFileSync(HOOK, 'utf8').replace(/^__auditkit_port=.*$/m, `__auditkit_port=${receiver.port}`);
    fs.writeFileSync(path.join(dir, '.zshrc'), `${hook}\nPS1='%# '\n`);
    term = ptyModule!.spawn(zsh, ['-i'], {
      name: 'xterm', cols: 200, rows: 50, cwd: '/tmp',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, ZDOTDIR: dir, LANG: 'C.UTF-8', TERM: 'xterm', SSH_CONNECTION: '10.9.8.6 40022 10.0.0.21 22' },
    });
    term.onData((d) => (screen += d));
    await new Promise((r) => setTimeout(r, 500));
  });

  afterAll(async () => {
    try {
      term.kill();
    } catch {
      /* gone */
    }
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records the command as typed, its status, directory, terminal and client address', async () => {
    const cd = await run('cd /usr');
    const fail = await run('false');
    const multi = await run('for i in 1 2; do\necho "n=$i"\ndone');
    const chinese = await run(`echo "你好" 'it''s "q"'`);
    term.write('exit\r');
    for (const e of [cd, fail, multi, chinese]) {
      assertValidDocument(e);
      expect(getField(e, 'user.id')).toBe(String(process.getuid?.()));
      expect(getField(e, 'auditkit.shell.name')).toBe('zsh');
      expect(getField(e, 'auditkit.tty')).toMatch(/^pts\/\d+$/);
      expect(getField(e, 'source.ip')).toBe('10.9.8.6');
      expect(getField(e, 'source.port')).toBe(40022);
      expect(e.tags ?? []).not.toContain('auditkit_sender_uid_mismatch');
    }
    expect(getField(cd, 'process.working_directory')).toBe('/usr');
    expect(getField(fail, 'process.exit_code')).toBe(1);
    expect(getField(multi, 'process.command_line')).toBe('for i in 1 2; do\necho "n=$i"\ndone');
    expect(getField(chinese, 'process.working_directory')).toBe('/usr');
    expect([cd, fail, multi, chinese].map((e) => getField(e, 'auditkit.session.seq'))).toEqual([1, 2, 3, 4]);
  }, 60_000);
});
