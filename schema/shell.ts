/**
 * The kit's one POSIX-shell lexer and simple-command parser, shared by the
 * collectors (`process.args` of a command event) and the rules (simple commands
 * a rule matches on), so a rule test sees the same words the collector emits.
 *
 * Why simple commands: precision on look-alikes comes from the arguments
 * (`chmod 640 /etc/shadow` vs `chmod 777 /etc/shadow`, `rm -rf ./build` vs
 * `rm -rf /`), and an interactive command line is usually several simple
 * commands joined by `|`, `&&`, `;`, with redirections and wrappers (`sudo`,
 * `nohup`, `sh -c '…'`). Rules match on these; this module turns one line into
 * them, once per event.
 *
 * It is not a shell: no expansion, no here-doc bodies. Never throws: an
 * unterminated quote ends at the line end.
 *
 * Two views of one scan (the quoting rules are shared, so they cannot drift):
 *  - `shellTokens`: unquoted operators are their own tokens, `$(…)`/backticks
 *    stay inside their word, `#` starts a comment, `2>` drops its fd word.
 *  - `shellWords`: what the collector stores as `process.args`: blanks (newlines
 *    included) separate words, operators are ordinary characters, at most
 *    MAX_ARGS words. Kept this way because it is what every stored event and the
 *    golden fixtures hold; the rules never need operators from `process.args`
 *    (they parse `process.command_line`).
 */

export interface ShellToken {
  readonly text: string;
  /** An unquoted control or redirection operator. */
  readonly op: boolean;
}

/** `process.args` holds at most this many words: a pasted blob must not make a huge document. */
export const MAX_ARGS = 256;

