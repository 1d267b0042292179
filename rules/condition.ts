/**
 * Compiles rule conditions to closures, once at load. The hot path evaluates a
 * closure tree against an EvalContext that caches, per event, the lower-cased
 * field values and the parsed simple commands (computed at most once per event,
 * only if a rule asks for them).
 */
import { isIP } from 'node:net';
import { AuditkitError } from '../core';
import { simpleCommands, simpleCommandsFromArgv, type SimpleCommand } from '../schema';
import { compileRegex } from './regex';
import type { CmdSpec, Condition, FieldCond, ModeClass, OneOrMany, Scalar, StrMatch } from './types';

export type Doc = Readonly<Record<string, unknown>>;

/**
 * Resolve a dotted path on a nested (or partly flattened) document; `process.args.0` indexes arrays.
 *
 * Generated as straight-line code per path (keys are JSON-quoted, so a path cannot
 * inject code): each getter then has its own inline caches, which matters because
 * the hot path calls ~30 of them per event, most for absent fields.
 */
export function compilePath(path: string): (doc: Doc) => unknown {
  // One getter per path for the process: rules read the same few dozen paths, and each generated function
  // costs its own bytecode and feedback (issue 20: ~6,500 code objects, 1.2 MB, for 324 rules).
  let g = getters.get(path);
  if (g === undefined) {
    g = generatePath(path);
    getters.set(path, g);
  }
  return g;
}

const getters = new Map<string, (doc: Doc) => unknown>();

function generatePath(path: string): (doc: Doc) => unknown {
  return new Function('d', `let r;\n${pathCode(path, 'r', 'p')}return r;`) as (doc: Doc) => unknown;
}

/**
 * Code that stores `path`'s value in `target` (a labelled block: every early exit is a `break`), so one
 * function can read several paths in a row (compilePaths) with the same semantics as compilePath's getters.
 */
function pathCode(path: string, target: string, label: string): string {
  const parts = path.split('.');
  const q = (k: string): string => JSON.stringify(k);
  const out = (x: string): string => `{ ${target} = ${x}; break ${label}; }`;
  let body = `${label}: { let v = d[${q(path)}]; if (v !== undefined || ${parts.length === 1}) ${out('v')} let c = d;\n`;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const idx = /^\d+$/.test(p) ? Number(p) : -1;
    body += `if (c === null || c === undefined) ${out('undefined')}\n`;
    body += `if (Array.isArray(c)) { ${idx >= 0 ? `c = c[${idx}];` : out('undefined')} } else {\n`;
    body += `if (typeof c !== 'object') ${out('undefined')}\n`;
    body += `v = c[${q(p)}];\n`;
    // A partly flattened object: try the rest of the path as one key.
    if (i > 0) body += `if (v === undefined && ${q(parts.slice(i).join('.'))} in c) ${out(`c[${q(parts.slice(i).join('.'))}]`)}\n`;
    body += 'c = v; }\n';
  }
  return body + `${target} = c; }\n`;
}

/**
 * One function that reads every path of `paths` into `out` (out[i] = the value of paths[i], as compilePath
 * reads it). For the prefilter, which reads ~40 paths of every event, most of them absent: one call instead
 * of one call per path through a site that sees ~40 different getters (never inlined).
 */
