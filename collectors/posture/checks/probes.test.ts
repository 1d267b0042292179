import { execFileSync } from 'node:child_process';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePolicyText, runBaseline, runPolicies, RootFs, type CheckResult, type Policy } from '.';
import { scoreOf } from './index';
import { writeTree, type Tree } from './test-trees';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'ak-probe-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A one-check policy around a test written in YAML flow style. */
function policy(test: string, extra = ''): Policy {
  return parsePolicyText(
    `policy: { id: test-policy, name: Test policy, description: One check. }
${extra}checks:
  - id: t-check
    title: The check under test
    rationale: Exercises one evaluator.
    severity: low
    remediation: { en: 'Nothing to do here.', zh-CN: '无需处理。' }
    test: ${test}
`,
    'inline.yml',
  );
}

async function run(tree: Tree, test: string, opts: { extra?: string; root?: string } = {}): Promise<CheckResult> {
  const root = opts.root ?? tmp();
  await writeTree(root, tree);
  const r = await runPolicies([policy(test, opts.extra)], root);
  return r.results[0] as CheckResult;
}

const PERMIT = `{ directive: { paths: /etc/ssh/sshd_config, dialect: sshd, key: PermitRootLogin, value: { equals: 'no' }, default: prohibit-password, on_missing: not_applicable } }`;

describe('reads stay inside root', () => {
  it('resolve an escaping relative symlink inside root, never outside it', async () => {
    const outside = tmp();
    await fsp.writeFile(path.join(outside, 'sshd_config'), 'PermitRootLogin no\n');
    const root = tmp();
    const depth = root.split('/').length;
    const r = await run({ '/etc/ssh/sshd_config': { symlink: `${'../'.repeat(depth + 2)}${outside.slice(1)}/sshd_config` } }, PERMIT, { root });
    // The host file would make this pass; inside root the link leads nowhere.
    expect(r.status).toBe('not_applicable');
    expect(r.evidence).toContain('none of /etc/ssh/sshd_config exists');
  });

  it('re-root absolute symlink targets, as a chroot would', async () => {
    const root = tmp();
    await writeTree(root, { '/etc/ssh/sshd_config': { symlink: '/srv/real/sshd_config' }, '/srv/real/sshd_config': 'PermitRootLogin no\n' });
    const fs = new RootFs(root);
    expect(await fs.resolve('/etc/ssh/sshd_config')).toBe('/srv/real/sshd_config');
    expect(await fs.resolve('/../../../etc/../srv/real/sshd_config')).toBe('/srv/real/sshd_config');
    expect((await fs.readText('/etc/ssh/sshd_config'))?.text).toBe('PermitRootLogin no\n');
  });

  it('turn a symlink loop into an error for that check only', async () => {
    const r = await run({ '/etc/ssh/sshd_config': { symlink: '/etc/ssh/a' }, '/etc/ssh/a': { symlink: '/etc/ssh/sshd_config' } }, PERMIT);
    expect(r.status).toBe('error');
    expect(r.evidence).toMatch(/directive: too many symlinks resolving/);
  });

  it('refuse a FIFO planted at a config path without hanging', async () => {
    const root = tmp();
    await fsp.mkdir(path.join(root, 'etc/ssh'), { recursive: true });
    execFileSync('mkfifo', [path.join(root, 'etc/ssh/sshd_config')]);
    const r = await run({}, PERMIT, { root });
    expect(r.status).toBe('error');
    expect(r.evidence).toContain('/etc/ssh/sshd_config is not a regular file');
  });

  it('read at most maxFileBytes of a file and say so', async () => {
    const root = tmp();
    await writeTree(root, { '/etc/big': 'x'.repeat(5000) });
    const fs = new RootFs(root, { maxFileBytes: 1000, maxDirEntries: 10, maxGlobMatches: 10 });
    const f = await fs.readText('/etc/big');
    expect(f).toMatchObject({ truncated: true });
    expect(f?.text.length).toBe(1000);
  });
});

describe('sshd_config semantics', () => {
  it('take the first value, following Include where it stands and ignoring Match blocks', async () => {
    const tree: Tree = {
      '/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\npermitrootlogin yes\nMatch User backup\n  PermitRootLogin yes\n',
      '/etc/ssh/sshd_config.d/10-a.conf': 'PermitRootLogin=no\n',
      '/etc/ssh/sshd_config.d/20-b.conf': 'PermitRootLogin yes\n',
    };
    const r = await run(tree, PERMIT);
    expect(r.status).toBe('pass');
    expect(r.evidence).toBe('/etc/ssh/sshd_config.d/10-a.conf:1: PermitRootLogin no (first of 3 occurrences is effective)');
  });

  it('judge an unset keyword by its built-in default', async () => {
    const r = await run({ '/etc/ssh/sshd_config': '# nothing set\nMatch all\nPermitRootLogin no\n' }, PERMIT);
    expect(r.status).toBe('fail');
    expect(r.evidence).toContain('PermitRootLogin is not set in /etc/ssh/sshd_config; the built-in default prohibit-password does not meet the expected = no');
  });
});

