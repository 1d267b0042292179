/**
 * Baseline checks: YAML policies of posture checks (file content, permissions, sysctl,
 * service state, packages, mounts, file scans, accounts, commands) run against a host tree.
 * `runBaseline` never throws for what it finds on a host: a check that cannot be judged is
 * `error` with evidence. Only unusable policies throw (AK_POLICY_INVALID / AK_POLICY_READ).
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AuditkitError, ExitCode } from '../../../core';
import type { Severity } from '../../../schema';
import { RootFs } from './fsroot';
import { evaluate, runCommand, type CommandRunner, type Outcome, type ProbeContext } from './probes';
import { parsePolicyText, PolicyFileError, type Check, type Policy, type PolicyProblem } from './schema';

export type { Check, Policy, PolicyProblem, Status, TestSpec } from './schema';
export { PolicyFileError, parsePolicyText } from './schema';
export { RootFs, DEFAULT_LIMITS, type RootFsLimits } from './fsroot';
export type { CommandRunner, CommandResult } from './probes';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: 'pass' | 'fail' | 'not_applicable' | 'error';
  readonly evidence: string;
  readonly severity: Severity;
  readonly rationale: string;
  readonly remediation: { readonly en: string; readonly 'zh-CN': string };
  readonly compliance: readonly string[];
  readonly policy: string;
}

export interface BaselineReport {
  readonly results: readonly CheckResult[];
  /** 0..100: passed / (passed + failed), rounded. Errors and not-applicable checks are left out, as Wazuh SCA does; 100 when nothing applies. */
  readonly score: number;
}

const SENTINEL = 'ssh.yml';

/** The built-in policies: `policies/` beside this file (sources, dist/ via the source tree, or a deployed bundle's `posture-policies/`). */
export function builtinPoliciesDir(): string {
  const candidates = [path.resolve(__dirname, 'policies'), path.resolve(__dirname, 'posture-policies')];
  for (const c of candidates) if (existsSync(path.join(c, SENTINEL))) return c;
  // dist/collectors/posture/checks → the YAML stays in the source tree, which tsc does not copy.
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const cand = path.join(dir, 'collectors', 'posture', 'checks', 'policies');
    if (existsSync(path.join(cand, SENTINEL))) return cand;
    dir = path.dirname(dir);
  }
  return candidates[0] as string;
}

async function policyFiles(p: string): Promise<string[]> {
  let st;
  try {
    st = await fsp.stat(p);
  } catch (err) {
    throw new AuditkitError('AK_POLICY_READ', `policy path not found: ${(err as Error).message}; give a policy file or a directory of *.yml`, { location: { file: p }, exitCode: ExitCode.Config, cause: err });
  }
  if (!st.isDirectory()) return [p];
  const entries = await fsp.readdir(p, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(p, e.name))
    .sort();
}

/**
 * Load policies from files and directories (*.yml, *.yaml). Every file is read and every
 * problem collected; one PolicyFileError lists them all with file:line:col and key path.
 * Check ids are unique across all policies (results and state changes are keyed by id).
 */
export async function loadPolicies(paths: readonly string[]): Promise<Policy[]> {
  const files: string[] = [];
  for (const p of paths) files.push(...(await policyFiles(p)));
  const policies: Policy[] = [];
  const problems: PolicyProblem[] = [];
  let bad = 0;
  const checkIds = new Map<string, Check>();
  const policyIds = new Map<string, string>();
  for (const f of files) {
    let text: string;
    try {
      text = await fsp.readFile(f, 'utf8');
    } catch (err) {
      throw new AuditkitError('AK_POLICY_READ', `cannot read policy file: ${(err as Error).message}`, { location: { file: f }, exitCode: ExitCode.Config, cause: err });
    }
    let policy: Policy;
    try {
      policy = parsePolicyText(text, f);
    } catch (err) {
      if (!(err instanceof PolicyFileError)) throw err;
      bad++;
      problems.push(...err.problems);
      continue;
    }
    const prevPolicy = policyIds.get(policy.id);
    if (prevPolicy !== undefined) {
      bad++;
      problems.push({ path: 'policy.id', message: `policy id ${policy.id} is already defined in ${prevPolicy}`, location: policy.source });
    }
    policyIds.set(policy.id, f);
    for (const c of policy.checks) {
      const prev = checkIds.get(c.id);
      if (prev) {
        bad++;
        problems.push({ path: 'checks.id', message: `check id ${c.id} is already defined at ${prev.source.file}:${prev.source.line ?? 0}`, location: c.source });
      }
      checkIds.set(c.id, c);
    }
    policies.push(policy);
  }
  if (problems.length > 0) throw new PolicyFileError(bad === 1 && files.length === 1 ? (files[0] as string) : `${files.length} policy files`, problems);
  return deepFreeze(policies);
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !(o instanceof RegExp) && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

function result(policy: Policy, c: Check, o: Outcome): CheckResult {
  return {
    id: c.id,
    title: c.title,
    status: o.status,
    evidence: o.evidence.join('\n'),
    severity: c.severity,
    rationale: c.rationale,
    remediation: c.remediation,
    compliance: c.compliance,
    policy: policy.id,
  };
}

export function scoreOf(results: readonly CheckResult[]): number {
  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  return passed + failed === 0 ? 100 : Math.round((passed / (passed + failed)) * 100);
}

/**
 * Run already-loaded policies against a tree. Commands run only when root is `/`;
 * `commands` replaces the runner at that process boundary (tests stand in for auditctl).
 */
export async function runPolicies(policies: readonly Policy[], root: string, opts: { commands?: CommandRunner } = {}): Promise<BaselineReport> {
  const fs = new RootFs(root);
  const ctx: ProbeContext = { fs, commands: opts.commands ?? (fs.root === '/' ? runCommand : undefined), memo: new Map() };
  const results: CheckResult[] = [];
  for (const policy of policies) {
    const gate = policy.appliesWhen ? await evaluate(ctx, policy.appliesWhen) : undefined;
    for (const c of policy.checks) {
      if (gate && gate.status !== 'pass') {
        results.push(result(policy, c, { status: gate.status === 'error' ? 'error' : 'not_applicable', evidence: [`policy ${policy.id} does not apply: ${gate.evidence.join('; ')}`] }));
        continue;
      }
      if (c.appliesWhen) {
        const when = await evaluate(ctx, c.appliesWhen);
        if (when.status !== 'pass') {
          results.push(result(policy, c, { status: when.status === 'error' ? 'error' : 'not_applicable', evidence: [`does not apply: ${when.evidence.join('; ')}`] }));
          continue;
        }
      }
      results.push(result(policy, c, await evaluate(ctx, c.test)));
    }
  }
  return { results, score: scoreOf(results) };
}

/** Load the policies (default: the built-in ones) and run them against `root`. */
export async function runBaseline(opts: { root: string; policies?: readonly string[] }): Promise<BaselineReport> {
  const policies = await loadPolicies(opts.policies ?? [builtinPoliciesDir()]);
  return runPolicies(policies, opts.root);
}
