import * as path from 'node:path';
import { loadPolicies, parsePolicyText, PolicyFileError } from '.';

const FIXTURE = path.join(__dirname, 'fixtures', 'broken-policy.yml');

const minimal = `policy:
  id: mini
  name: Minimal
  description: One check.
checks:
  - id: mini-one
    title: passwd exists
    rationale: A test of the smallest valid policy.
    severity: low
    remediation: { en: 'Nothing to do here.', zh-CN: '无需处理。' }
    test:
      path_exists: { paths: /etc/passwd, expect: present }
`;

async function problemsOf(paths: string[]): Promise<PolicyFileError> {
  try {
    await loadPolicies(paths);
  } catch (err) {
    if (err instanceof PolicyFileError) return err;
    throw err;
  }
  throw new Error('expected a PolicyFileError');
}

describe('policy files', () => {
  it('parse a minimal policy with defaults filled in', () => {
    const p = parsePolicyText(minimal, 'mini.yml');
    expect(p).toMatchObject({ id: 'mini', references: [], checks: [{ id: 'mini-one', compliance: [], source: { file: 'mini.yml', line: 6 } }] });
    expect(p.checks[0]?.test).toMatchObject({ kind: 'path_exists', spec: { paths: ['/etc/passwd'], type: 'any' } });
  });

  it('report every problem of a broken policy at once, each with file:line:col and key path', async () => {
    const e = await problemsOf([FIXTURE]);
    expect(e.code).toBe('AK_POLICY_INVALID');
    const m = e.message;
    const lines = m.split('\n').slice(1);
    expect(m).toContain(`${FIXTURE}: 10 policy problems; fix them`);
    expect(lines).toEqual([
      `  ${FIXTURE}:6:3: policy.owner: unknown key`,
      `  ${FIXTURE}:11:15: checks.0.severity: Invalid option: expected one of "low"|"medium"|"high"|"critical"`,
      expect.stringMatching(/broken-policy\.yml:21:48: checks\.1\.test\.file_match\.regex: invalid regular expression: .*Unterminated group/),
      expect.stringMatching(/broken-policy\.yml:28:7: checks\.2\.test: a test has exactly one of all, any, file_match, .*; got (service and package|package and service)$/),
      `  ${FIXTURE}:36:18: checks.3.test.directive.on_missing: required: say what a missing file or setting means (pass, fail or not_applicable)`,
      `  ${FIXTURE}:43:20: checks.4.test.permissions.on_missing: required: say what a missing file or setting means (pass, fail or not_applicable)`,
      `  ${FIXTURE}:43:60: checks.4.test.permissions.on_mising: unknown key`,
      `  ${FIXTURE}:48:18: checks.5.remediation.zh-CN: Invalid input: expected string, received undefined`,
      `  ${FIXTURE}:51:9: checks.6.id: duplicate check id bad-remediation (first at line 44)`,
      `  ${FIXTURE}:57:79: checks.6.test.sysctl.source: Invalid option: expected one of "runtime"|"persisted"|"both"`,
    ]);
    expect(e.problems.every((p) => p.location?.line !== undefined)).toBe(true);
  });

  it('reject YAML syntax errors with their line', () => {
    expect(() => parsePolicyText('policy: {\nchecks: [\n', 'bad.yml')).toThrow(/bad\.yml:\d+:\d+: YAML syntax/);
  });

  it('reject a YAML alias bomb as a problem of the file instead of expanding it', () => {
    const bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n' + Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill('*' + String.fromCharCode(97 + i)).join(', ')}]`).join('\n') + '\n';
    expect(() => parsePolicyText(bomb, 'bomb.yml')).toThrow(expect.objectContaining({ code: 'AK_POLICY_INVALID', message: expect.stringMatching(/bomb\.yml: YAML: .*aliases may expand at most 100 times/) }));
  });

  it('reject a check id defined twice in one file, naming both lines', () => {
    const dup = minimal + minimal.slice(minimal.indexOf('  - id: mini-one'));
    expect(() => parsePolicyText(dup, 'dup.yml')).toThrow(/dup\.yml:\d+:\d+: checks\.1\.id: duplicate check id mini-one \(first at line 6\)/);
  });

  it('reject a check id defined in two files', async () => {
    const os = await import('node:os');
    const fs = await import('node:fs/promises');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ak-pol-'));
    try {
      await fs.writeFile(path.join(dir, 'a.yml'), minimal);
      await fs.writeFile(path.join(dir, 'b.yml'), minimal.replace('id: mini\n', 'id: mini-b\n'));
      const e = await problemsOf([dir]);
      expect(e.message).toMatch(/b\.yml:6:5: checks\.id: check id mini-one is already defined at .*a\.yml:6/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuse a policy path that does not exist with AK_POLICY_READ', async () => {
    await expect(loadPolicies(['/nonexistent/policies'])).rejects.toMatchObject({ code: 'AK_POLICY_READ', message: expect.stringContaining('/nonexistent/policies: policy path not found') });
  });
});
