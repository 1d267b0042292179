/**
 * Commands from an interactive terminal stream, the way the shell really ran them.
 *
 * The target's output feeds a headless VT emulator (@xterm/headless). At the first keystroke of
 * a line, the text left of the cursor is taken as the prompt; at Enter, the logical line under
 * the cursor (wrapped rows joined) is read and the prompt stripped (koko's approach). Because the
 * screen shows what the shell echoed, tab completion, history recall, Ctrl-R and line editing
 * give the command that ran, not the keys that were pressed. Keystrokes are also kept as a small
 * model of the line (printable text, backspace, Ctrl-U, Ctrl-W), used only to fill in an echo
 * that has not arrived yet, and for the lines of a paste, which the target has not seen yet.
 *
 * Invariants:
 * - Order. Every input() is read against the screen as it was when input() was called: output
 *   that arrives after an input() is held back (queued, bounded) until that input has been read.
 *   xterm parses writes asynchronously, so input() returns a Promise; it settles once the output
 *   received before it has been parsed. Calls settle in call order.
 * - Never throws on any bytes, in either direction; a fault in one chunk resets the line.
 * - Never records what was not echoed: a line whose typed text never appeared on the screen
 *   (echo off: passwords) is dropped, and so is any line at a password-looking prompt.
 * - Bounded: commands are cut at `maxCommandLength`; the emulator keeps `rows` plus enough
 *   scrollback for one command of that length; output not yet parsed and input not yet read are
 *   capped (`maxPendingBytes` each): beyond, data is dropped and counted, never buffered.
 */
import { Terminal, type IBuffer, type IMarker } from '@xterm/headless';

export interface ExtractedCommand {
  readonly command: string;
  /** ms epoch of the Enter (the `at` of the input chunk that held it). */
  readonly at: number;
  /**
   * 'line': read from the screen at Enter. 'paste-line': all or part of it comes from the typed
   * bytes because the target had not echoed it yet (a line of a multi-line paste, or an echo
   * still in flight). Not confirmed by the echo: a password pasted as a later line of a
   * multi-line paste cannot be told from a command.
   */
  readonly kind: 'line' | 'paste-line';
  /** Cut at `maxCommandLength`. */
  readonly truncated?: boolean;
}

export interface ExtractorOptions {
  readonly cols: number;
  readonly rows: number;
  /** Commands longer than this are cut (and flagged). Default 8192 characters. */
  readonly maxCommandLength?: number;
  /**
   * At Enter, when keys typed in earlier chunks have not appeared on the screen yet, wait this
   * long for their echo before treating the line as echo-off (not a command). Default 500 ms.
   */
  readonly echoWaitMs?: number;
  /** Cap on output not yet parsed, and separately on input not yet read. Default 1 MiB each. */
  readonly maxPendingBytes?: number;
}

export interface ExtractorStats {
  commands: number;
  /** Lines ended with Ctrl-C (or Ctrl-D on an empty line). */
  abandoned: number;
  skippedFullScreen: number;
  skippedPasswordPrompt: number;
  skippedNoEcho: number;
  truncated: number;
  droppedOutputBytes: number;
  droppedInputBytes: number;
  /** Chunks whose processing failed (the line was reset). Should stay 0. */
  faults: number;
}

export interface CommandExtractor {
  /**
   * Bytes the user typed (client → target). Settles with the commands this chunk completes
   * (its Enters), once all output received before this call has been parsed. A proxy that
   * checks commands before they reach the target awaits this before forwarding the chunk.
   * `data` is read later (after earlier output is parsed): do not reuse the buffer.
   */
  input(data: Buffer, at: number): Promise<readonly ExtractedCommand[]>;
  /** Bytes the target printed (echo and output). Kept by reference until parsed. */
  output(data: Buffer, at: number): void;
  resize(cols: number, rows: number): void;
  stats(): Readonly<ExtractorStats>;
  /** Frees the emulator; pending input() calls settle with no commands. Idempotent. */
  dispose(): void;
}

// ------------------------------------------------------------------------------------------------
// Input keystrokes

