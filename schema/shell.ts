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
 * Command substitutions (`$(…)`, backticks, also inside double quotes) and
 * process substitutions (`<(…)`, `>(…)`) run commands too (`echo $(rm -rf /)`,
 * `diff <(cat /etc/shadow) x`): the scan keeps them inside their word and hands
 * their bodies back, and `simpleCommands` parses each body as a nested command
 * line, one level deeper, up to the same depth bound as `sh -c` bodies.
 *
 * Time is linear in the line (times the depth bound): every scan moves forward
 * only, a substitution body is found in one pass, and each nesting level parses
 * disjoint slices of its parent. A hostile command line must not be able to stall
 * the collector (issue 14: the rules on it were tested up to 1 MiB).
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

/**
 * `simpleCommands` reads at most this many tokens (words and operators, nested
 * lines included) of one line. Parsing is linear, but every rule then walks every
 * command and word: 1 MiB of `a|a|…` is 512k commands, seconds of rule time per
 * event (adversarial bench). Interactive lines stay far below it; a line that
 * reaches it is marked (`truncated` on its last command) and the built-in rule
 * ak-lnx-command-line-truncated raises on it, so padding is no hiding place.
 */
export const MAX_TOKENS = 4096;

/**
 * `simpleCommands` lexes at most this many characters of one line (nested bodies
 * are slices of it, so they are inside the same cap). Rules that read the raw
 * `process.command_line` (field and regex conditions, the prefilter) still see
 * all of it; only the parse stops. A cut parse is marked like a MAX_TOKENS one
 * (`truncated`), so the built-in rule ak-lnx-command-line-truncated raises on it
 * and nothing can hide past the cap.
 */
export const MAX_PARSE_CHARS = 64 * 1024;

/**
 * What the rules may see of one line in total: characters of every word,
 * assignment and redirection target of every simple command, nested and wrapped
 * ones included (`sudo sh -c '…'` shows the script's words three times). Rule time
 * is linear in it; a command past it is dropped and the line marked `truncated`.
 */
export const MAX_COMMAND_CHARS = 2 * MAX_PARSE_CHARS;

/**
 * Character classes of ASCII code units, one table lookup per character instead
 * of a regex or set test (the lexer runs on every command of every event).
 * Non-ASCII code units are always plain.
 */
const C_BLANK = 1; // space, tab, CR: separate words in both views
const C_NL = 2; // newline: an operator with operators on, a blank without
const C_QUOTE = 4; // ' " \ : start quoting in both views
const C_OP = 8; // < > & | ; ( ) : start an operator (with operators on)
const C_SUB = 16; // $ ` # : substitutions and comments (with operators on)
const C_DQ = 32; // " \ $ ` : special inside double quotes
const C_DQ_ESC = 64; // " \ $ ` newline: what a backslash escapes inside double quotes
const CLASS = new Uint8Array(128);
for (const [chars, bits] of [
  [' \t\r', C_BLANK],
  ['\n', C_NL | C_DQ_ESC],
  ["'", C_QUOTE],
  ['"\\', C_QUOTE | C_DQ | C_DQ_ESC],
  ['<>&|;()', C_OP],
  ['$`', C_SUB | C_DQ | C_DQ_ESC],
  ['#', C_SUB],
] as const) {
  for (let k = 0; k < chars.length; k++) CLASS[chars.charCodeAt(k)] = (CLASS[chars.charCodeAt(k)] as number) | bits;
}
/** Classes that end a run of plain characters, with operators off and on. */
const END_WORDS = C_BLANK | C_NL | C_QUOTE;
const END_OPS = END_WORDS | C_OP | C_SUB;

/** The class bits of the code unit at i (0 for non-ASCII and past the end). */
function cls(line: string, i: number): number {
  const c = line.charCodeAt(i);
  return c < 128 ? (CLASS[c] as number) : 0;
}

/**
 * The operator starting at i (its first character has class C_OP or C_NL), longest
 * first as bash reads them; undefined for a lone character that is none (none today).
 */
