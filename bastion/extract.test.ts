/**
 * Command extraction against real shells: bash (and zsh when installed) run under node-pty as
 * the "target"; a harness plays keystrokes and feeds both directions into the extractor exactly
 * as the proxy does: each input chunk is handed to `input()` and awaited BEFORE it is forwarded
 * to the target (the guard rail's order), and every output chunk goes to `output()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as pty from 'node-pty';
import fc from 'fast-check';
import { createCommandExtractor, InputLexer, type CommandExtractor, type ExtractedCommand } from './extract';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const has = (bin: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const ENTER = '\r';
const TAB = '\t';
const UP = '\x1b[A';
const LEFT = '\x1b[D';
const BS = '\x7f';
const CTRL_U = '\x15';
const CTRL_C = '\x03';
const CTRL_R = '\x12';
const ESC = '\x1b';

interface SessionOptions {
  readonly shell?: 'bash' | 'zsh';
  readonly cols?: number;
  readonly rows?: number;
  readonly ps1?: string;
  readonly cwd?: string;
}

/** A shell in a pty, wired to an extractor the way the bastion proxy wires it. */
class Session {
  readonly commands: ExtractedCommand[] = [];
  private lastOutput = Date.now();
  private raw = '';
  private constructor(
    readonly ext: CommandExtractor,
    private readonly p: pty.IPty,
  ) {}

  static async start(home: string, o: SessionOptions = {}): Promise<Session> {
    const cols = o.cols ?? 80;
    const rows = o.rows ?? 24;
    const shell = o.shell ?? 'bash';
    const args = shell === 'bash' ? ['--norc', '--noprofile', '-i'] : ['-f', '-i'];
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TERM: 'xterm-256color', HISTFILE: path.join(home, '.hist'), LANG: 'C.UTF-8' };
    if (shell === 'bash') env['PS1'] = o.ps1 ?? 'test$ ';
    else env['PROMPT'] = o.ps1 ?? 'test% ';
    // encoding null: the target's bytes arrive as Buffers, as they do from an ssh2 channel.
    const p = pty.spawn(shell, args, { name: 'xterm-256color', cols, rows, cwd: o.cwd ?? home, env, encoding: null });
    const s = new Session(createCommandExtractor({ cols, rows }), p);
    p.onData((d: string | Buffer) => {
      const b = Buffer.isBuffer(d) ? d : Buffer.from(d, 'utf8');
      s.raw += b.toString('utf8');
      s.lastOutput = Date.now();
      s.ext.output(b, Date.now());
    });
    await s.quiet(300, 5000);
    return s;
  }

  /** Waits until the target has printed nothing for `ms` (at most `max`). */
  async quiet(ms = 120, max = 3000): Promise<void> {
    const until = Date.now() + max;
    await sleep(ms);
    while (Date.now() - this.lastOutput < ms && Date.now() < until) await sleep(20);
  }

  /** One chunk, as the proxy handles it: extract (await), then forward. */
  async send(chunk: string): Promise<void> {
    this.commands.push(...(await this.ext.input(Buffer.from(chunk, 'utf8'), Date.now())));
    this.p.write(chunk);
  }

  /** Plays keys: plain text one character at a time, escape sequences and controls as one key each. */
  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) {
      const parts = k.startsWith(ESC) || k.length === 1 ? [k] : Array.from(k);
      for (const part of parts) {
        await this.send(part);
        await sleep(part === ENTER ? 0 : 15);
        if (part === ENTER || part === TAB) await this.quiet(part === ENTER ? 150 : 120);
      }
    }
  }

  /** A line typed and run. */
  async run(line: string): Promise<void> {
    await this.keys(line, ENTER);
  }

  texts(): string[] {
    return this.commands.map((c) => c.command);
  }

  output(): string {
    return this.raw;
  }

  close(): void {
    this.ext.dispose();
    this.p.kill();
  }
}

