/**
 * The two seams the proxy calls per keystroke: the command extractor (a headless
 * terminal reading the echoed line at Enter: `extract.ts`, the door's default) and
 * the guard rail (rules → allow, warn, block: `guard.ts`, wired by the CLI from the
 * configured policy). `startBastion` takes both, so tests can substitute either.
 */
export type { CommandExtractor, ExtractedCommand } from './extract';
import type { CommandExtractor } from './extract';

export type ExtractorFactory = (opts: { cols: number; rows: number }) => CommandExtractor;

export type GuardVerdict =
  | { readonly action: 'allow' }
  | { readonly action: 'warn' | 'block'; readonly rules: readonly { id: string; name: string; severity: string }[]; readonly message: string };

export interface Guard {
  check(command: string, ctx: { user: string; host: string; account: string }): GuardVerdict;
}

/** Lets everything through (when the guard policy is off). */
export const ALLOW_ALL: Guard = { check: () => ({ action: 'allow' }) };
