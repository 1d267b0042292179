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

type Session = { run(cmd: string): Promise<AuditkitEvent>; events(): AuditkitEvent[]; screen(): string; close(): Promise<void> };

/**
 * A receiver on a free port and an interactive zsh under a pty whose ~/.zshrc is the hook
 * followed by `zshrc` (the user's own rc, read after the hook as /etc/zsh/zshrc is) and whose
 * ~/.zshenv is `zshenv` (read before the hook).
 */
async function zshSession(zshrc = '', zshenv = ''): Promise<Session> {
  const records: RawRecord[] = [];
  const receiver: HookReceiver = await startHookReceiver((r) => {
    records.push(r);
  }, { port: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-zsh-e2e-'));
  let term: Pty | undefined;
  let screen = '';
  const close = async (): Promise<void> => {
    try {
      term?.kill();
    } catch {
      /* gone */
    }
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const hook = fs.readFileSync(HOOK, 'utf8').replace(/^__auditkit_port=.*$/m, `__auditkit_port=${receiver.port}`);
    fs.writeFileSync(path.join(dir, '.zshrc'), `${hook}\nPS1='%# '\n${zshrc}\n`);
    if (zshenv) fs.writeFileSync(path.join(dir, '.zshenv'), `${zshenv}\n`);
    term = ptyModule!.spawn(zsh, ['-i'], {
      name: 'xterm', cols: 200, rows: 50, cwd: '/tmp',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, ZDOTDIR: dir, LANG: 'C.UTF-8', TERM: 'xterm', SSH_CONNECTION: '10.9.8.6 40022 10.0.0.21 22' },
    });
    term.onData((d) => (screen += d));
    await new Promise((r) => setTimeout(r, 500));
  } catch (e) {
    await close();
    throw e;
  }
  const t = term;
  const events = (): AuditkitEvent[] => {
    const p = parserByKind('hook')!.create({ host: { name: os.hostname(), hostname: os.hostname(), id: 'e2e-host' }, agent: { type: 'auditkit' }, namespace: 'default', now: () => Date.now() });
    return records.flatMap((r) => p.push(r)).flatMap((o) => (o.kind === 'event' ? [o.doc] : []));
  };
  return {
    screen: () => screen,
    events,
    close,
    /** Type a command line and wait until its record arrived. */
    run: (cmd: string): Promise<AuditkitEvent> => typeLine(t, cmd, () => events().find((x) => getField(x, 'process.command_line') === cmd), () => screen),
  };
}

maybe('the shell hook in a real interactive zsh', () => {
  let s: Session;
  beforeAll(async () => {
    s = await zshSession();
  });
  afterAll(async () => {
    await s.close();
  });

  it('says the shell started at its first prompt, before any command, with the login\'s address', async () => {
    let started: AuditkitEvent[] = [];
    for (let i = 0; i < 100 && started.length === 0; i++) {
      started = s.events().filter((e) => getField(e, 'event.action') === 'shell-started');
      if (started.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(started).toHaveLength(1);
    const e = started[0] as AuditkitEvent;
    assertValidDocument(e);
    expect(getField(e, 'process.command_line')).toBeUndefined();
    expect(getField(e, 'auditkit.session.seq')).toBe(0);
    expect(getField(e, 'auditkit.shell.name')).toBe('zsh');
    expect(getField(e, 'process.working_directory')).toBe('/tmp');
    expect(getField(e, 'source.ip')).toBe('10.9.8.6');
    expect(s.events()).toHaveLength(1);
  }, 30_000);

  it('records the command as typed, its status, directory, terminal and client address', async () => {
    const cd = await s.run('cd /usr');
    const fail = await s.run('false');
    const multi = await s.run('for i in 1 2; do\necho "n=$i"\ndone');
    const chinese = await s.run(`echo "你好" 'it''s "q"'`);
    for (const e of [cd, fail, multi, chinese]) {
      assertValidDocument(e);
      expect(getField(e, 'user.id')).toBe(String(process.getuid?.()));
      expect(getField(e, 'auditkit.shell.name')).toBe('zsh');
      expect(getField(e, 'auditkit.tty')).toMatch(/^pts\/\d+$/);
      expect(getField(e, 'source.ip')).toBe('10.9.8.6');
      expect(getField(e, 'source.port')).toBe(40022);
      expect(e.tags ?? []).not.toContain('auditkit_sender_uid_mismatch');
      expect(e.tags ?? []).not.toContain('auditkit_hook_tampered');
    }
    expect(getField(cd, 'process.working_directory')).toBe('/usr');
    expect(getField(fail, 'process.exit_code')).toBe(1);
    expect(getField(multi, 'process.command_line')).toBe('for i in 1 2; do\necho "n=$i"\ndone');
    expect(getField(chinese, 'process.working_directory')).toBe('/usr');
    expect([cd, fail, multi, chinese].map((e) => getField(e, 'auditkit.session.seq'))).toEqual([1, 2, 3, 4]);
  }, 60_000);
});

/** Every command the zsh hook runs, in the order it reports them (auditkit.zsh, __auditkit_unshadow). */
const SHADOWED = ['builtin', 'command', 'exec', 'emulate', 'print', 'printf', 'read', 'return', 'ztcp', 'zmodload', 'unset', 'getent', 'logname', 'logger', 'local', 'typeset', ':'];

describe('the zsh hook\'s list of commands it guards', () => {
  it('names the same commands in its quick check as in its loop, and they are the ones the shadowing test defines', () => {
    const unshadow = /^__auditkit_unshadow\(\) \{\n([\s\S]*?)\n\}/m.exec(fs.readFileSync(HOOK, 'utf8'))?.[1] ?? '';
    const quick = [...unshadow.matchAll(/\$\{\+functions\[([^\]$]+)\]\}/g)].map((m) => m[1]);
    const loop = (/for __auditkit_n in ([^;]+);/.exec(unshadow)?.[1] ?? '').replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean);
    expect(loop).toEqual(SHADOWED);
    expect(quick).toEqual(SHADOWED);
  });
});

maybe('the zsh hook when the user shadows the commands it runs (issue 14, finding 11)', () => {
  let s: Session;
  beforeAll(async () => {
    // ~/.zshenv is read before the hook: functions and an alias there meet the hook as it loads;
    // ~/.zshrc (after it) defines a function for every other command the hook runs.
    // `function NAME {` as the user must write it where NAME is also an alias (never alias-expanded).
    const fn = (n: string): string => `function ${n} { echo "user-${n}:$*"; }`;
    const early = ['zmodload', 'emulate', 'return'];
    s = await zshSession(
      // Options of the user's that change what plain code means (the hook's preexec runs under them).
      [...SHADOWED.filter((n) => !early.includes(n)).map(fn), `alias ll='echo via-alias-ll'`, 'setopt ksh_arrays sh_word_split no_unset err_return'].join('\n'),
      // and the user's own precmd functions, under KSH_ARRAYS, which the hook must keep (both of them).
      [...early.map(fn), `alias ztcp='echo aliased-ztcp'`, `alias print='echo aliased-print'`, 'setopt ksh_arrays', 'function mark_a { echo pre-a; }; function mark_b { echo pre-b; }; precmd_functions=(mark_a mark_b)'].join('\n'),
    );
  });
  afterAll(async () => {
    await s.close();
  });

  it('still records every command with its fields, names the shadowing functions, and gives them back to the user', async () => {
    const cd = await s.run('cd /usr');
    const fail = await s.run('false');
    const own = await s.run('printf restored');
    const alias = await s.run('ll');
    const evs = [cd, fail, own, alias];
    for (const e of evs) {
      assertValidDocument(e);
      expect(getField(e, 'user.id')).toBe(String(process.getuid?.()));
      expect(getField(e, 'auditkit.shell.name')).toBe('zsh');
      expect(getField(e, 'process.working_directory')).toBe('/usr');
      expect(getField(e, 'source.ip')).toBe('10.9.8.6');
      expect(getField(e, 'auditkit.shell.shadowed')).toEqual(SHADOWED);
      expect(e.tags ?? []).toContain('auditkit_hook_tampered');
      expect(e.tags ?? []).not.toContain('auditkit_sender_uid_mismatch');
      expect(Math.abs(Date.parse(String(getField(e, '@timestamp'))) - Date.now())).toBeLessThan(60_000);
    }
    expect(evs.map((e) => getField(e, 'process.exit_code'))).toEqual([0, 1, 0, 0]);
    expect(evs.map((e) => getField(e, 'auditkit.session.seq'))).toEqual([1, 2, 3, 4]);
    // The user's shell behaves as they wrote it: their function and their alias ran.
    expect(s.screen()).toContain('user-printf:restored');
    expect(s.screen()).toContain('via-alias-ll');
    expect(s.screen()).toContain('pre-b');
  }, 60_000);
});

maybe('the zsh hook when the user makes the function tables read-only', () => {
  let s: Session;
  beforeAll(async () => {
    s = await zshSession('typeset -r dis_functions');
  });
  afterAll(async () => {
    await s.close();
  });

  it('still records the command, and says it could not guard it (an assignment to a read-only hash would abort the hook)', async () => {
    const e = await s.run('echo guarded-not');
    assertValidDocument(e);
    expect(getField(e, 'auditkit.shell.shadowed')).toEqual(['functions']);
    expect(e.tags ?? []).toContain('auditkit_hook_tampered');
    expect(getField(e, 'auditkit.session.seq')).toBe(1);
  }, 60_000);
});