/** Complex keys, by what they do to the line model. */
const enum Key {
  /** The cursor ends at the end of the line (tab completion, history up/down, End, Ctrl-E). */
  ToEnd,
  /** The cursor may be anywhere (arrows, Home, Ctrl-A, kill/yank…): only the screen knows the line. */
  Move,
  /** The following keys are not line text (Ctrl-R/Ctrl-S search, Esc/Alt: vi command mode, meta keys). */
  NotText,
}

type Token =
  | { readonly t: 'text'; readonly s: string }
  | { readonly t: 'paste'; readonly s: string }
  | { readonly t: 'enter' | 'bs' | 'kill' | 'werase' | 'intr' | 'eof' | 'paste-start' | 'paste-end' }
  | { readonly t: 'key'; readonly key: Key };

const ENTER: Token = { t: 'enter' };
const BS: Token = { t: 'bs' };
const KILL: Token = { t: 'kill' };
const WERASE: Token = { t: 'werase' };
const INTR: Token = { t: 'intr' };
const EOF: Token = { t: 'eof' };
const PASTE_START: Token = { t: 'paste-start' };
const PASTE_END: Token = { t: 'paste-end' };
const K_END: Token = { t: 'key', key: Key.ToEnd };
const K_MOVE: Token = { t: 'key', key: Key.Move };
const K_NOTTEXT: Token = { t: 'key', key: Key.NotText };

/** Longest CSI parameter string we follow; longer is junk, dropped. */
const MAX_CSI = 32;

/**
 * Splits typed bytes (already decoded) into keystrokes. Keeps its state across chunks, so an
 * escape sequence or a bracketed paste split over several chunks is still one thing.
 */
export class InputLexer {
  private st: 'ground' | 'esc' | 'csi' | 'ss3' = 'ground';
  private csi = '';
  private paste = false;
  private lastCR = false;

  feed(s: string): Token[] {
    const out: Token[] = [];
    let text = '';
    const flush = (): void => {
      if (text) out.push(this.paste ? { t: 'paste', s: text } : { t: 'text', s: text });
      text = '';
    };
    for (const ch of s) {
      const c = ch.codePointAt(0) as number;
      if (this.st === 'esc') {
        if (ch === '[') {
          this.st = 'csi';
          this.csi = '';
        } else if (ch === 'O') this.st = 'ss3';
        else if (c === 0x1b) {
          if (!this.paste) out.push(K_NOTTEXT);
        } else {
          this.st = 'ground';
          // In a paste a stray ESC is dropped and the character kept; outside, ESC x is Alt-x.
          if (this.paste) text += ch;
          else out.push(K_NOTTEXT);
        }
        continue;
      }
      if (this.st === 'csi') {
        if (c >= 0x40 && c <= 0x7e) {
          this.st = 'ground';
          const seq = this.csi;
          if (this.paste) {
            if (seq === '201' && ch === '~') {
              flush();
              this.paste = false;
              out.push(PASTE_END);
            }
          } else if (seq === '200' && ch === '~') {
            this.paste = true;
            out.push(PASTE_START);
          } else if (ch === 'A' || ch === 'B' || ch === 'F' || seq === '4' || seq === '8') out.push(K_END);
          else out.push(K_MOVE);
        } else if (this.csi.length >= MAX_CSI || c < 0x20) this.st = 'ground';
        else this.csi += ch;
        continue;
      }
      if (this.st === 'ss3') {
        this.st = 'ground';
        if (!this.paste) out.push(ch === 'A' || ch === 'B' || ch === 'F' ? K_END : K_MOVE);
        continue;
      }
      // ground
      if (c === 0x1b) {
        flush();
        this.st = 'esc';
        this.lastCR = false;
        continue;
      }
      if (this.paste) {
        // Inside a bracketed paste, newlines and tabs are text; other controls are dropped.
        if (c >= 0x20 || c === 0x09) {
          if (c !== 0x7f && !(c >= 0x80 && c < 0xa0)) text += ch;
        } else if (c === 0x0d || c === 0x0a) {
          if (!(c === 0x0a && this.lastCR)) text += '\n';
        }
        this.lastCR = c === 0x0d;
        continue;
      }
      if (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0)) {
        text += ch;
        this.lastCR = false;
        continue;
      }
      flush();
      const wasCR = this.lastCR;
      this.lastCR = c === 0x0d;
      switch (c) {
        case 0x0d:
          out.push(ENTER);
          break;
        case 0x0a:
          // \r\n (a pasted Windows line end) is one Enter.
          if (!wasCR) out.push(ENTER);
          break;
        case 0x7f:
        case 0x08:
          out.push(BS);
          break;
        case 0x15:
          out.push(KILL);
          break;
        case 0x17:
          out.push(WERASE);
          break;
        case 0x03:
          out.push(INTR);
          break;
        case 0x04:
          out.push(EOF);
          break;
        case 0x09: // completion
        case 0x05: // Ctrl-E end of line
        case 0x10: // Ctrl-P previous history
        case 0x0e: // Ctrl-N next history
          out.push(K_END);
          break;
        case 0x12: // Ctrl-R reverse search
        case 0x13: // Ctrl-S forward search
          out.push(K_NOTTEXT);
          break;
        default:
          out.push(K_MOVE);
      }
    }
    flush();
    // A lone ESC at the end of a chunk is the Esc key (a client sends a sequence in one write).
    if (this.st === 'esc' && !this.paste) {
      this.st = 'ground';
      out.push(K_NOTTEXT);
    }
    return out;
  }
}