function opAt(line: string, i: number, n: number): string | undefined {
  const c = line[i] as string;
  const d = i + 1 < n ? line[i + 1] : '';
  const e = i + 2 < n ? line[i + 2] : '';
  switch (c) {
    case '<':
      if (d === '<') return e === '<' ? '<<<' : '<<';
      if (d === '&' || d === '>') return c + d;
      return '<';
    case '>':
      if (d === '>' || d === '&' || d === '|') return c + d;
      return '>';
    case '&':
      if (d === '>') return e === '>' ? '&>>' : '&>';
      if (d === '&') return '&&';
      return '&';
    case '|':
      if (d === '|' || d === '&') return c + d;
      return '|';
    case ';':
      return d === ';' ? ';;' : ';';
    case '(':
    case ')':
    case '\n':
      return c;
    default:
      return undefined;
  }
}

/** Whether s is one or more ASCII digits (a redirection's file descriptor). */
function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Index of the `)` closing the group opened just before `i` (or n when unclosed).
 * Quotes inside are skipped so `$(echo ")")` closes at the right place; one pass.
 */
function closeParen(line: string, i: number, n: number): number {
  let depth = 1;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 92 /* \ */) i += 2;
    else if (c === 39 /* ' */) {
      const j = line.indexOf("'", i + 1);
      i = j < 0 || j >= n ? n : j + 1;
    } else if (c === 34 /* " */) {
      i++;
      while (i < n && line.charCodeAt(i) !== 34) i += line.charCodeAt(i) === 92 ? 2 : 1;
      i++;
    } else if (c === 40 /* ( */) {
      depth++;
      i++;
    } else if (c === 41 /* ) */) {
      if (--depth === 0) return i;
      i++;
    } else i++;
  }
  return n;
}

/**
 * The scan behind both views: words go to `texts`; with `ops`, `isOp` gets one
 * flag per text and `subs` the bodies of command and process substitutions.
 * Parallel arrays rather than token objects: the collector calls this once per
 * command on the ingest path and needs only the strings. Reads `line` up to `n`
 * (MAX_PARSE_CHARS for the rules); returns where it stopped.
 */
