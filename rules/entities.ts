/**
 * Derived suppression keys: the same action reaches the engine from several
 * sources (the shell command `sudo usermod -aG sudo x`, the auditd EXECVE of
 * usermod, sudo's USER_CMD record, the auditd account-change record), each with
 * the facts in different places: the command's arguments, or ECS fields
 * (user.target.name, group.name). A rule's `suppress.by` may name these keys to
 * make one alert (with a count and every source event id) of all of them:
 *
 * - `$target_user`: the account acted on (user.target.name, else the user
 *   argument of usermod/useradd/userdel/gpasswd/adduser/deluser/passwd/chage);
 * - `$group`: the group(s) involved (group.name or auditd.data.grp, else `-G`/`-g` of
 *   usermod/useradd, the group argument of gpasswd/adduser/addgroup), sorted.
 */
import { compilePath, optionValues, positionals, type EvalContext } from './condition';
import type { SimpleCommand } from '../schema';

export const DERIVED_KEYS = ['$target_user', '$group'] as const;
export type DerivedKey = (typeof DERIVED_KEYS)[number];

const getTargetUser = compilePath('user.target.name');
const getGroup = compilePath('group.name');
const getRawGroup = compilePath('auditd.data.grp');

const USER_TOOLS = new Set(['usermod', 'useradd', 'userdel', 'gpasswd', 'adduser', 'deluser', 'addgroup', 'passwd', 'chage']);

function accountCommand(ctx: EvalContext): SimpleCommand | undefined {
  for (const c of ctx.cmds()) if (USER_TOOLS.has(c.name)) return c;
  return undefined;
}

function firstString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** Options of usermod/useradd that take a value (so their value is not the user argument). */
const VALUE_OPTS = new Set(['-G', '-g', '-s', '-d', '-c', '-u', '-e', '-f', '-k', '-K', '-p', '-R', '-P', '-Z', '-b', '-l']);

function targetUser(ctx: EvalContext): string | undefined {
  const f = firstString(getTargetUser(ctx.doc));
  if (f !== undefined) return f;
  const c = accountCommand(ctx);
  if (!c) return undefined;
  if (c.name === 'gpasswd') return optionValues(c.argv, ['-a', '--add', '-d', '--delete'])[0] ?? optionValues(c.argv, ['-M', '--members'])[0];
  if (c.name === 'adduser' || c.name === 'deluser' || c.name === 'addgroup') return positionals(c.argv)[0];
  // usermod & co: the last word that is neither an option nor an option's value.
  let last: string | undefined;
  for (let i = 1; i < c.argv.length; i++) {
    const w = c.argv[i] as string;
    if (w.startsWith('-')) {
      const letter = w.length >= 2 && !w.startsWith('--') ? `-${w[w.length - 1] ?? ''}` : '';
      if (VALUE_OPTS.has(w) || VALUE_OPTS.has(letter)) i++; // `-G sudo`, bundled `-aG sudo`
      continue;
    }
    last = w;
  }
  return last;
}

function groups(ctx: EvalContext): string | undefined {
  const f = getGroup(ctx.doc) ?? getRawGroup(ctx.doc);
  if (typeof f === 'string') return f;
  if (Array.isArray(f)) return f.map(String).sort().join(',');
  const c = accountCommand(ctx);
  if (!c) return undefined;
  let gs: string[] = [];
  if (c.name === 'usermod' || c.name === 'useradd') gs = optionValues(c.argv, ['-G', '--groups', '-g', '--gid']).flatMap((v) => v.split(','));
  else if (c.name === 'gpasswd') gs = positionals(c.argv).slice(-1);
  else if (c.name === 'adduser' || c.name === 'addgroup' || c.name === 'deluser') gs = positionals(c.argv).slice(1, 2);
  gs = gs.filter((g) => g !== '');
  return gs.length ? [...new Set(gs)].sort().join(',') : undefined;
}

export function derivedKey(key: DerivedKey): (ctx: EvalContext) => string | undefined {
  return key === '$target_user' ? targetUser : groups;
}