let home: string;
beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'ak-extract-'));
  mkdirSync(path.join(home, 'dir', 'sub'), { recursive: true });
  writeFileSync(path.join(home, 'dir', 'uniquely-named-file.txt'), 'x\n');
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('command extraction from a real bash', () => {
  let s: Session;
  beforeEach(async () => {
    s = await Session.start(home);
  });
  afterEach(() => s.close());

  test('a plain typed command is read from the echoed line, as a line', async () => {
    await s.run('echo hello world');
    expect(s.commands).toEqual([{ command: 'echo hello world', at: expect.any(Number), kind: 'line' }]);
  });

  test('tab completion gives the completed command, not the keys typed', async () => {
    await s.keys('cat dir/uniq', TAB, ENTER);
    await s.keys('ech', TAB, 'hi', ENTER); // completion adds the space
    expect(s.texts()).toEqual(['cat dir/uniquely-named-file.txt', 'echo hi']);
  });

  test('arrow-up history recall, then an edit, gives the edited recalled line', async () => {
    await s.run('echo first');
    await s.keys(UP, BS, BS, BS, BS, BS, 'second', ENTER);
    await s.keys(UP, LEFT, LEFT, LEFT, 'X', ENTER);
    expect(s.texts()).toEqual(['echo first', 'echo second', 'echo secXond']);
  });

  test('backspace and Ctrl-U edits give the line that ran', async () => {
    await s.keys('echo wrongg', BS, CTRL_U, 'echo rightt', BS, ENTER);
    expect(s.texts()).toEqual(['echo right']);
  });

  test('a line abandoned with Ctrl-C is not a command', async () => {
    await s.keys('rm -rf /tmp/not-this', CTRL_C);
    await s.quiet();
    await s.run('echo after');
    expect(s.texts()).toEqual(['echo after']);
    expect(s.ext.stats().abandoned).toBe(1);
  });

  test('Ctrl-R reverse search gives the command found, not the search prompt', async () => {
    await s.run('echo needle-one');
    await s.run('echo other');
    await s.keys(CTRL_R, 'needle', ENTER);
    expect(s.texts()).toEqual(['echo needle-one', 'echo other', 'echo needle-one']);
  });

  test('a multi-line paste (no bracketed paste) is split into one command per line', async () => {
    await s.send('echo a1\recho a2 && echo x\recho a3\r');
    await s.quiet(200);
    expect(s.commands.map((c) => [c.command, c.kind])).toEqual([
      ['echo a1', 'paste-line'],
      ['echo a2 && echo x', 'paste-line'],
      ['echo a3', 'paste-line'],
    ]);
    expect(s.output()).toContain('a3');
  });

  test('a bracketed paste of three lines, run with Enter, gives three commands', async () => {
    await s.send('\x1b[200~echo b1\recho b2\recho b3\x1b[201~');
    await s.quiet(200);
    expect(s.commands).toEqual([]);
    await s.keys(ENTER);
    expect(s.texts()).toEqual(['echo b1', 'echo b2', 'echo b3']);
    expect(s.output()).toMatch(/b1\r\nb2\r\nb3/);
  });

  test('keystrokes inside vim are not commands; the vim line is', async () => {
    await s.run('vim -u NONE -N dir/edited.txt');
    await s.quiet(300);
    await s.keys('ihello', ESC);
    await s.keys(':q!', ENTER);
    await s.quiet(300);
    await s.run('echo back');
    expect(s.texts()).toEqual(['vim -u NONE -N dir/edited.txt', 'echo back']);
    expect(s.ext.stats().skippedFullScreen).toBeGreaterThan(0);
  });

  test('a secret typed at an echo-off password prompt is never a command', async () => {
    await s.run("read -s -p 'password: ' x");
    await s.keys('s3cret-typed', ENTER);
    await s.run("read -s -p 'password: ' z");
    await s.send('s3cret-pasted\r'); // pasted, in the same chunk as its Enter
    await s.quiet();
    // At a prompt that does not say "password", the missing echo alone keeps it out.
    await s.run("read -s -p 'enter it> ' y");
    await s.keys('hunter2', ENTER);
    await s.run('echo "${#x}${#z}${#y}"');
    expect(s.texts()).toEqual(["read -s -p 'password: ' x", "read -s -p 'password: ' z", "read -s -p 'enter it> ' y", 'echo "${#x}${#z}${#y}"']);
    expect(s.output()).toContain('12137');
    expect(JSON.stringify(s.commands)).not.toMatch(/s3cret|hunter2/);
  });

  test('a long command that wraps over several rows is read whole', async () => {
    s.close();
    s = await Session.start(home, { cols: 40, rows: 10 });
    const long = `echo ${'abcdefghij'.repeat(12)} end`;
    await s.run(long);
    expect(s.texts()).toEqual([long]);
  });

  test('a prompt that changes with the working directory is stripped each time', async () => {
    s.close();
    s = await Session.start(home, { ps1: '[\\u@\\h \\w]\\$ ' });
    await s.run('cd dir');
    await s.run('echo in dir');
    await s.run('cd sub');
    await s.keys('ls -la', ENTER);
    expect(s.texts()).toEqual(['cd dir', 'echo in dir', 'cd sub', 'ls -la']);
  });

  test('a command typed while the previous one still runs (type-ahead) is still found', async () => {
    await s.run('echo one');
    await s.send('sleep 0.4\r');
    await sleep(50);
    await s.keys('echo ahead', ENTER);
    await s.quiet(600);
    expect(s.texts()).toEqual(['echo one', 'sleep 0.4', 'echo ahead']);
  });
});