describe('sysctl sources', () => {
  const TEST = (source: string): string => `{ sysctl: { key: net.ipv4.ip_forward, value: { equals: 0 }, source: ${source} } }`;

  it('apply sysctl.d by file name across directories, /etc winning a name, then sysctl.conf last', async () => {
    const tree: Tree = {
      '/usr/lib/sysctl.d/50-default.conf': 'net.ipv4.ip_forward = 1\n',
      '/etc/sysctl.d/50-default.conf': 'net.ipv4.ip_forward = 0\n',
      '/usr/lib/sysctl.d/90-late.conf': '-net/ipv4/ip_forward=1\n',
      '/etc/sysctl.conf': '; comment\nnet.ipv4.ip_forward=0\n',
    };
    const r = await run(tree, TEST('persisted'));
    expect(r.status).toBe('pass');
    expect(r.evidence).toBe('persisted /etc/sysctl.conf:2: net.ipv4.ip_forward = 0');
    const r2 = await run({ ...tree, '/etc/sysctl.conf': '' }, TEST('persisted'));
    expect(r2.status).toBe('fail');
    expect(r2.evidence).toContain('/usr/lib/sysctl.d/90-late.conf:1: net.ipv4.ip_forward = 1; expected = 0');
  });

  it('judge only the persisted value of an image without /proc/sys, and say so', async () => {
    const r = await run({ '/etc/sysctl.d/60.conf': 'net.ipv4.ip_forward = 0\n' }, TEST('both'));
    expect(r.status).toBe('pass');
    expect(r.evidence).toContain('runtime: not available (no /proc/sys under the scanned root)');
  });

  it('are not applicable when the running kernel has no such key', async () => {
    const r = await run({ '/proc/sys/kernel/ostype': 'Linux\n', '/etc/sysctl.d/60.conf': 'net.ipv4.ip_forward = 0\n' }, TEST('both'));
    expect(r.status).toBe('not_applicable');
    expect(r.evidence).toContain('/proc/sys/net/ipv4/ip_forward does not exist');
  });

  it('fail when the running value differs from the persisted one', async () => {
    const r = await run({ '/proc/sys/net/ipv4/ip_forward': '1\n', '/etc/sysctl.d/60.conf': 'net.ipv4.ip_forward = 0\n' }, TEST('both'));
    expect(r.status).toBe('fail');
    expect(r.evidence).toBe('runtime /proc/sys/net/ipv4/ip_forward: 1; expected = 0\npersisted /etc/sysctl.d/60.conf:1: net.ipv4.ip_forward = 0');
  });
});

describe('service state from systemd files', () => {
  const T = (expect: string): string => `{ service: { units: [cups.service, cups.socket], expect: [${expect}] } }`;

  it('see a unit linked to /dev/null as masked', async () => {
    const r = await run({ '/lib/systemd/system/cups.service': '[Unit]\n', '/etc/systemd/system/cups.service': { symlink: '/dev/null' } }, T('masked'));
    expect(r.status).toBe('pass');
    expect(r.evidence).toContain('cups.service: masked (/etc/systemd/system/cups.service -> /dev/null)');
  });

  it('see a socket linked from sockets.target.wants as enabled, which wins over a disabled service', async () => {
    const r = await run({ '/lib/systemd/system/cups.service': '[Unit]\n', '/lib/systemd/system/cups.socket': '[Unit]\n', '/etc/systemd/system/sockets.target.wants/cups.socket': { symlink: '/lib/systemd/system/cups.socket' } }, T('disabled, absent'));
    expect(r.status).toBe('fail');
    expect(r.evidence).toContain('cups.socket: enabled (/etc/systemd/system/sockets.target.wants/cups.socket)');
  });
});

describe('package databases', () => {
  const T = `{ package: { names: [telnetd], expect: absent } }`;

  it('count a package removed with its config left (config-files) as absent', async () => {
    const r = await run({ '/var/lib/dpkg/status': 'Package: telnetd\nStatus: deinstall ok config-files\nVersion: 0.17\n' }, T);
    expect(r.status).toBe('pass');
  });

  it('are not applicable for an rpm image, whose database only rpm can read', async () => {
    const r = await run({ '/var/lib/rpm/rpmdb.sqlite': 'SQLite format 3\0' }, T);
    expect(r.status).toBe('not_applicable');
    expect(r.evidence).toContain('/var/lib/rpm/rpmdb.sqlite can be read only by the rpm tool');
  });

  it('are not applicable without any package database', async () => {
    expect((await run({ '/etc/hostname': 'h\n' }, T)).status).toBe('not_applicable');
  });
});

