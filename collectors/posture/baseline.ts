/**
 * Baseline check results → `logs-auditkit.posture-<ns>`: one document per check
 * per scan (evidence, remediation in English and Simplified Chinese, compliance
 * references), one score document per host per scan, and a `check_regressed`
 * event when a check that passed at the previous scan fails now. The built-in
 * rule `ak-lnx-posture-check-regressed` turns that event into the alert, so
 * regressions are alerted once per transition, not on every scan (the state of
 * the previous scan lives in `<state_dir>/posture-state.json`).
 *
 * Regression ids hash the host, the check and the id of the last scan that saw it
 * pass: a replay after a crash (results shipped, state not yet saved) gives the
 * same id, and the alert built from it the same id too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core';
import { documentId } from '../../schema';
import { baseDoc, hostId, type PostureContext } from './context';
import type { BaselineReport, CheckResult } from './checks';

export type BaselineRunner = (opts: { root: string; policies?: readonly string[] }) => Promise<BaselineReport>;

export interface CheckMemory {
  readonly status: CheckResult['status'];
  /** Scan id of the last scan in which the check passed. */
  readonly passScan?: string;
}

export interface PostureState {
  readonly version: 1;
  readonly checks: Record<string, CheckMemory>;
}

export function loadPostureState(stateDir: string): PostureState {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(stateDir, 'posture-state.json'), 'utf8')) as PostureState;
    return j.version === 1 && typeof j.checks === 'object' ? j : { version: 1, checks: {} };
  } catch {
    return { version: 1, checks: {} };
  }
}

export async function savePostureState(stateDir: string, s: PostureState): Promise<void> {
  await writeFileAtomic(path.join(stateDir, 'posture-state.json'), JSON.stringify(s), 0o600);
}

const OUTCOME: Readonly<Record<CheckResult['status'], 'success' | 'failure' | 'unknown'>> = { pass: 'success', fail: 'failure', not_applicable: 'unknown', error: 'unknown' };
const ACTION: Readonly<Record<CheckResult['status'], string>> = { pass: 'check_passed', fail: 'check_failed', not_applicable: 'check_not_applicable', error: 'check_error' };

export interface BaselineDocs {
  readonly docs: Record<string, unknown>[];
  readonly state: PostureState;
  readonly regressions: readonly string[];
  readonly score: number;
}

/** Turn one scan's report into documents, comparing with the previous scan's state. */
export function baselineDocs(ctx: PostureContext, report: BaselineReport, prev: PostureState): BaselineDocs {
  const now = ctx.now();
  const hid = hostId(ctx);
  const scanId = documentId('posture-scan', hid, now);
  const docs: Record<string, unknown>[] = [];
  const checks: Record<string, CheckMemory> = { ...prev.checks };
  const regressions: string[] = [];
  const counts = { pass: 0, fail: 0, not_applicable: 0, error: 0 };
  const body = (r: CheckResult, previous: CheckResult['status'] | undefined): Record<string, unknown> => ({
    rule: { id: r.id, name: r.title, ruleset: r.policy, description: r.rationale, ...(r.compliance.length > 0 ? { reference: r.compliance.join(', ') } : {}) },
    auditkit: {
      posture: {
        status: r.status,
        ...(previous !== undefined ? { previous_status: previous } : {}),
        severity: r.severity,
        evidence: r.evidence,
        remediation: { en: r.remediation.en, zh_cn: r.remediation['zh-CN'] },
        compliance: [...r.compliance],
        scan_id: scanId,
      },
    },
  });
  for (const r of report.results) {
    counts[r.status]++;
    const was = prev.checks[r.id];
    docs.push({
      ...baseDoc(ctx, 'posture', now),
      message: `${r.status} ${r.id}: ${r.title}${r.status === 'fail' ? ` (${r.evidence})` : ''}`,
      event: { kind: 'state', category: ['configuration'], type: ['info'], action: ACTION[r.status], outcome: OUTCOME[r.status], dataset: 'auditkit.posture', module: 'posture', id: documentId('posture-result', hid, scanId, r.id) },
      ...body(r, was?.status),
    });
    if (r.status === 'fail' && was?.status === 'pass') {
      regressions.push(r.id);
      const b = body(r, 'pass');
      (b['auditkit'] as { posture: Record<string, unknown> }).posture['regressed'] = true;
      docs.push({
        ...baseDoc(ctx, 'posture', now),
        message: `check regressed from pass to fail: ${r.id}: ${r.title} (${r.evidence})`,
        event: { kind: 'event', category: ['configuration'], type: ['change'], action: 'check_regressed', outcome: 'failure', dataset: 'auditkit.posture', module: 'posture', id: documentId('posture-regressed', hid, r.id, was.passScan ?? '') },
        ...b,
      });
    }
    checks[r.id] = { status: r.status, ...(r.status === 'pass' ? { passScan: scanId } : was?.passScan !== undefined ? { passScan: was.passScan } : {}) };
  }
  docs.push({
    ...baseDoc(ctx, 'posture', now),
    message: `posture score ${report.score} (${counts.pass} passed, ${counts.fail} failed)`,
    event: { kind: 'state', category: ['configuration'], type: ['info'], action: 'score', dataset: 'auditkit.posture', module: 'posture', id: documentId('posture-score', hid, scanId) },
    auditkit: { posture: { scan_id: scanId, score: report.score, passed: counts.pass, failed: counts.fail, not_applicable: counts.not_applicable, errors: counts.error } },
  });
  return { docs, state: { version: 1, checks }, regressions, score: report.score };
}