/** Characters that end a run of plain ones, with operators on and off. */
const PLAIN_OPS = /[^\s'"\\$`<>&|;()#]/;
const PLAIN_WORDS = /[^\s'"\\]/;
const OP_START = new Set(['<', '>', '&', '|', ';', '(', ')', '\n']);
const OPS = ['<<<', '&>>', '||', '&&', ';;', '|&', '>>', '>&', '&>', '>|', '<<', '<&', '<>', '|', '&', ';', '>', '<', '(', ')', '\n'];

/**
 * The scan behind both views: words go to `texts`; with `ops`, `isOp` gets one
 * flag per text. Parallel arrays rather than token objects: the collector calls
 * this once per command on the ingest path and needs only the strings.
 */
function scan(line: string, ops: boolean, max: number, texts: string[], isOp: boolean[]): void {
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  const plain = ops ? PLAIN_OPS : PLAIN_WORDS;
  const push = (): void => {
    if (inWord) {
      texts.push(cur);
      isOp.push(false);
    }
    cur = '';
    inWord = false;
  };
  while (i < n && texts.length < max) {
    const c = line[i] as string;
    if (c === "'") {
      const j = line.indexOf("'", i + 1);
      const end = j < 0 ? n : j;
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < n && '"\\$`\n'.includes(line[i + 1] as string)) {
          // `\<newline>` inside double quotes is a line continuation: nothing.
          if (line[i + 1] !== '\n') cur += line[i + 1];
          i += 2;
        } else {
          cur += line[i];
          i++;
        }
      }
      i++;
      inWord = true;
      continue;
    }
    if (c === '\\') {
      if (i + 1 < n && line[i + 1] !== '\n') cur += line[i + 1];
      i += 2;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || (c === '\n' && !ops)) {
      push();
      i++;
      continue;
    }
    if (ops && c === '$' && line[i + 1] === '(') {
      // Keep a command substitution inside its word, balancing parentheses.
      let depth = 0;
      const start = i;
      i++;
      for (; i < n; i++) {
        if (line[i] === '(') depth++;
        else if (line[i] === ')' && --depth === 0) break;
      }
      cur += line.slice(start, Math.min(i + 1, n));
      i++;
      inWord = true;
      continue;
    }
    if (ops && c === '`') {
      const j = line.indexOf('`', i + 1);
      const end = j < 0 ? n : j;
      cur += line.slice(i, end + 1);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (ops && c === '#' && !inWord) break;
    if (!ops || !OP_START.has(c)) {
      // Consume a run of plain characters at once (the common case).
      let j = i + 1;
      while (j < n && plain.test(line[j] as string)) j++;
      cur += line.slice(i, j);
      inWord = true;
      i = j;
      continue;
    }
    let op: string | undefined;
    for (const o of OPS) {
      if (line.startsWith(o, i)) {
        op = o;
        break;
      }
    }
    if (op !== undefined) {
      // `2>`, `0<&3`: a word of digits right before a redirection is its file descriptor.
      if ((op[0] === '>' || op[0] === '<') && inWord && /^\d+$/.test(cur)) {
        cur = '';
        inWord = false;
      } else {
        push();
      }
      texts.push(op);
      isOp.push(true);
      i += op.length;
      continue;
    }
    cur += c;
    inWord = true;
    i++;
  }
  if (texts.length < max) push();
}

/** Split a command line into words and operators. */
export function shellTokens(line: string): ShellToken[] {
  const texts: string[] = [];
  const isOp: boolean[] = [];
  scan(line, true, Infinity, texts, isOp);
  const out: ShellToken[] = new Array<ShellToken>(texts.length);
  for (let k = 0; k < texts.length; k++) out[k] = { text: texts[k] as string, op: isOp[k] as boolean };
  return out;
}

/** The words of a line as `process.args` holds them (see the header). */
export function shellWords(line: string): string[] {
  const texts: string[] = [];
  scan(line, false, MAX_ARGS, texts, []);
  return texts;
}

export interface SimpleCommand {
  /** Basename of argv[0] (e.g. `chmod`, `python3`). */
  readonly name: string;
  /** The words, argv[0] first, without assignments and redirections. */
  readonly argv: readonly string[];
  /** Leading `VAR=value` assignments. */
  readonly assigns: readonly string[];
  /** Output redirection targets (`>`, `>>`, `&>`, `>|`). */
  readonly writes: readonly string[];
  /** Input redirection sources (`<`, `<>`). */
  readonly reads: readonly string[];
  /** Ran through sudo/doas/su -c/pkexec (directly or via a wrapper chain). */
  readonly sudo: boolean;
  /** Name of the command this one's stdout is piped into, '' when none. */
  readonly pipeTo: string;
  /** Name of the command piping into this one, '' when none. */
  readonly pipeFrom: string;
  /** Nesting depth: 0 top level, 1 inside `sh -c '…'`/`sudo` etc. */
  readonly depth: number;
}

const CONTROL = new Set([';', '&&', '||', '&', '|', '|&', '(', ')', '\n', ';;']);
const WRITE_REDIR = new Set(['>', '>>', '&>', '&>>', '>|']);
const READ_REDIR = new Set(['<', '<>', '<<<']);
const RESERVED = new Set(['!', '{', '}', 'do', 'done', 'then', 'else', 'elif', 'fi', 'if', 'while', 'until', 'time', 'esac']);
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'tcsh', 'csh', 'ash', 'busybox', 'fish']);
/** Wrappers whose first non-option word is the command they run, and options taking a value. */
const WRAPPERS: Readonly<Record<string, { priv: boolean; valueOpts: ReadonlySet<string> }>> = {
  sudo: { priv: true, valueOpts: new Set(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '--user', '--group', '--host', '--prompt', '--chdir']) },
  doas: { priv: true, valueOpts: new Set(['-u', '-C']) },
  pkexec: { priv: true, valueOpts: new Set(['--user']) },
  nohup: { priv: false, valueOpts: new Set() },
  env: { priv: false, valueOpts: new Set(['-u', '-C', '-S', '--unset', '--chdir']) },
  nice: { priv: false, valueOpts: new Set(['-n', '--adjustment']) },
  ionice: { priv: false, valueOpts: new Set(['-c', '-n', '-p']) },
  timeout: { priv: false, valueOpts: new Set(['-s', '-k', '--signal', '--kill-after']) },
  stdbuf: { priv: false, valueOpts: new Set(['-i', '-o', '-e']) },
  setsid: { priv: false, valueOpts: new Set() },
  exec: { priv: false, valueOpts: new Set(['-a']) },
  command: { priv: false, valueOpts: new Set() },
  builtin: { priv: false, valueOpts: new Set() },
  chroot: { priv: false, valueOpts: new Set(['--userspec', '--groups']) },
  watch: { priv: false, valueOpts: new Set(['-n', '-d', '--interval']) },
  torify: { priv: false, valueOpts: new Set() },
  rlwrap: { priv: false, valueOpts: new Set(['-f', '-H', '-P', '-S']) },
  xargs: { priv: false, valueOpts: new Set(['-a', '-d', '-E', '-I', '-L', '-n', '-P', '-s', '--arg-file', '--delimiter', '--max-args', '--max-procs']) },
  proxychains: { priv: false, valueOpts: new Set(['-f']) },
  proxychains4: { priv: false, valueOpts: new Set(['-f']) },
};

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

const ASSIGN = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The simple commands of a line, including the ones a wrapper runs
 * (`sudo X` also yields X with `sudo: true`) and the ones inside
 * `sh -c '…'`, `su -c '…'`, `eval '…'` (parsed again, depth ≤ 3).
 */