function scan(line: string, ops: boolean, max: number, texts: string[], isOp: boolean[], subs?: string[], n = line.length): number {
  let cur = '';
  let inWord = false;
  let i = 0;
  const endPlain = ops ? END_OPS : END_WORDS;
  const push = (): void => {
    if (inWord) {
      texts.push(cur);
      isOp.push(false);
    }
    cur = '';
    inWord = false;
  };
  // Substitution bodies count against the same cap (one word may hold thousands of `$(…)`).
  while (i < n && texts.length + (subs?.length ?? 0) < max) {
    const k = cls(line, i);
    if ((k & endPlain) === 0) {
      // A run of plain characters at once (the common case).
      let j = i + 1;
      while (j < n && (cls(line, j) & endPlain) === 0) j++;
      cur = inWord ? cur + line.slice(i, j) : line.slice(i, j);
      inWord = true;
      i = j;
      continue;
    }
    const c = line.charCodeAt(i);
    if (c === 39 /* ' */) {
      const j = line.indexOf("'", i + 1);
      const end = j < 0 || j >= n ? n : j;
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === 34 /* " */) {
      i++;
      while (i < n && line.charCodeAt(i) !== 34) {
        const d = line.charCodeAt(i);
        if (d === 92 /* \ */ && i + 1 < n && cls(line, i + 1) & C_DQ_ESC) {
          // `\<newline>` inside double quotes is a line continuation: nothing.
          if (line.charCodeAt(i + 1) !== 10) cur += line[i + 1];
          i += 2;
        } else if (ops && d === 36 /* $ */ && line.charCodeAt(i + 1) === 40 && i + 1 < n) {
          const end = closeParen(line, i + 2, n);
          subs?.push(line.slice(i + 2, end));
          cur += line.slice(i, Math.min(end + 1, n));
          i = end + 1;
        } else if (ops && d === 96 /* ` */) {
          const j = line.indexOf('`', i + 1);
          const end = j < 0 || j >= n ? n : j;
          subs?.push(line.slice(i + 1, end));
          cur += line.slice(i, Math.min(end + 1, n));
          i = end + 1;
        } else {
          // A run of ordinary characters at once: no per-character string building.
          let j = i + 1;
          while (j < n && (cls(line, j) & C_DQ) === 0) j++;
          cur += line.slice(i, j);
          i = j;
        }
      }
      i++;
      inWord = true;
      continue;
    }
    if (c === 92 /* \ */) {
      if (i + 1 < n && line.charCodeAt(i + 1) !== 10) cur += line[i + 1];
      i += 2;
      inWord = true;
      continue;
    }
    if (k & C_BLANK || (k & C_NL && !ops)) {
      push();
      i++;
      continue;
    }
    // Only operators, substitutions and comments remain, with operators on.
    if ((c === 36 /* $ */ || ((c === 60 || c === 62) /* < > */ && !inWord)) && i + 1 < n && line.charCodeAt(i + 1) === 40) {
      // A command substitution `$(…)` or a process substitution `<(…)`/`>(…)`:
      // kept inside its word (bash passes it as one argument), body handed back.
      const end = closeParen(line, i + 2, n);
      subs?.push(line.slice(i + 2, end));
      cur += line.slice(i, Math.min(end + 1, n));
      i = end + 1;
      inWord = true;
      continue;
    }
    if (c === 96 /* ` */) {
      const j = line.indexOf('`', i + 1);
      const end = j < 0 || j >= n ? n : j;
      subs?.push(line.slice(i + 1, end));
      cur += line.slice(i, Math.min(end + 1, n));
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === 35 /* # */ && !inWord) {
      i = n; // a comment: the rest of the line is read, not cut
      break;
    }
    const op = k & (C_OP | C_NL) ? opAt(line, i, n) : undefined;
    if (op !== undefined) {
      // `2>`, `0<&3`: a word of digits right before a redirection is its file descriptor.
      if ((c === 62 || c === 60) && inWord && allDigits(cur)) {
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
    // `$` not before `(`, `#` inside a word: an ordinary character.
    cur += line[i];
    inWord = true;
    i++;
  }
  if (texts.length < max) push();
  return i;
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
  /** Set on the last command when the rest of the line was not parsed (past MAX_TOKENS, MAX_PARSE_CHARS or MAX_COMMAND_CHARS). */
  readonly truncated?: true;
}

const CONTROL = new Set([';', '&&', '||', '&', '|', '|&', '(', ')', '\n', ';;']);
const WRITE_REDIR = new Set(['>', '>>', '&>', '&>>', '>|']);
const READ_REDIR = new Set(['<', '<>', '<<<']);
const RESERVED = new Set(['!', '{', '}', 'do', 'done', 'then', 'else', 'elif', 'fi', 'if', 'while', 'until', 'time', 'esac']);
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'tcsh', 'csh', 'ash', 'busybox', 'fish']);
/**
 * A lookup table keyed by words of the line: without a prototype, so `toString -x` or
 * `constructor -u y` is not taken for a wrapper (it was: Object.prototype's function, whose
 * missing option set threw, and the whole line went unparsed, its other commands unseen).
 */
function wordTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** Wrappers whose first non-option word is the command they run, and options taking a value. */
const WRAPPERS: Readonly<Record<string, { priv: boolean; valueOpts: ReadonlySet<string> }>> = wordTable({
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
  // Run their command in new namespaces, or with a password fed to it: what they run is what matters.
  sshpass: { priv: false, valueOpts: new Set(['-p', '-f', '-d', '-P']) },
  unshare: { priv: false, valueOpts: new Set(['-S', '-G', '-R', '-w', '--setuid', '--setgid', '--root', '--wd']) },
  nsenter: { priv: false, valueOpts: new Set(['-t', '--target', '-S', '-G', '-w', '--setuid', '--setgid', '--wd']) },
});