// ------------------------------------------------------------------------------------------------
// Screen reading

/**
 * Prompts that ask for a secret. A line typed at one is never a command, even when the program
 * echoes something (asterisks): sudo, ssh, passwd, read -s -p, OTP and PIN prompts.
 */
const SECRET_PROMPT = /(pass(word|phrase|code)?|passwd|\bpin\b|one-time|\botp\b|verification code|token|secret)[^\n:]{0,60}[:?]\s*$/i;
const isSecretPrompt = (prompt: string): boolean => SECRET_PROMPT.test(prompt.slice(prompt.lastIndexOf('\n') + 1).slice(-120));

/** bash's incremental search prompt replaces PS1 on the line until the search ends. */
const BASH_SEARCH = /^\((?:failed )?(?:reverse-)?i-search\)`[^']*': ?/;

/** DEC private modes that change what input means: alternate screen buffers, bracketed paste. */
const MODE_SWITCH = /\x1b\[\?(1049|1047|47|2004)[hl]/g;

/** Recently confirmed prompts, for lines whose prompt could not be captured (type-ahead). */
const RECENT_PROMPTS = 4;

interface LogicalLine {
  /** Rows joined; hard breaks (a multi-line buffer) as '\n'. Right-trimmed, but never short of the cursor. */
  readonly text: string;
  /** Offset of the cursor in `text`. */
  readonly cursor: number;
  /** Buffer row where the line starts. */
  readonly start: number;
}

interface Line {
  started: boolean;
  prompt: string;
  marker: IMarker | undefined;
  /** Typed text since the last complex key (or the line start), capped. */
  model: string;
  /** No complex key since the line start: the model is the shell's whole buffer. */
  whole: boolean;
  /** The model is text appended at the end of the line (not after a cursor move or a search). */
  atEnd: boolean;
  /** Keys of this line arrived in an earlier chunk (they had time to be echoed). */
  earlier: boolean;
  /** Any key (text or editing) in this line so far. */
  keys: boolean;
  /** Newlines inserted by bracketed pastes (a multi-line buffer, run line by line). */
  newlines: number;
  truncated: boolean;
}

type Item = { readonly kind: 'out'; readonly data: Buffer } | { readonly kind: 'in'; readonly data: Buffer; readonly at: number; readonly resolve: (c: readonly ExtractedCommand[]) => void };

const clampInt = (v: number, lo: number, hi: number, dflt: number): number => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.floor(v))) : dflt);

export function createCommandExtractor(opts: ExtractorOptions): CommandExtractor {
  const cap = clampInt(opts.maxCommandLength ?? 8192, 16, 1 << 20, 8192);
  const echoWaitMs = clampInt(opts.echoWaitMs ?? 500, 0, 60_000, 500);
  const maxPending = clampInt(opts.maxPendingBytes ?? 1 << 20, 1024, 1 << 28, 1 << 20);
  let cols = clampInt(opts.cols, 2, 1000, 80);
  let rows = clampInt(opts.rows, 1, 500, 24);
  // Enough scrollback to hold one command of `cap` characters (plus a prompt), no more.
  const scrollbackFor = (c: number): number => Math.min(2000, Math.ceil(cap / c) + 4);
  const term = new Terminal({ cols, rows, scrollback: scrollbackFor(cols), allowProposedApi: true, logLevel: 'off' });
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const lexer = new InputLexer();
  const stats: ExtractorStats = { commands: 0, abandoned: 0, skippedFullScreen: 0, skippedPasswordPrompt: 0, skippedNoEcho: 0, truncated: 0, droppedOutputBytes: 0, droppedInputBytes: 0, faults: 0 };
  const recent: string[] = [];
  let disposed = false;

  // ---- ordering: writes handed to xterm, and the queue of what arrived after an input
  let pending = 0;
  let pendingBytes = 0;
  let drainWaiters: Array<() => void> = [];
  const queue: Item[] = [];
  let queuedOut = 0;
  let queuedIn = 0;
  let jobRunning = false;
  let pumping = false;
  let wake: (() => void) | undefined;

  const line: Line = { started: false, prompt: '', marker: undefined, model: '', whole: true, atEnd: true, earlier: false, keys: false, newlines: 0, truncated: false };
  function resetLine(): void {
    line.marker?.dispose();
    Object.assign(line, { started: false, prompt: '', marker: undefined, model: '', whole: true, atEnd: true, earlier: false, keys: false, newlines: 0, truncated: false });
  }

  /**
   * Output dropped under a flood still carries the mode switches that decide what input means
   * (alternate screen, bracketed paste): replay the last of each, so a `cat` of a huge file that
   * ends with vim exiting does not leave the extractor in vim forever.
   */
  function dropOutput(data: Buffer): void {
    stats.droppedOutputBytes += data.length;
    const modes = new Map<string, string>();
    for (const m of data.toString('latin1').matchAll(MODE_SWITCH)) modes.set(m[1] === '2004' ? 'paste' : 'alt', m[0]);
    const replay = [...modes.values()].join('');
    if (replay) writeNow(Buffer.from(replay, 'latin1'), true);
  }

  function writeNow(data: Buffer, force = false): void {
    if (!force && pendingBytes + data.length > maxPending) {
      dropOutput(data);
      return;
    }
    pending++;
    pendingBytes += data.length;
    try {
      term.write(data, () => {
        pending--;
        pendingBytes -= data.length;
        if (pending === 0) {
          const w = drainWaiters;
          drainWaiters = [];
          for (const f of w) f();
        }
      });
    } catch {
      // xterm refuses writes only past its own 50 MB watermark, which maxPending keeps us under.
      pending--;
      pendingBytes -= data.length;
      stats.droppedOutputBytes += data.length;
    }
  }

  const drained = (): Promise<void> => (pending === 0 || disposed ? Promise.resolve() : new Promise((r) => drainWaiters.push(r)));

  /** Outputs queued behind the running input, up to the next input, go to the emulator. */
  function releaseOutputs(): void {
    while (queue[0]?.kind === 'out') {
      const o = queue.shift() as Item & { kind: 'out' };
      queuedOut -= o.data.length;
      writeNow(o.data);
    }
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0 && !disposed) {
        const item = queue.shift() as Item;
        if (item.kind === 'out') {
          queuedOut -= item.data.length;
          writeNow(item.data);
          continue;
        }
        queuedIn -= item.data.length;
        jobRunning = true;
        let out: readonly ExtractedCommand[] = [];
        try {
          await drained();
          if (!disposed) out = await processInput(item.data, item.at);
        } catch {
          stats.faults++;
          resetLine();
        }
        jobRunning = false;
        item.resolve(out);
      }
    } finally {
      pumping = false;
    }
  }

  // ---- screen reading

  const buf = (): IBuffer => term.buffer.active;
  const cursorRow = (): number => buf().baseY + buf().cursorY;
  /** Row `r` continues on row r+1 (auto-wrap, or a full row a line editor wrapped by hand, as zsh does). */
  function continues(b: IBuffer, r: number): boolean {
    const next = b.getLine(r + 1);
    if (!next) return false;
    if (next.isWrapped) return true;
    const cur = b.getLine(r);
    return cur !== undefined && cur.length > 0 && (cur.getCell(cur.length - 1)?.getChars() ?? '') !== '';
  }
  const maxRows = (): number => Math.ceil(cap / cols) + 2;

  /**
   * The logical line under the cursor, and `hard` more lines above it (a multi-line buffer),
   * never above `floor` (the prompt's row, when known).
   */
  function readLine(hard: number, floor: number): LogicalLine {
    const b = buf();
    const cur = cursorRow();
    const lo = Math.max(0, floor, cur - maxRows() - Math.min(hard, 1000));
    let start = cur;
    let breaks = 0;
    while (start > lo) {
      if (continues(b, start - 1)) start--;
      else if (breaks < hard) {
        breaks++;
        start--;
      } else break;
    }
    let end = cur;
    const hi = Math.min(b.length - 1, cur + maxRows());
    while (end < hi && continues(b, end)) end++;
    let text = '';
    let cursor = 0;
    for (let r = start; r <= end; r++) {
      const l = b.getLine(r);
      if (!l) break;
      const cont = continues(b, r);
      if (r === cur) cursor = text.length + l.translateToString(false, 0, Math.min(buf().cursorX, cols)).length;
      text += l.translateToString(!cont);
      if (r < end && !cont) text += '\n';
      if (text.length > cap * 2) break;
    }
    if (cursor > text.length) text = text.padEnd(cursor, ' ');
    return { text, cursor, start };
  }

  function capturePrompt(stale: boolean): void {
    line.started = true;
    if (stale) return;
    const l = readLine(0, 0);
    line.prompt = l.text.slice(0, l.cursor).slice(-cap);
    line.marker = term.registerMarker(l.start - cursorRow());
  }

  /** What the screen shows after the prompt, or undefined when the line cannot be read. */
  function screenCommand(): { readonly s: string; readonly viaPrompt: boolean; readonly search: boolean } {
    const floor = line.marker && !line.marker.isDisposed && line.marker.line >= 0 && line.marker.line <= cursorRow() ? line.marker.line : 0;
    const { text } = readLine(line.newlines, floor);
    const p = line.prompt;
    if (p && text.startsWith(p)) return { s: text.slice(p.length), viaPrompt: true, search: false };
    if (p && text.trimEnd() === p.trimEnd()) return { s: '', viaPrompt: true, search: false };
    const m = BASH_SEARCH.exec(text);
    if (m) return { s: text.slice(m[0].length), viaPrompt: false, search: true };
    for (const r of recent) if (text.startsWith(r)) return { s: text.slice(r.length), viaPrompt: false, search: false };
    // The prompt was redrawn differently: cut at the first occurrence of its last two characters ("$ ").
    const tail = p.trimEnd().slice(-1);
    if (tail) {
      const i = text.indexOf(tail + ' ');
      if (i >= 0 && i < 400) return { s: text.slice(i + 2), viaPrompt: false, search: false };
    }
    return { s: text, viaPrompt: false, search: false };
  }

  // ---- the line model

  function appendModel(s: string): void {
    const room = cap - line.model.length;
    if (s.length > room) line.truncated = true;
    if (room > 0) line.model += s.slice(0, room);
  }

  function complexKey(k: Key): void {
    line.whole = false;
    line.model = '';
    line.atEnd = k === Key.ToEnd;
  }

  function backspace(): void {
    if (line.model.length > 0) {
      const cps = Array.from(line.model);
      cps.pop();
      line.model = cps.join('');
      if (line.whole) line.newlines = countNewlines(line.model, Infinity);
    } else if (!line.whole) line.atEnd = false; // deletes text the model never saw: only the screen knows
  }

  function wordErase(): void {
    if (!line.whole && !/\S\s*$/.test(line.model)) {
      line.model = '';
      line.atEnd = false;
      return;
    }
    line.model = line.model.replace(/\S*\s*$/, '').replace(/\S+$/, '');
  }

  function countNewlines(s: string, upTo: number): number {
    let n = 0;
    for (let i = s.indexOf('\n'); i >= 0 && n < upTo; i = s.indexOf('\n', i + 1)) n++;
    return n;
  }

  /** Joins the screen text `s` and the typed tail `t`: the part of `t` the echo has not shown yet. */
  function overlapJoin(s: string, t: string): string {
    if (!t) return s;
    for (let k = Math.min(s.length, t.length); k > 0; k--) if (s.endsWith(t.slice(0, k))) return s + t.slice(k);
    return s + t;
  }

  function waitForEcho(check: () => boolean): Promise<boolean> {
    const deadline = performance.now() + echoWaitMs;
    const loop = async (): Promise<boolean> => {
      for (;;) {
        releaseOutputs();
        await drained();
        if (disposed) return false;
        if (check()) return true;
        const left = deadline - performance.now();
        if (left <= 0) return false;
        await new Promise<void>((r) => {
          const t = setTimeout(() => {
            wake = undefined;
            r();
          }, left);
          wake = () => {
            clearTimeout(t);
            wake = undefined;
            r();
          };
        });
      }
    };
    return loop();
  }

  /** The commands of the line ended by this Enter (usually one; a multi-line buffer gives several). */
  async function onEnter(at: number, stale: boolean): Promise<ExtractedCommand[]> {
    if (!line.keys) return [];
    if (isSecretPrompt(line.prompt)) {
      stats.skippedPasswordPrompt++;
      return [];
    }
    let scr = stale ? { s: '', viaPrompt: false, search: false } : screenCommand();
    // Keys typed earlier have had time to echo; if the screen still shows nothing after the
    // prompt, wait a little for the echo, then treat the line as echo-off: never a command.
    const expectsEcho = line.earlier && !(line.whole && line.model === '');
    if (!stale && expectsEcho && scr.s.trim() === '') {
      const ok = await waitForEcho(() => {
        scr = screenCommand();
        return scr.s.trim() !== '';
      });
      if (disposed) return [];
      if (buf().type === 'alternate') {
        stats.skippedFullScreen++;
        return [];
      }
      if (!ok) {
        stats.skippedNoEcho++;
        return [];
      }
      if (isSecretPrompt(line.prompt)) {
        stats.skippedPasswordPrompt++;
        return [];
      }
    }
    // After a history recall or a cursor move (the model is not the whole line), the keys typed
    // since then appear contiguously once echoed. A screen that does not show them yet lags behind
    // the typing (a distant or busy target echoes later than the Enter reaches us): wait for the
    // echo as above, then read the screen, or a fast typist's last keys are missing from the
    // command (and from what the guard checks).
    const typed = line.model.trimEnd();
    if (!stale && !line.whole && line.newlines === 0 && typed !== '' && !scr.search && !scr.s.includes(typed)) {
      await waitForEcho(() => {
        scr = screenCommand();
        return scr.search || scr.s.includes(typed);
      });
      if (disposed) return [];
      if (buf().type === 'alternate') {
        stats.skippedFullScreen++;
        return [];
      }
    }
    let text: string;
    if (line.whole) {
      // The model is exact; the screen confirms the echo (or lags behind it, or shows a prompt
      // we failed to strip before the typed text).
      // Trailing blanks do not count: a shell erases a character by writing "\b \b", which
      // leaves a real space cell where the character was.
      const shown = scr.s.trimEnd();
      const model = line.model.trimEnd();
      text = model.startsWith(shown) || shown.endsWith(model) ? line.model : scr.s;
    } else if (scr.search || !line.atEnd) text = scr.s;
    else text = overlapJoin(scr.s, line.model);
    if (scr.viaPrompt && line.prompt && text === scr.s) {
      const i = recent.indexOf(line.prompt);
      if (i >= 0) recent.splice(i, 1);
      recent.unshift(line.prompt);
      if (recent.length > RECENT_PROMPTS) recent.pop();
    }
    const kind = text === scr.s && !stale && line.newlines === 0 ? 'line' : 'paste-line';
    const parts = line.newlines > 0 || text.includes('\n') ? text.split('\n') : [text];
    const out: ExtractedCommand[] = [];
    for (const p of parts) {
      let command = p.trim();
      if (!command) continue;
      const truncated = line.truncated || command.length > cap;
      if (command.length > cap) command = command.slice(0, cap);
      if (truncated) stats.truncated++;
      stats.commands++;
      out.push(truncated ? { command, at, kind, truncated } : { command, at, kind });
    }
    return out;
  }

  async function processInput(data: Buffer, at: number): Promise<readonly ExtractedCommand[]> {
    const tokens = lexer.feed(decoder.decode(data, { stream: true }));
    if (buf().type === 'alternate') {
      // vim, less, top…: their keystrokes are not commands; the line starts afresh after.
      if (tokens.some((t) => t.t === 'enter') || line.started) stats.skippedFullScreen++;
      resetLine();
      return [];
    }
    if (line.started && line.keys) line.earlier = true;
    const out: ExtractedCommand[] = [];
    let stale = false; // after an Enter in this chunk, the screen no longer matches the line
    const bracketed = term.modes.bracketedPasteMode;
    for (const tok of tokens) {
      if (disposed) break;
      if (!line.started && tok.t !== 'paste-start' && tok.t !== 'paste-end') capturePrompt(stale);
      switch (tok.t) {
        case 'text':
          line.keys = true;
          appendModel(tok.s);
          break;
        case 'paste': {
          line.keys = true;
          if (bracketed) {
            // The shell inserts a bracketed paste as text, newlines included, and runs it at Enter.
            line.newlines += countNewlines(tok.s, Infinity);
            appendModel(tok.s);
          } else {
            // Without bracketed paste mode the target sees plain typing: each newline is an Enter.
            const segs = tok.s.split('\n');
            for (let i = 0; i < segs.length; i++) {
              if (i > 0) {
                out.push(...(await onEnter(at, stale)));
                resetLine();
                stale = true;
                capturePrompt(true);
              }
              line.keys = true;
              appendModel(segs[i] as string);
            }
          }
          break;
        }
        case 'paste-start':
        case 'paste-end':
          break;
        case 'enter':
          out.push(...(await onEnter(at, stale)));
          resetLine();
          stale = true;
          break;
        case 'bs':
          line.keys = true;
          backspace();
          break;
        case 'kill':
          line.keys = true;
          if (line.whole) {
            line.model = '';
            line.newlines = 0;
          } else complexKey(Key.Move);
          break;
        case 'werase':
          line.keys = true;
          wordErase();
          break;
        case 'intr':
          if (line.keys) stats.abandoned++;
          resetLine();
          break;
        case 'eof':
          if (line.whole && line.model === '') {
            if (line.keys) stats.abandoned++;
            resetLine();
          } else {
            line.keys = true;
            complexKey(Key.Move);
          }
          break;
        case 'key':
          line.keys = true;
          complexKey(tok.key);
          break;
      }
    }
    return out;
  }

  return {
    input(data, at) {
      if (disposed) return Promise.resolve([]);
      if (queuedIn + data.length > maxPending) {
        stats.droppedInputBytes += data.length;
        // What the line held is no longer known.
        resetLine();
        return Promise.resolve([]);
      }
      return new Promise((resolve) => {
        queue.push({ kind: 'in', data, at, resolve });
        queuedIn += data.length;
        void pump();
      });
    },
    output(data, _at) {
      if (disposed || data.length === 0) return;
      if (queue.length === 0 && !jobRunning) {
        writeNow(data);
        return;
      }
      if (queuedOut + data.length > maxPending) {
        dropOutput(data);
        return;
      }
      queue.push({ kind: 'out', data });
      queuedOut += data.length;
      wake?.();
    },
    resize(c, r) {
      if (disposed) return;
      cols = clampInt(c, 2, 1000, cols);
      rows = clampInt(r, 1, 500, rows);
      try {
        term.resize(cols, rows);
        term.options.scrollback = scrollbackFor(cols);
      } catch {
        stats.faults++;
      }
    },
    stats: () => ({ ...stats }),
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const it of queue.splice(0)) if (it.kind === 'in') it.resolve([]);
      const w = drainWaiters;
      drainWaiters = [];
      for (const f of w) f();
      wake?.();
      line.marker?.dispose();
      term.dispose();
    },
  };
}