export function compilePaths(paths: readonly string[]): (doc: Doc, out: unknown[]) => void {
  return new Function('d', 'o', paths.map((p, i) => pathCode(p, `o[${i}]`, `p${i}`)).join('')) as (doc: Doc, out: unknown[]) => void;
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
/** Field path → slot in the per-event cache (one registry for the process). */
const slots = new Map<string, number>();
export function pathSlot(path: string): number {
  let s = slots.get(path);
  if (s === undefined) {
    s = slots.size;
    slots.set(path, s);
  }
  return s;
}

function collect(x: unknown, lower: boolean, arr: string[]): void {
  if (x === null || x === undefined) return;
  if (typeof x === 'string') arr.push(lower ? x.toLowerCase() : x);
  else if (Array.isArray(x)) for (const y of x) collect(y, lower, arr);
  else if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') arr.push(String(x));
}

/** Per-event cache, reused across events by the engine (reset() between events). */
export class EvalContext {
  doc: Doc = {};
  private epoch = 1;
  /** Per slot: epoch of the cached value, the raw strings, the lower-cased strings. */
  private rawAt: number[] = [];
  private raw: Array<readonly string[]> = [];
  private lowAt: number[] = [];
  private low: Array<readonly string[]> = [];
  private commands: SimpleCommand[] | undefined;
  /**
   * Per command of the event (its index in cmds()): the positional words and the argv joined by spaces,
   * computed on first use. Many rules ask for them; indexing by position costs no WeakMap entry (an
   * ephemeron the GC traces) and no hashing.
   */
  private readonly pos: Array<readonly string[] | undefined> = [];
  private readonly texts: Array<string | undefined> = [];
  private readonly names: Array<number | undefined> = [];
  reset(doc: Doc): this {
    this.doc = doc;
    this.epoch++;
    this.commands = undefined;
    if (this.pos.length) this.pos.length = 0;
    if (this.texts.length) this.texts.length = 0;
    if (this.names.length) this.names.length = 0;
    return this;
  }
  /** Command `i`'s name as its number among the names rules test (NAME_IDS), 0 when no rule names it. */
  nameAt(i: number, c: SimpleCommand): number {
    return (this.names[i] ??= NAME_IDS.get(c.name) ?? 0);
  }
  /** Positional words of command `i` of cmds() (positionals()). */
  positionalsAt(i: number, c: SimpleCommand): readonly string[] {
    return (this.pos[i] ??= computePositionals(c.argv));
  }
  /** The argv of command `i` of cmds() joined by spaces. */
  textAt(i: number, c: SimpleCommand): string {
    return (this.texts[i] ??= c.argv.join(' '));
  }
  /** String values of a field (arrays flattened), lower-cased if asked. Cached per event. */
  strings(path: string, getter: (d: Doc) => unknown, lower: boolean): readonly string[] {
    return this.stringsAt(pathSlot(path), getter, lower);
  }
  /** strings() by slot (pathSlot(path)), for compiled predicates. */
  stringsAt(slot: number, getter: (d: Doc) => unknown, lower: boolean): readonly string[] {
    const at = lower ? this.lowAt : this.rawAt;
    const vals = lower ? this.low : this.raw;
    if (at[slot] === this.epoch) return vals[slot] as readonly string[];
    const x = getter(this.doc);
    let v: readonly string[];
    if (x === undefined || x === null) v = NO_STRINGS;
    else if (typeof x === 'string') v = [lower ? x.toLowerCase() : x];
    else {
      const arr: string[] = [];
      collect(x, lower, arr);
      v = arr;
    }
    while (at.length <= slot) {
      at.push(0);
      vals.push(NO_STRINGS);
    }
    at[slot] = this.epoch;
    vals[slot] = v;
    return v;
  }
  /** Simple commands of the event: from process.command_line for shell commands, else from process.args. */
  cmds(): readonly SimpleCommand[] {
    if (this.commands === undefined) this.commands = commandsOf(this.doc);
    return this.commands;
  }
}

const getCmdLine = compilePath('process.command_line');
const getArgs = compilePath('process.args');
const getDataset = compilePath('event.dataset');

/** How a collector event becomes simple commands (exported for tests and the ES candidate check). */
export function commandsOf(doc: Doc): SimpleCommand[] {
  const args = getArgs(doc);
  const line = getCmdLine(doc);
  // auditd EXECVE args never went through a shell: use them as one argv.
  if (getDataset(doc) === 'auditkit.auditd' && Array.isArray(args) && args.length > 0) return simpleCommandsFromArgv(args.map(String));
  if (typeof line === 'string' && line.length > 0) return simpleCommands(line);
  if (Array.isArray(args) && args.length > 0) return simpleCommandsFromArgv(args.map(String));
  return [];
}

export type Predicate = (ctx: EvalContext) => boolean;

function list<T>(v: OneOrMany<T> | undefined): readonly T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

/**
 * `s` lower-cased, cached for the last input: the nocase string tests of many rules are tried on the
 * same argv word one after another (the same cache as regex.ts's for its literal check).
 */
let lastIn = '';
let lastLower = '';
function lowerCached(s: string): string {
  if (s !== lastIn) {
    lastIn = s;
    lastLower = s.toLowerCase();
  }
  return lastLower;
}

/**
 * Compile a StrMatch to a string test. Plain loops, not `xs.some((x) => s.startsWith(x))`: such a
 * callback captures `s`, so one closure was allocated per rule, per word and per event (issue 20:
 * an allocation profile at 1,000 events/s put ~1.6 KB of each event's ~14 KB in these tests).
 */
export function compileStr(m: StrMatch): (s: string) => boolean {
  const nocase = m.nocase === true;
  const norm = (x: string): string => (nocase ? x.toLowerCase() : x);
  const tests: Array<(s: string) => boolean> = [];
  const eq = list(m.equals).map(norm);
  if (eq.length) {
    const set = new Set(eq);
    tests.push((s) => set.has(s));
  }
  const sw = list(m.startswith).map(norm);
  if (sw.length) {
    tests.push((s) => {
      for (let i = 0; i < sw.length; i++) if (s.startsWith(sw[i] as string)) return true;
      return false;
    });
  }
  const ew = list(m.endswith).map(norm);
  if (ew.length) {
    tests.push((s) => {
      for (let i = 0; i < ew.length; i++) if (s.endsWith(ew[i] as string)) return true;
      return false;
    });
  }
  const ct = list(m.contains).map(norm);
  if (ct.length) {
    tests.push((s) => {
      for (let i = 0; i < ct.length; i++) if (s.includes(ct[i] as string)) return true;
      return false;
    });
  }
  const re = list(m.regex).map((r) => compileRegex(r, nocase));
  if (re.length) {
    tests.push((s) => {
      for (let i = 0; i < re.length; i++) if ((re[i] as (s: string) => boolean)(s)) return true;
      return false;
    });
  }
  const all = (s: string): boolean => {
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as (s: string) => boolean)(s)) return false;
    return true;
  };
  if (nocase) {
    if (tests.length === 1) {
      const t = tests[0] as (s: string) => boolean;
      return (s) => t(lowerCached(s));
    }
    return (s) => all(lowerCached(s));
  }
  if (tests.length === 1) return tests[0] as (s: string) => boolean;
  return all;
}

