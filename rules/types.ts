/**
 * The rule format (what a YAML rule file says), after schema validation.
 * See rules/README.md for the language; rules/schema.ts for the zod schema.
 */

export type Scalar = string | number | boolean;
export type OneOrMany<T> = T | readonly T[];

/** A string test: every key given must hold; inside a key, any listed value. */
export interface StrMatch {
  readonly equals?: OneOrMany<string>;
  readonly startswith?: OneOrMany<string>;
  readonly endswith?: OneOrMany<string>;
  readonly contains?: OneOrMany<string>;
  readonly regex?: OneOrMany<string>;
  /** Case-insensitive (default false: shell words are case-sensitive). */
  readonly nocase?: boolean;
}

/** Classes of a chmod mode argument (`4755`, `u+s`, `o+w`, `777`, `000`). */
export type ModeClass = 'setuid' | 'setgid' | 'world_writable' | 'group_writable' | 'world_readable' | 'no_access';

/**
 * Argument-aware test over the simple commands of a command line: it holds when
 * ONE simple command satisfies every key given.
 */
export interface CmdSpec {
  readonly name?: OneOrMany<string>;
  /** The name is none of these (what a lookahead `^(?!(a|b)$)` said; the regex engine has no lookaround). */
  readonly name_none?: OneOrMany<string>;
  readonly name_regex?: string;
  /** The line was longer than the parser reads (MAX_TOKENS tokens, MAX_PARSE_CHARS characters): this command is the last one seen. */
  readonly truncated?: boolean;
  /** argv[0] as typed (`./gdb`, `/dev/shm/x`). */
  readonly argv0?: StrMatch;
  /** argv joined by single spaces (adjacent words: `/bin/sh -p`). */
  readonly text?: StrMatch;
  readonly sudo?: boolean;
  readonly flags_any?: readonly string[];
  readonly flags_all?: readonly string[];
  readonly flags_none?: readonly string[];
  readonly args_any?: StrMatch;
  readonly args_all?: readonly StrMatch[];
  readonly args_none?: StrMatch;
  /** Any word after argv[0] (flags included). */
  readonly words_any?: StrMatch;
  /** No word after argv[0] is one of these: `-V` alone, where `flags_none: [-V]` would also refuse `nmap -sV` or `-rhost`. */
  readonly words_none?: StrMatch;
  readonly option?: { readonly names: readonly string[]; readonly value?: StrMatch };
  readonly writes?: StrMatch;
  readonly reads?: StrMatch;
  readonly assigns?: StrMatch;
  readonly piped_to?: readonly string[];
  readonly piped_from?: readonly string[];
  readonly mode?: readonly ModeClass[];
  readonly min_args?: number;
}

export interface FieldCond {
  readonly field: string;
  readonly equals?: OneOrMany<Scalar>;
  readonly contains?: OneOrMany<string>;
  readonly startswith?: OneOrMany<string>;
  readonly endswith?: OneOrMany<string>;
  readonly regex?: OneOrMany<string>;
  readonly cidr?: OneOrMany<string>;
  readonly exists?: boolean;
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
  /** With list values: every value must match (Sigma `|all`). */
  readonly all_values?: boolean;
  /** String comparisons are case-insensitive unless this is true (Sigma semantics). */
  readonly case_sensitive?: boolean;
}

export type Condition =
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition }
  | { readonly cmd: CmdSpec }
  | { readonly keywords: readonly string[] }
  | FieldCond;

import type { Severity } from '../schema';

export { SEVERITIES, type Severity } from '../schema';
export const DEFAULT_RISK: Readonly<Record<Severity, number>> = { low: 21, medium: 47, high: 73, critical: 99 };

export interface ThreatRef {
  readonly id: string;
  readonly name: string;
}

export interface Threat {
  readonly tactic: ThreatRef;
  readonly technique?: ThreatRef;
}

/** An event in a rule test: a command line (shorthand) or an ECS document. */
export type TestEvent = string | Readonly<Record<string, unknown>>;

export interface RuleTests {
  readonly match: readonly TestEvent[];
  readonly no_match: readonly TestEvent[];
}

export interface Suppress {
  readonly by: readonly string[];
  readonly window: string;
}

export interface ThresholdSpec {
  readonly by: readonly string[];
  readonly count: number;
  readonly window: string;
  /** Count distinct values of this field among the key's events in the window (not events). */
  readonly distinct?: string;
}

export interface SequenceStep {
  readonly name: string;
  /** This step's key fields when they differ from the sequence's `by` (same count); array values give one key each. */
  readonly by?: readonly string[];
  readonly condition: Condition;
}

export interface SequenceSpec {
  readonly by: readonly string[];
  readonly window: string;
  readonly steps: readonly SequenceStep[];
}

export interface FirstSeenSpec {
  readonly fields: readonly string[];
  /** How long a key stays "known" after it was last seen (event time). */
  readonly history: string;
  /**
   * Learning period: no alert until the rule has seen this long of its data (from its earliest
   * matching event). A fleet's first day (or the demo's) then teaches the rule its usual keys.
   */
  readonly learning?: string;
}

/** What every rule has, whatever its type. */
interface RuleCommon {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly severity: Severity;
  readonly risk_score: number;
  readonly enabled: boolean;
  readonly version: number;
  readonly category?: string;
  readonly threat: readonly Threat[];
  readonly references: readonly string[];
  readonly false_positives: readonly string[];
  readonly author: readonly string[];
  readonly license?: string;
  readonly tags: readonly string[];
  /**
   * `host`: can hold on one host's events (streaming in the collector, and scheduled).
   * `fleet`: needs several hosts' events read together, so only scheduled runs over
   * Elasticsearch evaluate it; a streaming engine on one host would never raise it,
   * or (first-seen) raise it on every restart for want of history. Undefined: host.
   */
  readonly scope?: 'host' | 'fleet';
  readonly suppress?: Suppress;
  /** An event matching any exception raises nothing for this rule. */
  readonly exceptions: readonly Condition[];
  readonly tests: RuleTests;
  /** Where the rule came from (file:line), for messages. */
  readonly source?: { readonly file: string; readonly line?: number };
  /** Origin for converted rules (Sigma path, id). */
  readonly origin?: { readonly kind: 'sigma'; readonly id: string; readonly path: string };
}

/** Alerts on every event that satisfies `condition`. */
export interface MatchRule extends RuleCommon {
  readonly type: 'match';
  readonly condition: Condition;
}

/** Alerts when `threshold.count` events satisfying `condition` share a key within the window. */
export interface ThresholdRule extends RuleCommon {
  readonly type: 'threshold';
  readonly condition: Condition;
  readonly threshold: ThresholdSpec;
}

/** Alerts when events satisfy the steps in order, per key, within the window. */
export interface SequenceRule extends RuleCommon {
  readonly type: 'sequence';
  readonly sequence: SequenceSpec;
  /** Sequences have no top-level condition: their steps carry them. */
  readonly condition?: undefined;
}

/** Alerts the first time (within `history`) a key of events satisfying `condition` appears. */
export interface FirstSeenRule extends RuleCommon {
  readonly type: 'first_seen';
  readonly condition: Condition;
  readonly first_seen: FirstSeenSpec;
}

/** A rule, by `type`: each type carries exactly the parts it needs (rules/schema.ts checks them). */
export type RuleDef = MatchRule | ThresholdRule | SequenceRule | FirstSeenRule;
export type RuleType = RuleDef['type'];
