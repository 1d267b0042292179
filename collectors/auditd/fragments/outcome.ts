/**
 * Outcome: event.outcome from the primary record's res/result, else the syscall's
 * success; anything else (or nothing) is 'unknown', never a guess.
 */
import { val, type AssembledEvent } from './event';

export type Outcome = 'success' | 'failure' | 'unknown';

export function outcome(ev: AssembledEvent): Outcome {
  const { primary, syscall, main } = ev;
  const res = val(primary, 'res') ?? val(primary, 'result') ?? val(syscall, 'success') ?? (primary ? undefined : val(main, 'res'));
  if (res === undefined) return 'unknown';
  const r = res.toLowerCase();
  if (r === 'yes' || r === 'success' || r === '1') return 'success';
  if (r === 'no' || r === 'failed' || r === 'fail' || r === '0') return 'failure';
  return 'unknown';
}