/** Classify a chmod mode word. Returns undefined when the word is not a mode. */
export function modeClasses(word: string): Set<ModeClass> | undefined {
  const out = new Set<ModeClass>();
  if (/^[0-7]{3,4}$/.test(word)) {
    const d = word.padStart(4, '0');
    const special = Number(d[0]);
    const group = Number(d[2]);
    const other = Number(d[3]);
    if (special & 4) out.add('setuid');
    if (special & 2) out.add('setgid');
    if (group & 2) out.add('group_writable');
    if (other & 2) out.add('world_writable');
    if (other & 4) out.add('world_readable');
    if (/^0?000$/.test(word)) out.add('no_access');
    return out;
  }
  if (/^[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*$/.test(word)) {
    for (const clause of word.split(',')) {
      const mm = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
      if (!mm) continue;
      const who = mm[1] ?? '';
      const op = mm[2] ?? '';
      const perms = mm[3] ?? '';
      if (op === '-') continue;
      const all = who === '' || who.includes('a');
      if (perms.includes('s') && (all || who.includes('u'))) out.add('setuid');
      if (perms.includes('s') && (all || who.includes('g'))) out.add('setgid');
      // `+w` without a who is filtered by the umask: only an explicit o/a makes it world-writable.
      if (perms.includes('w') && (who.includes('o') || who.includes('a'))) out.add('world_writable');
      if (perms.includes('w') && who.includes('g')) out.add('group_writable');
      if (perms.includes('r') && (who.includes('o') || who.includes('a'))) out.add('world_readable');
      if (op === '=' && perms === '' && (who === 'a' || who === 'ugo')) out.add('no_access');
    }
    return out;
  }
  return undefined;
}

function isFlag(w: string): boolean {
  return w.length > 1 && w.startsWith('-') && !/^-\d/.test(w);
}

/** Does argv contain the flag? `-r` also matches bundles (`-rf`); `--force` also `--force=x`. */
function hasFlag(argv: readonly string[], flag: string): boolean {
  const long = flag.startsWith('--');
  const letter = flag.length === 2 ? flag[1] : undefined;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i] as string;
    if (w === '--') return false;
    if (w === flag) return true;
    if (long) {
      if (w.startsWith(flag + '=')) return true;
    } else if (letter !== undefined && w.length > 2 && w[0] === '-' && w[1] !== '-' && /^-[A-Za-z]+$/.test(w) && w.includes(letter)) {
      return true;
    } else if (!long && flag.length > 2 && w.startsWith(flag + '=')) {
      return true;
    }
  }
  return false;
}

const posCache = new WeakMap<readonly string[], readonly string[]>();
/** Positional (non-flag) words of an argv; cached per argv because many rules ask for them. */
export function positionals(argv: readonly string[]): readonly string[] {
  const hit = posCache.get(argv);
  if (hit) return hit;
  const out = computePositionals(argv);
  posCache.set(argv, out);
  return out;
}