const zsh = has('zsh') ? describe : describe.skip;
zsh('command extraction from a real zsh', () => {
  let s: Session;
  beforeEach(async () => {
    s = await Session.start(home, { shell: 'zsh' });
  });
  afterEach(() => s.close());

  test('plain, tab-completed, recalled-and-edited and Ctrl-C lines', async () => {
    await s.run('echo hello');
    await s.keys('cat dir/uniq', TAB, ENTER);
    await s.keys(UP, UP, BS, BS, BS, BS, BS, 'other', ENTER);
    await s.keys('rm -rf /nope', CTRL_C);
    await s.quiet();
    expect(s.texts()).toEqual(['echo hello', 'cat dir/uniquely-named-file.txt', 'echo other']);
  });

  test('a long command that zsh wraps by hand is read whole', async () => {
    s.close();
    s = await Session.start(home, { shell: 'zsh', cols: 40, rows: 10 });
    const long = `echo ${'abcdefghij'.repeat(9)} end`;
    await s.run(long);
    expect(s.texts()).toEqual([long]);
  });

  test('a bracketed paste and vim', async () => {
    await s.send('\x1b[200~echo z1\recho z2\x1b[201~');
    await s.quiet(200);
    await s.keys(ENTER);
    await s.run('vim -u NONE -N dir/z.txt');
    await s.quiet(300);
    await s.keys('ihello', ESC, ':q!', ENTER);
    await s.quiet(300);
    expect(s.texts()).toEqual(['echo z1', 'echo z2', 'vim -u NONE -N dir/z.txt']);
  });
});

/** A scripted target: the test writes what the shell would echo. */
function scripted(cols = 80, rows = 24, o: { echoWaitMs?: number; maxCommandLength?: number; maxPendingBytes?: number } = {}) {
  const ext = createCommandExtractor({ cols, rows, ...o });
  return {
    ext,
    out: (s: string) => ext.output(Buffer.from(s, 'utf8'), Date.now()),
    in: (s: string, at = 1) => ext.input(Buffer.from(s, 'utf8'), at),
  };
}

