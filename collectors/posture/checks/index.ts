/**
 * STUB of the baseline checks' face, built on the posture-checks branch (policy
 * YAML, 80+ checks, the evaluator). It keeps the agreed interface so the rest of
 * collectors/posture builds and ships results; when that branch lands, its
 * index.ts replaces this file whole. The two checks below exist only so the
 * pipeline has real results to carry until then.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: 'pass' | 'fail' | 'not_applicable' | 'error';
  readonly evidence: string;
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
  readonly rationale: string;
  readonly remediation: { readonly en: string; readonly 'zh-CN': string };
  readonly compliance: readonly string[];
  readonly policy: string;
}

export interface BaselineReport {
  readonly results: readonly CheckResult[];
  /** 0..100: passed / applicable. */
  readonly score: number;
}

export async function runBaseline(opts: { root: string; policies?: readonly string[] }): Promise<BaselineReport> {
  const results: CheckResult[] = [];
  const sshd = await fs.promises.readFile(path.join(opts.root, 'etc/ssh/sshd_config'), 'utf8').catch(() => undefined);
  const prl = sshd === undefined ? undefined : /^\s*PermitRootLogin\s+(\S+)/im.exec(sshd)?.[1];
  results.push({
    id: 'stub-ssh-root-login',
    title: 'SSH does not allow root to log in with a password',
    status: sshd === undefined ? 'not_applicable' : prl === undefined || /^(no|prohibit-password|without-password)$/i.test(prl) ? 'pass' : 'fail',
    evidence: sshd === undefined ? '/etc/ssh/sshd_config not found' : `PermitRootLogin ${prl ?? '(default prohibit-password)'}`,
    severity: 'high',
    rationale: 'Password logins as root are the first target of brute force.',
    remediation: { en: 'Set "PermitRootLogin no" in /etc/ssh/sshd_config and reload sshd.', 'zh-CN': '在 /etc/ssh/sshd_config 中设置 "PermitRootLogin no" 并重新加载 sshd。' },
    compliance: ['cis:5.2.10'],
    policy: 'stub',
  });
  const shadow = await fs.promises.stat(path.join(opts.root, 'etc/shadow')).catch(() => undefined);
  const mode = shadow ? (shadow.mode & 0o777).toString(8).padStart(4, '0') : undefined;
  results.push({
    id: 'stub-shadow-mode',
    title: '/etc/shadow is not readable by others',
    status: !shadow ? 'not_applicable' : (shadow.mode & 0o007) === 0 ? 'pass' : 'fail',
    evidence: shadow ? `mode ${mode ?? ''}` : '/etc/shadow not found',
    severity: 'critical',
    rationale: 'Password hashes readable by any user can be cracked offline.',
    remediation: { en: 'chmod 0640 /etc/shadow; chown root:shadow /etc/shadow', 'zh-CN': '执行 chmod 0640 /etc/shadow; chown root:shadow /etc/shadow' },
    compliance: ['cis:6.1.3'],
    policy: 'stub',
  });
  const applicable = results.filter((r) => r.status === 'pass' || r.status === 'fail');
  return { results, score: applicable.length === 0 ? 100 : Math.round((applicable.filter((r) => r.status === 'pass').length / applicable.length) * 1000) / 10 };
}