/**
 * Container CLIs whose `exec` runs a command inside a container (`docker exec -u 0 web sh -c '…'`,
 * `kubectl exec -it pod -- cat /var/run/secrets/…`): what runs there is parsed like a wrapped command,
 * one level deeper, without the host privilege flag (it runs as the container's user, not through sudo).
 * `globals`: options before the subcommand taking a value; `opts`: exec's options taking a value;
 * `dashdash`: the command follows `--` (kubectl, lxc), else the first word after the target.
 */
const CONTAINER_EXEC: Readonly<Record<string, { globals: ReadonlySet<string>; opts: ReadonlySet<string>; dashdash: boolean }>> = (() => {
  const engine = {
    globals: new Set(['-H', '--host', '-c', '--context', '--config', '-l', '--log-level', '--url', '--connection', '--root', '--runroot', '-n', '--namespace', '-a', '--address']),
    opts: new Set(['-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir', '--detach-keys', '--preserve-fds', '--timeout']),
    dashdash: false,
  };
  const kube = {
    globals: new Set(['-n', '--namespace', '--context', '--kubeconfig', '-s', '--server', '--cluster', '--user', '--token', '--as', '--as-group', '--request-timeout', '--certificate-authority', '--client-certificate', '--client-key']),
    opts: new Set(['-c', '--container', '-f', '--filename', '-n', '--namespace', '--pod-running-timeout']),
    dashdash: true,
  };
  const lxc = { globals: new Set<string>(), opts: new Set(['--env', '--user', '--group', '--cwd', '--mode', '--project']), dashdash: true };
  return wordTable({ docker: engine, podman: engine, nerdctl: engine, crictl: engine, kubectl: kube, oc: kube, lxc, incus: lxc });
})();

/** Index of the command a container CLI's `exec` runs (words.length when none, or not `exec`). */
function containerExecStart(name: string, words: readonly string[]): number {
  const c = CONTAINER_EXEC[name];
  if (!c) return words.length;
  let i = 1;
  // Global options, then the subcommand: `exec`, or `container exec` (docker, podman).
  for (; i < words.length && (words[i] as string).startsWith('-'); i++) if (c.globals.has(words[i] as string)) i++;
  if (words[i] === 'container') i++;
  if (words[i] !== 'exec') return words.length;
  if (c.dashdash) {
    const dd = words.indexOf('--', i + 1);
    if (dd > 0) return dd + 1;
    // `kubectl exec POD CMD` (the form before `--` was required): the command follows the target.
  }
  for (i++; i < words.length; i++) {
    const a = words[i] as string;
    if (a === '--') return i + 2; // `--`, then the target, then the command
    if (!a.startsWith('-') || a === '-') return i + 1; // the target; the command follows it
    if (c.opts.has(a)) i++;
  }
  return words.length;
}

/**
 * The commands a `sudo: true` command runs under: the privileged wrappers above, and `su`/`runuser` (whose
 * `-c` script is parsed with privilege in emit). Each is itself one of the line's simple commands, so the
 * rules' prefilter may require one of these names wherever a rule tests `sudo: true`.
 */
export const PRIVILEGED_COMMANDS: readonly string[] = Object.freeze([...Object.keys(WRAPPERS).filter((k) => WRAPPERS[k]?.priv === true), 'su', 'runuser']);

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
  const budget: Budget = { tokens: MAX_TOKENS, chars: MAX_COMMAND_CHARS, cut: false };
  parseLine(line, out, false, 0, maxDepth, budget);
  if (budget.cut) markTruncated(out);
  return out;
}

function markTruncated(out: SimpleCommand[]): void {
  const last = out[out.length - 1] ?? { name: '', argv: [], assigns: [], writes: [], reads: [], sudo: false, pipeTo: '', pipeFrom: '', depth: 0 };
  out[Math.max(0, out.length - 1)] = { ...last, truncated: true };
}

interface Budget {
  /** Tokens (words, operators, substitution bodies) still to be lexed. */
  tokens: number;
  /** Characters the emitted commands may still hold (MAX_COMMAND_CHARS). */
  chars: number;
  cut: boolean;
}

const NON_BLANK = /\S/g;