describe('command extraction against a scripted screen', () => {
  test('the command carries the time of its Enter', async () => {
    const t = scripted();
    t.out('$ ');
    await t.in('l', 10);
    t.out('l');
    await t.in('s', 20);
    t.out('s');
    expect(await t.in('\r', 30)).toEqual([{ command: 'ls', at: 30, kind: 'line' }]);
    t.ext.dispose();
  });

  test('an echo still in flight at Enter is completed from the typed keys (paste-line)', async () => {
    const t = scripted();
    t.out('$ ');
    await t.in('l');
    t.out('l');
    await t.in('s'); // its echo has not arrived
    expect(await t.in('\r')).toEqual([{ command: 'ls', at: 1, kind: 'paste-line' }]);
    t.ext.dispose();
  });

  test('typed keys that never echo are not a command, after the echo wait', async () => {
    const t = scripted(80, 24, { echoWaitMs: 50 });
    t.out('Enter code> ');
    await t.in('9');
    await t.in('9');
    const t0 = Date.now();
    expect(await t.in('\r')).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(t.ext.stats().skippedNoEcho).toBe(1);
    t.ext.dispose();
  });

  test('an echo that arrives during the wait makes it a command', async () => {
    const t = scripted(80, 24, { echoWaitMs: 2000 });
    t.out('$ ');
    await t.in('i');
    await t.in('d');
    const p = t.in('\r');
    setTimeout(() => t.out('id'), 30);
    expect(await p).toEqual([{ command: 'id', at: 1, kind: 'line' }]);
    t.ext.dispose();
  });

  test('after a history recall, keys whose echo is still in flight at Enter are waited for', async () => {
    const t = scripted(80, 24, { echoWaitMs: 2000 });
    t.out('$ ');
    await t.in('\x1b[A'); // Up: the shell redraws the recalled line
    t.out('echo hello');
    for (let i = 0; i < 5; i++) {
      await t.in('\x7f');
      t.out('\b \b');
    }
    for (const c of 'othe') {
      await t.in(c);
      t.out(c);
    }
    await t.in('r'); // its echo is still on its way back from a busy target
    const p = t.in('\r');
    setTimeout(() => t.out('r'), 30);
    expect(await p).toEqual([{ command: 'echo other', at: 1, kind: 'line' }]);
    t.ext.dispose();
  });

  test('output that arrives after an input is not read for that input', async () => {
    const t = scripted();
    t.out('$ ');
    await t.in('e');
    t.out('echo a'); // the echo, and what completion added
    const p = t.in('\r');
    t.out('\r\na\r\n$ rm -rf /'); // the next prompt and junk, received after the Enter
    expect((await p).map((c) => c.command)).toEqual(['echo a']);
    t.ext.dispose();
  });

  test('secret prompts of sudo, ssh and OTP are recognised', async () => {
    for (const prompt of ['[sudo] password for alice: ', "Enter passphrase for key '/home/a/.ssh/id_ed25519': ", 'Verification code: ', 'Password:']) {
      const t = scripted();
      t.out(prompt);
      expect(await t.in('hunter2\r')).toEqual([]);
      expect(t.ext.stats().skippedPasswordPrompt).toBe(1);
      t.ext.dispose();
    }
  });

  test('a command longer than the cap is cut and flagged', async () => {
    const t = scripted(80, 24, { maxCommandLength: 100 });
    t.out('$ ');
    const [c] = await t.in(`echo ${'x'.repeat(500)}\r`);
    expect(c?.command.length).toBe(100);
    expect(c?.truncated).toBe(true);
    t.ext.dispose();
  });

  test('a full-screen program (alternate screen) swallows Enter', async () => {
    const t = scripted();
    t.out('$ less f\r\n\x1b[?1049h');
    expect(await t.in('/foo\r')).toEqual([]);
    t.out('\x1b[?1049l$ ');
    expect((await t.in('id\r')).map((c) => c.command)).toEqual(['id']);
    t.ext.dispose();
  });

  test('dispose settles pending inputs with no commands', async () => {
    const t = scripted(80, 24, { echoWaitMs: 10_000 });
    t.out('$ ');
    await t.in('x');
    const p = t.in('\r');
    const q = t.in('y');
    t.ext.dispose();
    expect(await p).toEqual([]);
    expect(await q).toEqual([]);
  });
});

describe('the input lexer', () => {
  test('escape sequences and a bracketed paste split over chunks are still whole', () => {
    const lx = new InputLexer();
    const toks = [...lx.feed('ab\x1b['), ...lx.feed('A\x1b[20'), ...lx.feed('0~x\ry\x1b[2'), ...lx.feed('01~\r')];
    expect(toks.map((t) => t.t)).toEqual(['text', 'key', 'paste-start', 'paste', 'paste-end', 'enter']);
  });

  test('CRLF is one Enter', () => {
    expect(new InputLexer().feed('a\r\nb\n').filter((t) => t.t === 'enter')).toHaveLength(2);
  });
});