function computePositionals(argv: readonly string[]): string[] {
  const out: string[] = [];
  let endOpts = false;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i] as string;
    if (!endOpts && w === '--') {
      endOpts = true;
      continue;
    }
    if (endOpts || !isFlag(w)) out.push(w);
  }
  return out;
}

export function optionValues(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i] as string;
    for (const n of names) {
      if (w === n) {
        const v = argv[i + 1];
        if (v !== undefined) out.push(v);
      } else if (w.startsWith(n + '=')) {
        out.push(w.slice(n.length + 1));
      } else if (n.length === 2 && n[0] === '-' && /^-[A-Za-z]{2,}$/.test(w) && w.endsWith(n[1] as string)) {
        const v = argv[i + 1]; // bundled: `-ou 0`
        if (v !== undefined) out.push(v);
      } else if (n.length === 2 && !n.startsWith('--') && w.startsWith(n) && w.length > 2 && !w.startsWith('--') && !/^-[A-Za-z]+$/.test(w)) {
        out.push(w.slice(2)); // -ofile
      }
    }
  }
  return out;
}

/**
 * Command names the rules test, numbered at compile time: a name test is then one array load on the
 * number looked up once per command and event, instead of a string hash lookup per rule and command
 * (~30 per event on the bench mix, 5% of the engine's time).
 */
const NAME_IDS = new Map<string, number>();
/**
 * Membership of `names` by their numbers (from 1; 0 is no rule's name), one bit each: inNameSet(m, id).
 * A name numbered after this set was built is past its end, so not a member. Bits, not a byte per name:
 * every name test of every rule holds one, as long as the names numbered so far (issue 20: 740 sets of
 * ~1 KB each for the built-in and Sigma rules).
 */
function nameSet(names: readonly string[]): Uint32Array {
  for (const n of names) if (!NAME_IDS.has(n)) NAME_IDS.set(n, NAME_IDS.size + 1);
  const m = new Uint32Array((NAME_IDS.size >>> 5) + 1);
  for (const n of names) {
    const id = NAME_IDS.get(n) as number;
    m[id >>> 5] = (m[id >>> 5] as number) | (1 << (id & 31));
  }
  return m;
}

function inNameSet(m: Uint32Array, id: number): boolean {
  const w = id >>> 5;
  return w < m.length && (((m[w] as number) >>> (id & 31)) & 1) === 1;
}

/** A test of one simple command: `c` is command `i` of `ctx.cmds()` (the index keys its derived values). */
type CmdTest = (c: SimpleCommand, ctx: EvalContext, i: number) => boolean;

