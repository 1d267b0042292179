/**
 * The guard rail at the door: every command extracted from a bastion session is checked by the
 * SAME rules engine the collectors use (the command becomes the ECS process event of
 * `commandEvent`, as a host's shell hook would emit it), before the Enter reaches the target.
 *
 * A policy maps the rules a command matched to an action, by rule id, tag (or the rule's
 * category: the built-in packs file their rules by category) and severity. Entries are tried in
 * order and the first that selects a rule gives that rule's action; a rule no entry selects takes
 * `default`. The command's verdict is the strongest action among its rules (block > warn >
 * allow): an `allow` for one rule never un-blocks another rule the command also matched.
 *
 * Invariants:
 * - `check` never throws: an internal failure gives `on_error` (block by default: fail closed).
 * - Time is bounded: only the first `max_command_length` characters are evaluated (the shell
 *   parse of the rules engine is not linear on pathological input); a longer command also takes
 *   the `oversize` action, since what it hides past the limit was not checked.
 * - Messages carry no control characters: the command and rule texts are escaped, so a crafted
 *   command cannot drive the user's terminal through the guard's own message.
 * - Only `match` rules are used: threshold, sequence and first-seen rules are about a stream of
 *   events, and their state would be shared by every session of the bastion. They still run on
 *   the command events the bastion ships, like every other event.
 */
import { AuditkitError, escapeControlAll, ExitCode } from '../core';
import { commandEvent, createStreamingEngine, SEVERITIES, type ExtraException, type RuleDef, type Severity, type StreamingEngine } from '../rules';

export type GuardAction = 'allow' | 'warn' | 'block';
export interface GuardRuleRef {
  readonly id: string;
  readonly name: string;
  readonly severity: string;
}
export type GuardVerdict = { readonly action: 'allow' } | { readonly action: 'warn' | 'block'; readonly rules: readonly GuardRuleRef[]; readonly message: string };
export interface GuardContext {
  /** The bastion user (the person). */
  readonly user: string;
  readonly host: string;
  /** The system account on the host (the commands run as this user). */
  readonly account: string;
  /** The extractor cut the command (ExtractedCommand.truncated): treated as oversize. */
  readonly truncated?: boolean;
}
export interface Guard {
  check(command: string, ctx: GuardContext): GuardVerdict;
}

import { guardPolicySchema, type GuardPolicyConfig, type GuardPolicyEntry } from './config';
export { guardPolicySchema, type GuardPolicyConfig, type GuardPolicyEntry };

/**
 * Appended after the configured entries unless `builtin_policy: false`. Blocks what cannot be
 * undone from the host itself (wiping the root filesystem or a disk, a fork bomb, sysrq); warns
 * on the rest of what is high or critical.
 */
export const DEFAULT_GUARD_POLICY: readonly GuardPolicyEntry[] = Object.freeze([
  { action: 'block', tags: ['destructive'], min_severity: 'critical', comment: 'destroys the host, its disks or its data' },
  // High in the destructive pack, but as irreversible when typed at the door.
  { action: 'block', ids: ['ak-lnx-mkfs-block-device', 'ak-lnx-fork-bomb'], comment: 'formats a disk / exhausts the process table' },
  { action: 'warn', min_severity: 'high', comment: 'shown to the user; the alert is raised as for any event' },
]);



const RANK: Readonly<Record<GuardAction, number>> = { allow: 0, warn: 1, block: 2 };
const SEV_RANK = (s: Severity): number => SEVERITIES.indexOf(s);

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);

interface CompiledEntry {
  readonly action: GuardAction;
  readonly selects: (r: RuleDef) => boolean;
}

function compileEntry(e: GuardPolicyEntry): CompiledEntry {
  const ids = e.ids ? new Set(e.ids) : undefined;
  const tags = e.tags ? new Set(e.tags) : undefined;
  const sevs = e.severity ? new Set<string>(e.severity) : undefined;
  const min = e.min_severity ? SEV_RANK(e.min_severity) : undefined;
  return {
    action: e.action,
    selects: (r) =>
      (!ids || ids.has(r.id)) &&
      (!tags || r.tags.some((t) => tags.has(t)) || (r.category !== undefined && tags.has(r.category))) &&
      (!sevs || sevs.has(r.severity)) &&
      (min === undefined || SEV_RANK(r.severity) >= min),
  };
}

/**
 * A guard for `policy` over `rules` (the configured rule set: built-in packs, paths, minus
 * disabled). `exceptions`: the shared `rules.exceptions`, so a command the rules config excepts
 * is not blocked either. Throws AK_BASTION_GUARD_POLICY (start-up) when the policy names rule ids
 * that are not in `rules`: a typo in an allow or a block entry must not pass silently.
 */