describe('robustness (property-based)', () => {
  test('arbitrary bytes in both directions never throw, and commands never exceed the cap', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ dir: fc.constantFrom('in', 'out'), bytes: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 40 }),
        fc.integer({ min: 2, max: 200 }),
        fc.integer({ min: 1, max: 60 }),
        async (chunks, cols, rows) => {
          const ext = createCommandExtractor({ cols, rows, maxCommandLength: 64, echoWaitMs: 0 });
          const all: ExtractedCommand[] = [];
          for (const c of chunks) {
            if (c.dir === 'out') ext.output(Buffer.from(c.bytes), 0);
            else all.push(...(await ext.input(Buffer.from(c.bytes), 0)));
          }
          ext.dispose();
          for (const c of all) {
            expect(c.command.length).toBeLessThanOrEqual(64);
            expect(c.command).not.toMatch(/[\x00-\x1f\x7f]/);
          }
          expect(ext.stats().faults).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('terminal-like streams (prompts, escapes, pastes, Enters) never throw', async () => {
    const piece = fc.constantFrom('$ ', 'ls', '\r', '\n', '\x1b[A', '\x1b[200~', '\x1b[201~', '\x1b[?1049h', '\x1b[?1049l', '\x1b[2J', '\x7f', '\x15', '\x03', '\t', 'é', '日本', '\x1b', 'password: ', '\x1b[?2004h');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.array(piece, { maxLength: 8 })), { maxLength: 40 }), async (steps) => {
        const ext = createCommandExtractor({ cols: 20, rows: 5, maxCommandLength: 50, echoWaitMs: 0 });
        for (const [isIn, ps] of steps) {
          const b = Buffer.from(ps.join(''), 'utf8');
          if (isIn) for (const c of await ext.input(b, 0)) expect(c.command.length).toBeLessThanOrEqual(50);
          else ext.output(b, 0);
        }
        ext.dispose();
        expect(ext.stats().faults).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  test('output not yet parsed and input not yet read are capped, not buffered', async () => {
    const ext = createCommandExtractor({ cols: 80, rows: 24, maxPendingBytes: 64 * 1024, echoWaitMs: 10_000 });
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    for (let i = 0; i < 64; i++) ext.output(chunk, 0); // 1 MiB in one tick, nothing parsed yet
    expect(ext.stats().droppedOutputBytes).toBeGreaterThanOrEqual(1024 * 1024 - 64 * 1024);
    ext.dispose();
  });

  test('an alternate-screen exit inside dropped output is still applied', async () => {
    const ext = createCommandExtractor({ cols: 80, rows: 24, maxPendingBytes: 4096 });
    ext.output(Buffer.from('$ vim\r\n\x1b[?1049h'), 0);
    ext.output(Buffer.concat([Buffer.alloc(8192, 0x61), Buffer.from('\x1b[?1049l\r\n$ ')]), 0); // dropped: over the cap
    expect(ext.stats().droppedOutputBytes).toBeGreaterThan(0);
    ext.output(Buffer.from('\r\n$ '), 0);
    await ext.input(Buffer.from('i'), 0);
    ext.output(Buffer.from('i'), 0);
    await ext.input(Buffer.from('d'), 0);
    ext.output(Buffer.from('d'), 0);
    expect((await ext.input(Buffer.from('\r'), 0)).map((c) => c.command)).toEqual(['id']);
    ext.dispose();
  });

  test('input held behind an echo wait is capped, not buffered', async () => {
    const ext = createCommandExtractor({ cols: 80, rows: 24, maxPendingBytes: 64 * 1024, echoWaitMs: 10_000 });
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    // An input waiting for its echo holds later input back; beyond the cap it is dropped.
    ext.output(Buffer.from('\r\n$ '), 0);
    await ext.input(Buffer.from('x'), 0);
    const waiting = ext.input(Buffer.from('\r'), 0);
    const later: Promise<readonly ExtractedCommand[]>[] = [];
    for (let i = 0; i < 8; i++) later.push(ext.input(chunk, 0));
    expect(ext.stats().droppedInputBytes).toBeGreaterThan(0);
    ext.dispose();
    await Promise.all([waiting, ...later]);
  });

  test('heap stays flat over 16 MiB of output through one session', async () => {
    const ext = createCommandExtractor({ cols: 120, rows: 40 });
    const line = Buffer.from(`${'lorem ipsum dolor sit amet '.repeat(4)}\x1b[31mred\x1b[0m\r\n`);
    const chunk = Buffer.concat(Array.from({ length: 256 }, () => line));
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let sent = 0;
    const t0 = performance.now();
    while (sent < 16 * 1024 * 1024) {
      ext.output(chunk, 0);
      sent += chunk.length;
      // Like a proxy reading the stream: an input now and then waits for the parse to catch up.
      if ((sent / chunk.length) % 16 === 0) await ext.input(Buffer.from('x'), 0);
    }
    await ext.input(Buffer.from('\x03'), 0);
    const ms = performance.now() - t0;
    global.gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    ext.dispose();
    process.stdout.write(`extract: 16 MiB of output parsed in ${ms.toFixed(0)} ms (${((16 * 1000) / ms).toFixed(1)} MiB/s), heap grew ${(grown / 1e6).toFixed(1)} MB, dropped ${ext.stats().droppedOutputBytes} B\n`);
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('echo forms of a shell erasing a character', () => {
  // readline erases with "\b \b" on some terminals (TERM=xterm over ssh): the erased cell then
  // holds a real space, which must not make the screen disagree with the exact line model.
  it.each([['\b \b'], ['\b\x1b[K']])('backspace echoed as %j, then text and Enter in one chunk', async (erase) => {
    const x = createCommandExtractor({ cols: 120, rows: 40 });
    try {
      const out = (s: string): void => x.output(Buffer.from(s), Date.now());
      out('\x1b[?2004hroot@vm:~# ');
      await x.input(Buffer.from('echo abX'), Date.now());
      out('echo abX');
      await x.input(Buffer.from(BS), Date.now());
      out(erase);
      await sleep(20);
      expect((await x.input(Buffer.from(`c-edit${ENTER}`), Date.now())).map((c) => c.command)).toEqual(['echo abc-edit']);
    } finally {
      x.dispose();
    }
  });
});