/** Whether anything but whitespace follows index `from` (no copy of the rest). */
function moreAfter(line: string, from: number): boolean {
  NON_BLANK.lastIndex = from;
  return NON_BLANK.test(line);
}

/**
 * Parse one command line at a nesting depth: its simple commands, then the
 * commands inside its substitutions one level deeper (they run in the same
 * shell, so with its privilege, not the one of the command they are an argument of).
 * At most MAX_PARSE_CHARS of it are lexed.
 */
function parseLine(line: string, out: SimpleCommand[], sudo: boolean, depth: number, maxDepth: number, budget: Budget): void {
  if (budget.tokens <= 0 || budget.chars <= 0) {
    budget.cut = true;
    return;
  }
  const texts: string[] = [];
  const isOp: boolean[] = [];
  const subs: string[] = [];
  const n = Math.min(line.length, MAX_PARSE_CHARS);
  const end = scan(line, true, budget.tokens, texts, isOp, subs, n);
  budget.tokens -= texts.length + subs.length;
  if (end < line.length && moreAfter(line, end)) budget.cut = true;
  parseInto(texts, isOp, out, sudo, depth, maxDepth, budget);
  if (depth >= maxDepth) return;
  for (const body of subs) parseLine(body, out, sudo, depth + 1, maxDepth, budget);
}

/** Simple commands from an argv that never went through a shell (auditd EXECVE). */
export function simpleCommandsFromArgv(argv: readonly string[], maxDepth = 3): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  if (argv.length === 0) return out;
  const budget: Budget = { tokens: MAX_TOKENS, chars: MAX_COMMAND_CHARS, cut: argv.length > MAX_TOKENS };
  let words = budget.cut ? argv.slice(0, MAX_TOKENS) : argv;
  // The same character cap as a lexed line: the words that fit, the last one cut.
  let size = 0;
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as string;
    if (size + w.length <= MAX_PARSE_CHARS) {
      size += w.length;
      continue;
    }
    const cut = words.slice(0, k);
    if (size < MAX_PARSE_CHARS) cut.push(w.slice(0, MAX_PARSE_CHARS - size));
    words = cut;
    budget.cut = true;
    break;
  }
  emit(words, [], [], [], false, '', '', out, 0, maxDepth, budget);
  if (budget.cut) markTruncated(out);
  return out;
}

// Segments of a token list: the simple commands between control operators.
interface Seg {
  words: string[];
  assigns: string[];
  writes: string[];
  reads: string[];
  endOp: string;
}

function parseInto(texts: readonly string[], isOp: readonly boolean[], out: SimpleCommand[], sudo: boolean, depth: number, maxDepth: number, budget: Budget): void {
  // First cut the token list into segments with the operator that ended each.
  const segs: Seg[] = [];
  let seg: Seg = { words: [], assigns: [], writes: [], reads: [], endOp: '' };
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i] as string;
    if (isOp[i] === true) {
      if (CONTROL.has(text)) {
        seg.endOp = text;
        segs.push(seg);
        seg = { words: [], assigns: [], writes: [], reads: [], endOp: '' };
        continue;
      }
      if (i + 1 < texts.length && isOp[i + 1] !== true) {
        if (WRITE_REDIR.has(text)) seg.writes.push(texts[i + 1] as string);
        else if (READ_REDIR.has(text)) seg.reads.push(texts[i + 1] as string);
        i++;
      }
      continue;
    }
    if (seg.words.length === 0 && ASSIGN.test(text)) {
      seg.assigns.push(text);
      continue;
    }
    if (seg.words.length === 0 && RESERVED.has(text)) continue;
    seg.words.push(text);
  }
  segs.push(seg);
  let vars: Map<string, string> | undefined;
  for (let k = 0; k < segs.length; k++) {
    const s = segs[k] as Seg;
    if (s.words.length === 0 && s.assigns.length === 0 && s.writes.length === 0) continue;
    if (vars) substituteVars(s, vars);
    vars = recordVars(s, vars);
    readPaths(s);
    const prev = k > 0 ? segs[k - 1] : undefined;
    const next = segs[k + 1];
    const pipeFrom = prev && (prev.endOp === '|' || prev.endOp === '|&') ? runName(prev.words) : '';
    const pipeTo = (s.endOp === '|' || s.endOp === '|&') && next ? runName(next.words) : '';
    emit(s.words, s.assigns, s.writes, s.reads, sudo, pipeTo, pipeFrom, out, depth, maxDepth, budget);
  }
}