export function createGuard(policy: GuardPolicyConfig, rules: readonly RuleDef[], opts: { readonly exceptions?: readonly ExtraException[] } = {}): Guard {
  const known = new Set(rules.map((r) => r.id));
  const unknown = [...new Set(policy.policy.flatMap((e) => e.ids ?? []).filter((id) => !known.has(id)))];
  if (unknown.length > 0) {
    throw new AuditkitError(
      'AK_BASTION_GUARD_POLICY',
      `bastion.guard.policy names rule ids that are not loaded: ${unknown.join(', ')}. Expected ids of the configured rules (built-in packs and rules.paths, minus rules.disabled); fix the id or load the rule`,
      { exitCode: ExitCode.Config },
    );
  }
  if (!policy.enabled) return { check: () => ALLOW };

  const entries = [...policy.policy, ...(policy.builtin_policy ? DEFAULT_GUARD_POLICY : [])].map(compileEntry);
  // Each rule's action is fixed by the policy: decide it once, not per command.
  const actionOf = new Map<string, GuardAction>();
  const byId = new Map<string, RuleDef>();
  const usable: RuleDef[] = [];
  for (const r of rules) {
    if (r.type !== 'match' || !r.enabled) continue;
    const a = entries.find((e) => e.selects(r))?.action ?? policy.default;
    // A rule whose action is allow cannot change any verdict: leave it out of the engine.
    if (a === 'allow') continue;
    actionOf.set(r.id, a);
    byId.set(r.id, r);
    // Suppression is for alert storms; the guard judges each command alone and keeps no state.
    const { suppress: _s, ...stateless } = r;
    usable.push(stateless);
  }
  const engine: StreamingEngine = createStreamingEngine(usable, { exceptions: opts.exceptions ?? [], maxKeys: 1 });
  const max = policy.max_command_length;

  function verdict(act: 'warn' | 'block', refs: readonly RuleDef[], command: string, note?: string): GuardVerdict {
    const head = act === 'block' ? 'auditkit bastion: command blocked' : 'auditkit bastion: warning';
    const lines = [`${head}: ${shownCommand(command)}`];
    for (const r of refs) lines.push(`  ${escapeControlAll(r.id)} (${r.severity}): ${escapeControlAll(r.name)}: ${escapeControlAll(clip(r.description, 300))}`);
    if (note) lines.push(`  ${note}`);
    if (act === 'block') lines.push('  It was not sent to the host. Ask an administrator if you need it run.');
    return { action: act, rules: refs.map((r) => ({ id: r.id, name: r.name, severity: r.severity })), message: lines.join('\n') };
  }

  return {
    check(command, ctx) {
      try {
        const cut = cutPoint(command, max);
        const oversize = cut < command.length || ctx.truncated === true;
        const text = command.slice(0, cut);
        const doc = commandEvent(text, { user: ctx.account, loginUser: ctx.account, host: ctx.host, timestamp: new Date().toISOString(), id: 'bastion-guard' });
        const matched = engine.evaluate(doc).matched;
        let best: GuardAction = 'allow';
        for (const id of matched) {
          const a = actionOf.get(id) ?? 'allow';
          if (RANK[a] > RANK[best]) best = a;
        }
        const refs = matched.filter((id) => actionOf.get(id) === best).map((id) => byId.get(id) as RuleDef);
        if (oversize && RANK[policy.oversize] >= RANK[best] && policy.oversize !== 'allow') {
          return verdict(policy.oversize, best === policy.oversize ? refs : [], command, ctx.truncated === true && cut === command.length ? 'The command was cut where it was read; only its start was checked.' : `The command is longer than the guard checks (${cut} of ${command.length} characters, at most ${max} characters or ${MAX_STAGES} pipeline/list stages); only the start was checked.`);
        }
        if (best === 'allow') return ALLOW;
        return verdict(best, refs, command);
      } catch (err) {
        if (policy.on_error === 'allow') return ALLOW;
        return verdict(policy.on_error, [], command, `The guard could not check this command (${escapeControlAll(clip(err instanceof Error ? err.message : String(err), 200))}).`);
      }
    },
  };
}

/**
 * The rules engine's shell parse is super-linear in the number of pipeline and list stages (an
 * 8 KiB line of `a|a|…` took ~80 ms to parse and ~400 ms to evaluate on a loaded 2-core machine;
 * words or quotes of the same size take a few ms). The guard runs on the bastion's one event
 * loop, where a slow check stalls every session: cut at 256 stages (far more than people type).
 */
const MAX_STAGES = 256;
const SEPARATOR = /[|;&\n]/g;

/** Where the guard stops reading `command`: `max` characters or MAX_STAGES separators. */
function cutPoint(command: string, max: number): number {
  const head = command.length > max ? command.slice(0, max) : command;
  let n = 0;
  SEPARATOR.lastIndex = 0;
  for (let m = SEPARATOR.exec(head); m; m = SEPARATOR.exec(head)) if (++n > MAX_STAGES) return m.index;
  return head.length;
}
const ALLOW: GuardVerdict = Object.freeze({ action: 'allow' });
const shownCommand = (s: string): string => escapeControlAll(clip(s, 200));