export function compileCmd(spec: CmdSpec): CmdTest {
  const tests: CmdTest[] = [];
  const names = list(spec.name);
  if (names.length) {
    const m = nameSet(names);
    tests.push((c, ctx, i) => inNameSet(m, ctx.nameAt(i, c)));
  }
  const none = list(spec.name_none);
  if (none.length) {
    const m = nameSet(none);
    tests.push((c, ctx, i) => !inNameSet(m, ctx.nameAt(i, c)));
  }
  // The tests are a conjunction of pure checks: the cheap ones (flags, sets, counts) go first, so a command
  // they refuse never reaches a word loop or a regex (a 64 KiB word of deep $( nesting reached
  // words_any's regex before piped_to refused it).
  if (spec.truncated !== undefined) {
    const want = spec.truncated;
    tests.push((c) => (c.truncated === true) === want);
  }
  if (spec.sudo !== undefined) {
    const want = spec.sudo;
    tests.push((c) => c.sudo === want);
  }
  if (spec.min_args !== undefined) {
    const n = spec.min_args;
    tests.push((c) => c.argv.length - 1 >= n);
  }
  if (spec.piped_to?.length) {
    const set = new Set(spec.piped_to);
    tests.push((c) => set.has(c.pipeTo));
  }
  if (spec.piped_from?.length) {
    const set = new Set(spec.piped_from);
    tests.push((c) => set.has(c.pipeFrom));
  }
  if (spec.name_regex !== undefined) {
    const re = compileRegex(spec.name_regex);
    tests.push((c) => re(c.name));
  }
  if (spec.argv0) {
    const t = compileStr(spec.argv0);
    tests.push((c) => t(c.argv[0] ?? ''));
  }
  if (spec.flags_any?.length) {
    const fl = spec.flags_any;
    tests.push((c) => fl.some((f) => hasFlag(c.argv, f)));
  }
  if (spec.flags_all?.length) {
    const fl = spec.flags_all;
    tests.push((c) => fl.every((f) => hasFlag(c.argv, f)));
  }
  if (spec.flags_none?.length) {
    const fl = spec.flags_none;
    tests.push((c) => !fl.some((f) => hasFlag(c.argv, f)));
  }
  if (spec.args_any) {
    const t = compileStr(spec.args_any);
    tests.push((c, ctx, i) => ctx.positionalsAt(i, c).some(t));
  }
  if (spec.args_all?.length) {
    const ts = spec.args_all.map(compileStr);
    tests.push((c, ctx, i) => {
      const p = ctx.positionalsAt(i, c);
      // Loops, not ts.every((t) => p.some(t)): that callback was one closure per call (see compileStr).
      for (let j = 0; j < ts.length; j++) if (!p.some(ts[j] as (s: string) => boolean)) return false;
      return true;
    });
  }
  if (spec.args_none) {
    const t = compileStr(spec.args_none);
    tests.push((c, ctx, i) => !ctx.positionalsAt(i, c).some(t));
  }
  if (spec.words_any) {
    const t = compileStr(spec.words_any);
    tests.push((c) => {
      for (let i = 1; i < c.argv.length; i++) if (t(c.argv[i] as string)) return true;
      return false;
    });
  }
  if (spec.words_none) {
    const t = compileStr(spec.words_none);
    tests.push((c) => {
      for (let i = 1; i < c.argv.length; i++) if (t(c.argv[i] as string)) return false;
      return true;
    });
  }
  if (spec.text) {
    const t = compileStr(spec.text);
    tests.push((c, ctx, i) => t(ctx.textAt(i, c)));
  }
  if (spec.option) {
    const { names: on, value } = spec.option;
    const t = value ? compileStr(value) : undefined;
    tests.push((c) => {
      const vals = optionValues(c.argv, on);
      return t ? vals.some(t) : vals.length > 0 || on.some((n) => hasFlag(c.argv, n));
    });
  }
  if (spec.writes) {
    const t = compileStr(spec.writes);
    tests.push((c) => c.writes.some(t));
  }
  if (spec.reads) {
    const t = compileStr(spec.reads);
    tests.push((c) => c.reads.some(t));
  }
  if (spec.assigns) {
    const t = compileStr(spec.assigns);
    tests.push((c) => c.assigns.some(t));
  }
  if (spec.mode?.length) {
    const want = spec.mode;
    tests.push((c, ctx, i) =>
      ctx.positionalsAt(i, c).some((w) => {
        const cl = modeClasses(w);
        return cl !== undefined && want.some((m) => cl.has(m));
      }),
    );
  }
  return (c, ctx, i) => {
    for (const t of tests) if (!t(c, ctx, i)) return false;
    return true;
  };
}

/** IPv4/IPv6 CIDR test. */
export function compileCidr(cidr: string): (ip: string) => boolean {
  const [addr, bitsStr] = cidr.split('/');
  const v = isIP(addr ?? '');
  if (v === 0) throw new AuditkitError('AK_RULE_INVALID', `not an IP network: ${cidr}`);
  const total = v === 4 ? 32 : 128;
  const bits = bitsStr === undefined ? total : Number(bitsStr);
  if (!Number.isInteger(bits) || bits < 0 || bits > total) throw new AuditkitError('AK_RULE_INVALID', `bad prefix length in ${cidr}`);
  const base = ipToBig(addr as string);
  const shift = BigInt(total - bits);
  return (ip) => {
    if (isIP(ip) !== v) return false;
    return ipToBig(ip) >> shift === base >> shift;
  };
}