/**
 * Index of the command a wrapper runs (words.length when none); `VAR=value` words
 * sudo/doas/pkexec/env pass on are pushed to `envs`.
 */
function wrappedStart(name: string, words: readonly string[], envs?: string[]): number {
  const w = WRAPPERS[name];
  if (!w) return words.length;
  let i = 1;
  for (; i < words.length; i++) {
    const a = words[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if ((name === 'env' || w.priv) && ASSIGN.test(a)) {
      envs?.push(a);
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
  return i;
}

/**
 * The name of the program a pipeline stage runs, through wrappers (`| sudo -u x tclsh` is `tclsh`,
 * `| env FOO=1 sh` is `sh`), so `piped_to`/`piped_from` name what reads or writes the pipe.
 * At most four wrappers deep; a wrapper with no command is its own name.
 */
function runName(words: readonly string[]): string {
  let from = 0;
  let name = basename(words[0] ?? '');
  for (let k = 0; k < 4 && WRAPPERS[name]; k++) {
    const i = from + wrappedStart(name, words.slice(from));
    if (i >= words.length) break;
    from = i;
    name = basename(words[i] as string);
  }
  return name;
}

/** At most this many variables, of at most this many characters each, are followed through one line. */
const MAX_VARS = 16;
const MAX_VAR_VALUE = 512;
const DECLARE = new Set(['export', 'declare', 'typeset', 'local', 'readonly']);

/**
 * `LFILE=/etc/shadow; fold "$LFILE"`: a plain value assigned on the line (alone or through export/declare),
 * remembered so the later commands that use it are read with the value (GTFOBins writes every file read and
 * write this way). Values holding `$` or a backtick are not followed (they are not known here).
 */
function recordVars(s: Seg, vars: Map<string, string> | undefined): Map<string, string> | undefined {
  const fromWords = s.words.length > 1 && DECLARE.has(s.words[0] as string);
  if (s.words.length > 0 && !fromWords) return vars;
  const list = fromWords ? s.words.slice(1) : s.assigns;
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0 || !ASSIGN.test(a)) continue;
    const value = a.slice(eq + 1);
    if (value.length > MAX_VAR_VALUE || value.includes('$') || value.includes('`')) continue;
    vars ??= new Map();
    if (vars.size < MAX_VARS || vars.has(a.slice(0, eq))) vars.set(a.slice(0, eq), value);
  }
  return vars;
}

const VAR_REF = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

function substituteVars(s: Seg, vars: ReadonlyMap<string, string>): void {
  const sub = (w: string): string => (w.includes('$') ? w.replace(VAR_REF, (m, a: string | undefined, b: string | undefined) => vars.get(a ?? b ?? '') ?? m) : w);
  s.words = s.words.map(sub);
  s.writes = s.writes.map(sub);
  s.reads = s.reads.map(sub);
}

/**
 * Files whose very name is the signal (credential stores, sudo and loader config, root's keys): a glob in an
 * absolute path that the shell would expand to one of them (`cat /etc/sh?dow`, `cat /e*c/shad*`, MITRE T1027.010)
 * is read as naming it too. The list is fixed, not the host's filesystem: the rules run where the command ran and
 * in Elasticsearch alike.
 */
const GLOB_TARGETS: readonly string[] = [
  '/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-', '/etc/security/opasswd', '/etc/sudoers',
  '/etc/ld.so.preload', '/root/.ssh/authorized_keys', '/root/.ssh/id_rsa', '/root/.ssh/id_ecdsa', '/root/.ssh/id_ed25519',
];
const GLOB_CHARS = /[*?[]/;
/** Past this a word is not read as a glob. */
const MAX_GLOB_CHARS = 256;

/** Characters of `g` from `i` that match `ch` (a literal, `?`, a `[…]`/`[!…]` class with ranges): how many, or 0. */
function globAt(g: string, i: number, ch: string): number {
  const c = g[i] as string;
  if (c === '?') return 1;
  if (c !== '[') return c === ch ? 1 : 0;
  let j = i + 1;
  const neg = g[j] === '!' || g[j] === '^';
  if (neg) j++;
  const end = g.indexOf(']', j + 1); // a `]` right after `[` or `[!` is a member
  if (end < 0) return ch === '[' ? 1 : 0; // no class: a literal `[`
  let hit = false;
  for (let k = j; k < end; k++) {
    if (g[k + 1] === '-' && k + 2 < end) {
      if (ch >= (g[k] as string) && ch <= (g[k + 2] as string)) hit = true;
      k += 2;
    } else if (g[k] === ch) hit = true;
  }
  return hit !== neg ? end - i + 1 : 0;
}

/**
 * Whether the shell glob `g` names the path `t`: `*` and `?` stay within one path segment. The classic
 * two-pointer match, O(|g|·|t|) per segment: no regex, so no backtracking blow-up on `*a*a*a…`.
 */
export function globMatches(g: string, t: string): boolean {
  const gs = g.split('/');
  const ts = t.split('/');
  if (gs.length !== ts.length) return false;
  for (let s = 0; s < gs.length; s++) {
    const gp = gs[s] as string;
    const tp = ts[s] as string;
    let gi = 0;
    let ti = 0;
    let starG = -1;
    let starT = 0;
    while (ti < tp.length) {
      if (gi < gp.length && gp[gi] === '*') {
        starG = gi++;
        starT = ti;
        continue;
      }
      const n = gi < gp.length ? globAt(gp, gi, tp[ti] as string) : 0;
      if (n > 0) {
        gi += n;
        ti++;
      } else if (starG >= 0) {
        gi = starG + 1;
        ti = ++starT;
      } else return false;
    }
    while (gi < gp.length && gp[gi] === '*') gi++;
    if (gi !== gp.length) return false;
  }
  return true;
}

/**
 * An absolute path as the kernel resolves its spelling: `//etc//shadow`, `/etc/./shadow` and `/etc/../etc/shadow`
 * are `/etc/shadow` (symlinks aside). Other words are returned as they are.
 */
export function normalPath(w: string): string {
  if (w.charCodeAt(0) !== 47 || !(w.includes('//') || w.includes('/.'))) return w;
  const out: string[] = [];
  for (const seg of w.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/') + (w.endsWith('/') && out.length > 0 ? '/' : '');
}

/** At most this many words come from one word's brace expansion. */
const MAX_BRACE_WORDS = 32;
/** The innermost brace group holding a comma (`{a,b}`; not `{}`, `{x}` or the sequence `{1..3}`). */
const BRACE_GROUP = /\{([^{},]*(?:,[^{},]*)+)\}/;

/**
 * bash's brace expansion of one word (`/etc/sh{a,}dow` is `/etc/shadow /etc/shdow`, `{cat,/etc/shadow}` is
 * `cat /etc/shadow`), inner groups first; undefined when the word has no group, is longer than MAX_GLOB_CHARS or
 * would give more than MAX_BRACE_WORDS words. Quoting is gone by here, so a quoted `'{a,b}'` is expanded too: only
 * the rules read the result.
 */
export function braceExpand(w: string): string[] | undefined {
  if (w.length > MAX_GLOB_CHARS || !w.includes('{') || !w.includes(',')) return undefined;
  let out = [w];
  for (let round = 0; round < 8; round++) {
    const next: string[] = [];
    let grew = false;
    for (const x of out) {
      const m = BRACE_GROUP.exec(x);
      if (!m) {
        next.push(x);
        continue;
      }
      grew = true;
      for (const alt of (m[1] as string).split(',')) next.push(x.slice(0, m.index) + alt + x.slice(m.index + m[0].length));
      if (next.length > MAX_BRACE_WORDS) return undefined;
    }
    if (!grew) return round === 0 ? undefined : out;
    out = next;
  }
  return out;
}

/**
 * An absolute path's word, then its spelling as the kernel resolves it when that differs (`//etc//shadow`), then
 * what a glob naming one of GLOB_TARGETS names. The word as typed stays: a rule may look at it, and `//host/share`
 * is a UNC path to smbclient, not `/host/share`.
 */
function readPaths(s: Seg): void {
  // `{cat,/etc/shadow}` alone is the command `cat /etc/shadow` (a space-free spelling).
  const first = s.words[0];
  if (s.words.length === 1 && first !== undefined && first.startsWith('{') && first.endsWith('}')) {
    const braced = braceExpand(first);
    if (braced && braced.length > 1) s.words = braced;
  }
  let words: string[] | undefined;
  for (let k = 0; k < s.words.length; k++) {
    const w = s.words[k] as string;
    words?.push(w);
    if (w.charCodeAt(0) !== 47) continue;
    // `/etc/{shadow,passwd}`, `/etc/sh{a,}dow`: the paths it spells follow it (as the kernel reads them).
    const braced = k > 0 ? braceExpand(w) : undefined;
    if (braced) {
      words ??= s.words.slice(0, k + 1);
      for (const b of braced) if (b.charCodeAt(0) === 47) words.push(normalPath(b));
      continue;
    }
    const p = normalPath(w);
    const glob = k > 0 && p.length <= MAX_GLOB_CHARS && GLOB_CHARS.test(p) && /[^*?[\]!^]/.test(p.slice(p.lastIndexOf('/') + 1));
    if (p === w && !glob) continue;
    words ??= s.words.slice(0, k + 1);
    if (p !== w) words.push(p);
    // A file's name spelled as a glob (`sh?dow`, `shad*`), not a whole directory (`/etc/*`: a backup's bulk copy).
    if (glob) for (const t of GLOB_TARGETS) if (globMatches(p, t)) words.push(t);
  }
  if (words) s.words = words;
  const withNormal = (list: string[]): string[] => (list.some((x) => normalPath(x) !== x) ? list.flatMap((x) => (normalPath(x) === x ? [x] : [x, normalPath(x)])) : list);
  s.writes = withNormal(s.writes);
  s.reads = withNormal(s.reads);
}

function charsOf(words: readonly string[]): number {
  let n = 0;
  for (let k = 0; k < words.length; k++) n += (words[k] as string).length;
  return n;
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
  budget: Budget,
): void {
  // What the rules will read of this command counts against the line's budget.
  const size = charsOf(words) + charsOf(assigns) + charsOf(writes) + charsOf(reads);
  if (size > budget.chars) {
    budget.chars = 0;
    budget.cut = true;
    return;
  }
  budget.chars -= size;
  const name = basename(words[0] ?? '');
  out.push({ name, argv: words, assigns, writes, reads, sudo, pipeTo, pipeFrom, depth });
  if (depth >= maxDepth || words.length < 2) return;
  const w = WRAPPERS[name];
  if (w) {
    const envs: string[] = [];
    const i = wrappedStart(name, words, envs);
    if (i < words.length) emit(words.slice(i), envs, writes, reads, sudo || w.priv, pipeTo, pipeFrom, out, depth + 1, maxDepth, budget);
    return;
  }
  const inContainer = containerExecStart(name, words);
  if (inContainer < words.length) {
    emit(words.slice(inContainer), [], writes, reads, false, pipeTo, pipeFrom, out, depth + 1, maxDepth, budget);
    return;
  }
  // `sh -c 'STRING'`, `su [-] [user] -c 'STRING'`, `eval STRING`: parse the string again.
  let script: string | undefined;
  let priv = sudo;
  if (SHELLS.has(name)) {
    for (let i = 1; i < words.length; i++) {
      const a = words[i] as string;
      // Not /^-[a-zA-Z]*c[a-zA-Z]*$/: that backtracks quadratically on `-ccc…c!`.
      if (a.includes('c') && /^-[a-zA-Z]+$/.test(a)) {
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
  if (script !== undefined) parseLine(script, out, priv, depth + 1, maxDepth, budget);
}