describe('bounded file scans', () => {
  it('never follow symlinks and report a scan cut short by its bound as an error, not a pass', async () => {
    const tree: Tree = { '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n', '/etc/group': 'root:x:0:\n', '/srv/link': { symlink: '/tmp' } };
    for (let i = 0; i < 20; i++) tree[`/srv/d/f${i}`] = 'x';
    const ok = await run(tree, `{ file_scan: { paths: [/srv], find: world_writable } }`);
    expect(ok.status).toBe('pass');
    const cut = await run(tree, `{ file_scan: { paths: [/srv], find: world_writable, max_entries: 5 } }`);
    expect(cut.status).toBe('error');
    expect(cut.evidence).toContain('scan stopped after 5 entries');
  });
});

describe('evidence', () => {
  it('shows control characters in file names and contents as visible escapes', async () => {
    const tree: Tree = { '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n', '/etc/group': 'root:x:0:\n', '/srv/\u001b]52;c;bad\u0007': { content: 'x', mode: 0o666 } };
    const r = await run(tree, `{ file_scan: { paths: [/srv], find: world_writable } }`);
    expect(r.status).toBe('fail');
    expect(r.evidence).toBe('/srv/\\x1b]52;c;bad\\x07: mode 0666');
    const s = await run({ '/etc/ssh/sshd_config': 'PermitRootLogin\tyes\u202e #x\n' }, PERMIT);
    expect(s.evidence).toContain('/etc/ssh/sshd_config:1: PermitRootLogin yes\\u202e; expected = no');
  });

  it('never carries a password hash', async () => {
    const r = await run({ '/etc/shadow': 'root:$6$salt$abcdefghij:19700::::::\n' }, `{ file_match: { paths: /etc/shadow, regex: '^root:', expect: no_match, comments: null, on_missing: fail } }`);
    expect(r.evidence).toBe('/etc/shadow:1: root:$6$<redacted>:19700::::::');
  });
});

describe('commands', () => {
  const node = process.execPath;
  it('run argv without a shell on the live host, within a timeout', async () => {
    const p = policy(`{ command: { argv: [${node}, -e, 'console.log(process.argv[1])', '$(id)'], stdout: { regex: '^\\$\\(id\\)' } } }`);
    const r = (await runPolicies([p], '/')).results[0] as CheckResult;
    expect(r.status).toBe('pass');
    const slow = policy(`{ command: { argv: [${node}, -e, 'setTimeout(() => {}, 10000)'], timeout_ms: 300 } }`);
    const t = (await runPolicies([slow], '/')).results[0] as CheckResult;
    expect(t.status).toBe('error');
    expect(t.evidence).toContain('timed out after 300 ms');
  });

  it('cap the output kept from a command', async () => {
    const p = policy(`{ command: { argv: [${node}, -e, 'process.stdout.write("y".repeat(100000))'], max_output: 1000, stdout: { regex: '^y{1000}$' } } }`);
    expect(((await runPolicies([p], '/')).results[0] as CheckResult).status).toBe('pass');
  });

  it('are never run against a mounted image or prepared tree', async () => {
    const r = await run({}, `{ command: { argv: [/bin/false] } }`);
    expect(r.status).toBe('not_applicable');
  });
});

describe('applicability and score', () => {
  it('make every check of a policy not applicable when the policy does not apply', async () => {
    const r = await run({}, PERMIT, { extra: 'applies_when: { path_exists: { paths: /etc/ssh/sshd_config, expect: present } }\n' });
    expect(r.status).toBe('not_applicable');
    expect(r.evidence).toContain('policy test-policy does not apply: none of /etc/ssh/sshd_config exists');
  });

  it('score passed over passed and failed, leaving errors and not-applicable checks out', () => {
    const mk = (status: CheckResult['status']): CheckResult => ({ id: 'x', title: 't', status, evidence: '', severity: 'low', rationale: '', remediation: { en: '', 'zh-CN': '' }, compliance: [], policy: 'p' });
    expect(scoreOf([mk('pass'), mk('pass'), mk('fail'), mk('error'), mk('not_applicable')])).toBe(67);
    expect(scoreOf([mk('not_applicable')])).toBe(100);
  });

  it('run the built-in policies on an empty tree without throwing', async () => {
    const r = await runBaseline({ root: tmp() });
    expect(r.results.length).toBeGreaterThanOrEqual(80);
    for (const x of r.results) expect(['pass', 'fail', 'not_applicable', 'error']).toContain(x.status);
  });
});