export function simpleCommands(line: string, maxDepth = 3): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  parseInto(shellTokens(line), out, false, 0, maxDepth);
  return out;
}

/** Simple commands from an argv that never went through a shell (auditd EXECVE). */
export function simpleCommandsFromArgv(argv: readonly string[], maxDepth = 3): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  if (argv.length > 0) emit(argv, [], [], [], false, '', '', out, 0, maxDepth);
  return out;
}

function parseInto(tokens: readonly ShellToken[], out: SimpleCommand[], sudo: boolean, depth: number, maxDepth: number): void {
  // First cut the token list into segments with the operator that ended each.
  interface Seg {
    words: string[];
    assigns: string[];
    writes: string[];
    reads: string[];
    endOp: string;
  }
  const segs: Seg[] = [];
  let seg: Seg = { words: [], assigns: [], writes: [], reads: [], endOp: '' };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as ShellToken;
    if (t.op && CONTROL.has(t.text)) {
      seg.endOp = t.text;
      segs.push(seg);
      seg = { words: [], assigns: [], writes: [], reads: [], endOp: '' };
      continue;
    }
    if (t.op) {
      const next = tokens[i + 1];
      if (next && !next.op) {
        if (WRITE_REDIR.has(t.text)) seg.writes.push(next.text);
        else if (READ_REDIR.has(t.text)) seg.reads.push(next.text);
        i++;
      }
      continue;
    }
    if (seg.words.length === 0 && ASSIGN.test(t.text)) {
      seg.assigns.push(t.text);
      continue;
    }
    if (seg.words.length === 0 && RESERVED.has(t.text)) continue;
    seg.words.push(t.text);
  }
  segs.push(seg);
  for (let k = 0; k < segs.length; k++) {
    const s = segs[k] as Seg;
    if (s.words.length === 0 && s.assigns.length === 0 && s.writes.length === 0) continue;
    const prev = k > 0 ? segs[k - 1] : undefined;
    const next = segs[k + 1];
    const pipeFrom = prev && (prev.endOp === '|' || prev.endOp === '|&') ? basename(prev.words[0] ?? '') : '';
    const pipeTo = (s.endOp === '|' || s.endOp === '|&') && next ? basename(next.words[0] ?? '') : '';
    emit(s.words, s.assigns, s.writes, s.reads, sudo, pipeTo, pipeFrom, out, depth, maxDepth);
  }
}

function emit(
  words: readonly string[],
  assigns: readonly string[],
  writes: readonly string[],
  reads: readonly string[],
  sudo: boolean,
  pipeTo: string,
  pipeFrom: string,
  out: SimpleCommand[],
  depth: number,
  maxDepth: number,
): void {
  const name = basename(words[0] ?? '');
  out.push({ name, argv: words, assigns, writes, reads, sudo, pipeTo, pipeFrom, depth });
  if (depth >= maxDepth || words.length < 2) return;
  const w = WRAPPERS[name];
  if (w) {
    let i = 1;
    const envs: string[] = [];
    for (; i < words.length; i++) {
      const a = words[i] as string;
      if (a === '--') {
        i++;
        break;
      }
      if ((name === 'env' || w.priv) && ASSIGN.test(a)) {
        envs.push(a);
        continue;
      }
      if (name === 'timeout' && /^\d/.test(a)) continue;
      if (name === 'chroot' && !a.startsWith('-')) {
        i++;
        break;
      }
      if (!a.startsWith('-') || a === '-') break;
      if (w.valueOpts.has(a)) i++;
    }
    if (name === 'chroot' && i >= words.length) return;
    if (i < words.length) emit(words.slice(i), envs, writes, reads, sudo || w.priv, pipeTo, pipeFrom, out, depth + 1, maxDepth);
    return;
  }
  // `sh -c 'STRING'`, `su [-] [user] -c 'STRING'`, `eval STRING`: parse the string again.
  let script: string | undefined;
  let priv = sudo;
  if (SHELLS.has(name)) {
    for (let i = 1; i < words.length; i++) {
      const a = words[i] as string;
      if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(a)) {
        script = words[i + 1];
        break;
      }
      if (!a.startsWith('-')) break;
    }
  } else if (name === 'su' || name === 'runuser') {
    const i = words.findIndex((a, j) => j > 0 && (a === '-c' || a === '--command'));
    if (i > 0) script = words[i + 1];
    priv = true;
  } else if (name === 'eval') {
    script = words.slice(1).join(' ');
  }
  if (script !== undefined) parseInto(shellTokens(script), out, priv, depth + 1, maxDepth);
}