function ipToBig(ip: string): bigint {
  if (ip.includes('.') && !ip.includes(':')) return ip.split('.').reduce((a, o) => (a << 8n) + BigInt(Number(o)), 0n);
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

const KEYWORD_FIELDS = ['message', 'process.command_line', 'process.title'];

function asNumber(x: string): number | undefined {
  if (x.trim() === '') return undefined;
  const n = Number(x);
  return Number.isFinite(n) ? n : undefined;
}

function compileField(c: FieldCond): Predicate {
  const get = compilePath(c.field);
  const slot = pathSlot(c.field);
  const cs = c.case_sensitive === true;
  const tests: Predicate[] = [];
  const strTest = (vals: readonly string[], mk: (v: string) => (s: string) => boolean): Predicate => {
    const fns = vals.map((v) => mk(cs ? v : v.toLowerCase()));
    if (c.all_values) return (ctx) => fns.every((f) => ctx.stringsAt(slot, get, !cs).some(f));
    return (ctx) => {
      const arr = ctx.stringsAt(slot, get, !cs);
      for (const s of arr) for (const f of fns) if (f(s)) return true;
      return false;
    };
  };
  if (c.equals !== undefined) {
    const vals = list<Scalar>(c.equals);
    tests.push(strTest(vals.map(String), (v) => (s) => s === v));
  }
  if (c.contains !== undefined) tests.push(strTest(list(c.contains), (v) => (s) => s.includes(v)));
  if (c.startswith !== undefined) tests.push(strTest(list(c.startswith), (v) => (s) => s.startsWith(v)));
  if (c.endswith !== undefined) tests.push(strTest(list(c.endswith), (v) => (s) => s.endsWith(v)));
  if (c.regex !== undefined) {
    // Regexes are case-sensitive unless the rule says otherwise (Sigma `re` semantics).
    const res = list(c.regex).map((r) => compileRegex(r));
    tests.push(
      c.all_values ? (ctx) => res.every((r) => ctx.stringsAt(slot, get, false).some((s) => r(s))) : (ctx) => ctx.stringsAt(slot, get, false).some((s) => res.some((r) => r(s))),
    );
  }
  if (c.cidr !== undefined) {
    const nets = list(c.cidr).map(compileCidr);
    tests.push((ctx) => ctx.stringsAt(slot, get, false).some((s) => nets.some((n) => n(s))));
  }
  if (c.exists !== undefined) {
    const want = c.exists;
    tests.push((ctx) => {
      const v = get(ctx.doc);
      const has = v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
      return has === want;
    });
  }
  const num = (op: (n: number) => boolean): Predicate => (ctx) => ctx.stringsAt(slot, get, false).some((s) => {
    const n = asNumber(s);
    return n !== undefined && op(n);
  });
  if (c.gt !== undefined) {
    const b = c.gt;
    tests.push(num((n) => n > b));
  }
  if (c.gte !== undefined) {
    const b = c.gte;
    tests.push(num((n) => n >= b));
  }
  if (c.lt !== undefined) {
    const b = c.lt;
    tests.push(num((n) => n < b));
  }
  if (c.lte !== undefined) {
    const b = c.lte;
    tests.push(num((n) => n <= b));
  }
  if (tests.length === 1) return tests[0] as Predicate;
  return (ctx) => tests.every((t) => t(ctx));
}

export function compileCondition(c: Condition): Predicate {
  if ('all' in c) {
    const ps = c.all.map(compileCondition);
    return (ctx) => {
      for (const p of ps) if (!p(ctx)) return false;
      return true;
    };
  }
  if ('any' in c) {
    const ps = c.any.map(compileCondition);
    return (ctx) => {
      for (const p of ps) if (p(ctx)) return true;
      return false;
    };
  }
  if ('not' in c) {
    const p = compileCondition(c.not);
    return (ctx) => !p(ctx);
  }
  if ('cmd' in c) {
    const t = compileCmd(c.cmd);
    return (ctx) => {
      const cs = ctx.cmds();
      for (let i = 0; i < cs.length; i++) if (t(cs[i] as SimpleCommand, ctx, i)) return true;
      return false;
    };
  }
  if ('keywords' in c) {
    const kws = c.keywords.map((k) => k.toLowerCase());
    const getters = KEYWORD_FIELDS.map((f) => [pathSlot(f), compilePath(f)] as const);
    return (ctx) => {
      for (const [f, g] of getters) for (const s of ctx.stringsAt(f, g, true)) for (const k of kws) if (s.includes(k)) return true;
      return false;
    };
  }
  return compileField(c);
}

/** Field paths a condition reads (for routing, reporting unmapped fields, ES `_source`). */
export function conditionFields(c: Condition, out: Set<string> = new Set()): Set<string> {
  if ('all' in c) c.all.forEach((x) => conditionFields(x, out));
  else if ('any' in c) c.any.forEach((x) => conditionFields(x, out));
  else if ('not' in c) conditionFields(c.not, out);
  else if ('cmd' in c) {
    out.add('process.command_line');
    out.add('process.args');
  } else if ('keywords' in c) KEYWORD_FIELDS.forEach((f) => out.add(f));
  else out.add(c.field);
  return out;
}
