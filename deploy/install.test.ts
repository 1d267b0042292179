import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { KIT_ROOT } from '../core';
import { applyPlan, chooseStartMode, existingApiKey, hostConfigFiles, hostHookFiles, planHost, uninstallHost, type HostFacts } from './install';
import type { ExecResult, SshSession } from '../fleet';
import { ASSETS, asciiOnly, buildPackage, COLLECTOR_ENV, COLLECTOR_NODE_FLAGS, dataFile, INSTALL, LAUNCHER, sourceLine, SOURCE_FILES, type CollectorPackage, type PackageFile } from './package';
import type { ResolvedHost } from '../fleet';

const host: ResolvedHost = { name: 'web01', address: '10.0.0.21', port: 22, user: 'root', sudo: false, tags: [], groups: [], connectTimeoutMs: 1000, collector: { heartbeat_interval_s: 10 } };
const pkg: CollectorPackage = {
  version: '1.0.0',
  nodeVersion: 'v20.0.0',
  files: [dataFile(INSTALL.launcher, 0o755, 'launcher', Buffer.from('#!/bin/sh\n')), dataFile('/etc/systemd/system/auditkit-collector.service', 0o644, 'unit', Buffer.from('[Service]\n'))],
  unitName: 'auditkit-collector.service',
  serviceUser: 'auditkit',
  lines: [],
  missing: [],
  buildMs: 0,
};
const facts = (over: Partial<HostFacts> = {}): HostFacts => ({
  uid: 0, kernel: 'Linux', arch: 'x86_64', os: 'debian', osVersion: '12', init: 'systemd', systemctl: true, auditd: true, auditdRunning: true, augenrules: true, files: new Map(), running: false, ...over,
});


/** An SshSession stand-in that runs the commands uninstall sends in a local `sh` (their quoting is what is under test). */
function localShell(): SshSession {
  const run = async (cmd: string): Promise<ExecResult> => {
    try {
      return { code: 0, stdout: execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }), stderr: '' };
    } catch (e) {
      const err = e as { status?: number; stdout?: string; stderr?: string };
      return { code: err.status ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  };
  return { run, must: async (cmd: string): Promise<string> => (await run(cmd)).stdout } as unknown as SshSession;
}
describe('host plans', () => {
  test('a systemd host runs the unit as its service user, who owns the mode-600 config; --root always runs a background process', () => {
    expect(chooseStartMode(facts(), '/', pkg)).toBe('systemd');
    expect(chooseStartMode(facts(), '/srv/img', pkg)).toBe('process');
    expect(chooseStartMode(facts({ init: 'init' }), '/', pkg)).toBe('process');
    const [cfg] = hostConfigFiles(host, '/', { urls: ['https://es:9200'], namespace: 'prod', apiKey: 'a2V5', tlsVerify: true }, 'auditkit');
    expect(cfg).toMatchObject({ dest: INSTALL.config, mode: 0o600, owner: 'auditkit' });
    const text = cfg && 'data' in cfg.source ? cfg.source.data.toString() : '';
    expect(parse(text)).toEqual({ elasticsearch: { url: 'https://es:9200', namespace: 'prod', api_key: 'a2V5' }, collector: { heartbeat_interval_s: 10, host_name: 'web01' } });
    expect(existingApiKey(text)).toBe('a2V5');
  });

  test('a host whose hook listener is not at the defaults gets both hooks with its port, address and alive file; other hosts get the packaged hooks', () => {
    const hooks = [dataFile(INSTALL.hook, 0o644, 'hook', readFileSync(path.join(KIT_ROOT, ASSETS.hook))), dataFile(INSTALL.zshHook, 0o644, 'hook', readFileSync(path.join(KIT_ROOT, ASSETS.zshHook)))];
    expect(hostHookFiles(host, hooks)).toEqual([]);
    const moved: ResolvedHost = { ...host, collector: { ...host.collector, listeners: { hook: { host: '0.0.0.0', port: 7001, alive_file: "/run/it's/alive" } } } };
    const own = hostHookFiles(moved, hooks);
    expect(own.map((f) => [f.dest, f.mode, f.role])).toEqual([[INSTALL.hook, 0o644, 'hook'], [INSTALL.zshHook, 0o644, 'hook']]);
    for (const f of own) {
      const text = 'data' in f.source ? f.source.data.toString() : '';
      expect(text).toMatch(/^__auditkit_port='7001'$/m);
      expect(text).toMatch(/^__auditkit_alive='\/run\/it'\\''s\/alive'$/m);
      // A wildcard listener answers on loopback, where the hook connects.
      expect(text).toMatch(/^__auditkit_addr=127\.0\.0\.1$/m);
    }
    // The values as each shell reads them (the settings block run alone).
    const settings = (f: PackageFile): string => ('data' in f.source ? f.source.data.toString() : '').split('\n').filter((l) => /^__auditkit_(port|alive)=/.test(l)).join('\n');
    expect(execFileSync('bash', ['-c', `${settings(own[0] as PackageFile)}\nprintf '%s|%s' "$__auditkit_port" "$__auditkit_alive"`]).toString()).toBe("7001|/run/it's/alive");
    // The plan installs the host's hooks in place of the packaged ones: one action per path.
    const plan = planHost(facts(), { ...pkg, files: [...pkg.files, ...hooks] }, own, { root: '/', start: true });
    expect(plan.files.filter((f) => f.role === 'hook').map((f) => f.sha256)).toEqual(own.map((f) => f.sha256));
    expect(plan.actions.filter((a) => a.dest === INSTALL.hook)).toHaveLength(1);
  });

  test('under --root the state dir follows the root and paths in the config are rooted', () => {
    const files = hostConfigFiles(host, '/srv/img', { urls: ['https://es:9200'], namespace: 'prod', caPem: Buffer.from('PEM'), tlsVerify: false });
    const cfg = parse(files[0] && 'data' in files[0].source ? files[0].source.data.toString() : '') as { elasticsearch: Record<string, unknown>; collector: Record<string, unknown> };
    expect(cfg.collector['state_dir']).toBe('/srv/img/var/lib/auditkit');
    expect(cfg.elasticsearch).toMatchObject({ ca_file: '/srv/img/etc/auditkit/ca.pem', tls_verify: false });
    expect(files[1]).toMatchObject({ dest: INSTALL.ca, mode: 0o644 });
  });

  test('a plan creates, updates, fixes modes, removes files an older version installed, and restarts only on change', () => {
    const [launcher, unit] = pkg.files;
    const f = facts({
      running: true,
      files: new Map([
        [INSTALL.launcher, { mode: 0o775, owner: 'root', group: 'root', sha256: launcher?.sha256 ?? '' }],
        [unit?.dest ?? '', { mode: 0o644, owner: 'root', group: 'root', sha256: 'old' }],
        ['/etc/audit/rules.d/auditkit.rules', { mode: 0o640, owner: 'root', group: 'root', sha256: 'x' }],
      ]),
      manifest: { kit_version: '0.9', node_version: 'v20', installed_at: '', start: 'systemd', files: [{ path: '/etc/audit/rules.d/auditkit.rules', sha256: 'x', mode: '640', role: 'rules' }], dirs: [] },
    });
    const plan = planHost(f, pkg, [], { root: '/', start: true });
    expect(plan.actions.map((a) => [a.dest, a.action])).toEqual([
      [INSTALL.launcher, 'chmod'],
      [unit?.dest, 'update'],
      ['/etc/audit/rules.d/auditkit.rules', 'remove'],
    ]);
    expect(plan).toMatchObject({ service: 'restart', auditLoad: { tool: 'augenrules', command: 'augenrules --load' }, upgrade: true, startMode: 'systemd' });
    const same = planHost(facts({ running: true, files: new Map(pkg.files.map((x) => [x.dest, { mode: x.mode, owner: 'root', group: 'root', sha256: x.sha256 }])) }), pkg, [], { root: '/', start: true });
    expect(same.actions.every((a) => a.action === 'unchanged')).toBe(true);
    expect(same.service).toBe('none');
  });

  test('a startup file without the source line gets it added, one with it is unchanged, a missing one is left alone, and the collector is not restarted for it', () => {
    const withLines: CollectorPackage = { ...pkg, lines: [sourceLine(SOURCE_FILES.bashrc, INSTALL.hook), sourceLine(SOURCE_FILES.zshrc, INSTALL.zshHook)] };
    const installed = new Map(pkg.files.map((x) => [x.dest, { mode: x.mode, owner: 'root', group: 'root', sha256: x.sha256 }]));
    const plan = planHost(facts({ running: true, files: installed, lines: new Map([[SOURCE_FILES.bashrc, false]]) }), withLines, [], { root: '/', start: true });
    expect(plan.actions.filter((a) => a.action !== 'unchanged')).toEqual([
      { dest: '/etc/bash.bashrc', role: 'source-line', action: 'update', detail: "add at the top: [ -r '/etc/profile.d/auditkit.sh' ] && . '/etc/profile.d/auditkit.sh' # added by auditkit deploy (removed by auditkit deploy --uninstall)" },
    ]);
    expect(plan.lines.map((l) => l.file)).toEqual(['/etc/bash.bashrc']);
    expect(plan.service).toBe('none');
    const again = planHost(facts({ running: true, files: installed, lines: new Map([[SOURCE_FILES.bashrc, true], [SOURCE_FILES.zshrc, true]]) }), withLines, [], { root: '/', start: true });
    expect(again.actions.every((a) => a.action === 'unchanged')).toBe(true);
    expect(again.lines.map((l) => l.file)).toEqual(['/etc/bash.bashrc', '/etc/zsh/zshrc']);
  });

  test('asciiOnly escapes what esbuild leaves in regular expression literals, meaning the same', () => {
    const src = 'module.exports = [/(密码|口令)[:：]\\s*$/i, /[😀]/u, "é"];';
    const out = asciiOnly(src);
    expect(out).not.toMatch(/[^\x00-\x7f]/);
    const [a, b, c] = new Function('module', `${out}; return module.exports;`)({}) as [RegExp, RegExp, string];
    expect(a.test('输入密码：')).toBe(true);
    expect(a.test('口令:')).toBe(true);
    expect(b.test('😀')).toBe(true);
    expect(c).toBe('é');
    // After a backslash the character is kept (the escape is its own).
    expect(asciiOnly('/\\密/')).toBe('/\\密/');
  });

  test('the launcher runs `collect` on the collector bundle and every other command on the full CLI, with the same flags and arguments', () => {
    const prefix = mkdtempSync(path.join(os.tmpdir(), 'auditkit-launcher-'));
    try {
      const bin = path.join(prefix, path.posix.basename(path.posix.dirname(INSTALL.launcher)));
      mkdirSync(bin);
      writeFileSync(path.join(bin, 'auditkit'), LAUNCHER, { mode: 0o755 });
      // A stand-in runtime that prints what it was asked to run.
      writeFileSync(path.join(bin, 'node'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
      chmodSync(path.join(bin, 'node'), 0o755);
      const run = (...args: string[]): string[] => execFileSync(path.join(bin, 'auditkit'), args, { encoding: 'utf8' }).trim().split('\n');
      const lib = (f: string): string => `${bin}/../lib/${path.posix.basename(f)}`;
      expect(run('collect', '--config', '/etc/auditkit/auditkit.yml')).toEqual([...COLLECTOR_NODE_FLAGS, lib(INSTALL.collectorBundle), 'collect', '--config', '/etc/auditkit/auditkit.yml']);
      expect(run('rules', 'list', 'collect')).toEqual([...COLLECTOR_NODE_FLAGS, lib(INSTALL.bundle), 'rules', 'list', 'collect']);
      expect(run()).toEqual([...COLLECTOR_NODE_FLAGS, lib(INSTALL.bundle)]);
      // Global options before the command, with or without a separate value.
      expect(run('--verbose', 'collect')).toEqual([...COLLECTOR_NODE_FLAGS, lib(INSTALL.collectorBundle), '--verbose', 'collect']);
      expect(run('--config', '/etc/a.yml', '--json', 'collect', '--once')).toEqual([...COLLECTOR_NODE_FLAGS, lib(INSTALL.collectorBundle), '--config', '/etc/a.yml', '--json', 'collect', '--once']);
      expect(run('--es-url=https://es:9200', '--namespace', 'prod', 'collect')[COLLECTOR_NODE_FLAGS.length]).toBe(lib(INSTALL.collectorBundle));
      // A value that reads like the command is the value; what follows decides.
      expect(run('--config', 'collect', 'rules', 'list')[COLLECTOR_NODE_FLAGS.length]).toBe(lib(INSTALL.bundle));
      expect(run('--help')[COLLECTOR_NODE_FLAGS.length]).toBe(lib(INSTALL.bundle));
      expect(run('report', 'collect')[COLLECTOR_NODE_FLAGS.length]).toBe(lib(INSTALL.bundle));
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  test('the packaged unit runs the launcher, not a system node', async () => {
    if (!existsSync(path.join(KIT_ROOT, ASSETS.unit))) {
      console.warn(`${ASSETS.unit} not in the tree yet: skipped`);
      return;
    }
    const built = await buildPackage();
    const u = built.files.find((x) => x.role === 'unit');
    const text = u && 'data' in u.source ? u.source.data.toString() : '';
    expect(text).toMatch(new RegExp(`^ExecStart=${INSTALL.launcher} collect --config ${INSTALL.config}$`, 'm'));
    expect(built.unitName).toBe('auditkit-collector.service');
    // The launcher and the unit as shipped (for installs without deploy) run node with the same flags.
    const l = built.files.find((x) => x.role === 'launcher');
    const launcher = l && 'data' in l.source ? l.source.data.toString() : '';
    expect(launcher).toContain(`"$d/node" ${COLLECTOR_NODE_FLAGS.join(' ')} "$d/../lib/$b"`);
    expect(readFileSync(path.join(KIT_ROOT, ASSETS.unit), 'utf8')).toMatch(new RegExp(`^ExecStart=/usr/bin/node ${COLLECTOR_NODE_FLAGS.join(' ')} `, 'm'));
    // ...and the same environment (malloc arenas).
    for (const [k, v] of Object.entries(COLLECTOR_ENV)) {
      expect(launcher).toContain(`${k}=${v}; export ${k}\n`);
      expect(text).toMatch(new RegExp(`^Environment=${k}=${v}$`, 'm'));
    }
    // The bundles are pure ASCII: else V8 holds the whole source as a two-byte string (2x the heap).
    const bundles = built.files.filter((x) => x.role === 'bundle');
    expect(bundles.map((x) => x.dest)).toEqual(expect.arrayContaining([INSTALL.bundle, INSTALL.collectorBundle, `${INSTALL.vendorDir}/nodemailer.js`]));
    for (const b of bundles) {
      const bundle = 'file' in b.source ? readFileSync(b.source.file, 'latin1') : '';
      expect(bundle.length).toBeGreaterThan(1000);
      expect(/[^\x00-\x7f]/.test(bundle)).toBe(false);
    }
    // `collect` runs its own bundle, without the other commands (a third of the full one's source in every collector's heap).
    const size = (dest: string): number => bundles.find((x) => x.dest === dest)?.size ?? NaN;
    expect(size(INSTALL.collectorBundle)).toBeLessThan(size(INSTALL.bundle) / 3);
    // The collector's rules engine needs the built-in packs beside the bundle.
    expect(built.files.filter((x) => x.role === 'rulepack').map((x) => path.posix.basename(x.dest))).toContain('destructive.yml');
    // The posture module's built-in policies go where builtinPoliciesDir() looks beside the bundle.
    const policies = built.files.filter((x) => x.role === 'policy');
    expect(policies.map((x) => x.dest)).toEqual(expect.arrayContaining([`${INSTALL.posturePolicies}/ssh.yml`, `${INSTALL.posturePolicies}/auditd.yml`]));
    expect(policies.length).toBe(readdirSync(path.join(KIT_ROOT, ASSETS.posturePolicies)).filter((n) => n.endsWith('.yml')).length);
    expect(path.posix.dirname(INSTALL.posturePolicies)).toBe(path.posix.dirname(INSTALL.bundle));
    expect(path.posix.basename(INSTALL.posturePolicies)).toBe('posture-policies');
  }, 60_000);
});

/** A command-runner seam: records every remote command; `answer` decides each result. */
function fakeSession(answer: (cmd: string) => Partial<ExecResult> = () => ({})): SshSession & { cmds: string[] } {
  const cmds: string[] = [];
  const run = (cmd: string): Promise<ExecResult> => {
    cmds.push(cmd);
    const a = answer(cmd);
    return Promise.resolve({ code: 0, stdout: cmd.startsWith('mktemp') ? '/tmp/auditkit-deploy.x\n' : '', stderr: '', ...a });
  };
  return {
    cmds,
    run,
    async must(cmd) {
      const r = await run(cmd);
      if (r.code !== 0) throw new Error(`exit ${r.code}`);
      return r.stdout;
    },
    upload: () => Promise.resolve(),
    close: () => undefined,
  };
}

describe('loading audit rules (augenrules, auditctl -R fallback)', () => {
  const rules = dataFile(INSTALL.rules, 0o640, 'rules', Buffer.from('-a always,exit -F arch=b64 -S execve -k auditkit\n'));
  const withRules: CollectorPackage = { ...pkg, files: [...pkg.files, rules] };
  const noKernelAudit = 'You must be root to run this program.\nThe audit system is disabled';

  test('changed rules on a host with augenrules run exactly `augenrules --load` as root after the files are in place', async () => {
    const s = fakeSession();
    const plan = planHost(facts({ auditdRunning: false }), withRules, [], { root: '/', start: false });
    expect(plan.auditLoad).toEqual({ tool: 'augenrules', command: 'augenrules --load' });
    const r = await applyPlan(s, plan, withRules, { root: '/', start: false });
    const i = s.cmds.indexOf('augenrules --load');
    expect(i).toBeGreaterThan(s.cmds.findIndex((c) => c.includes(`mv -f "$R${INSTALL.rules}.aknew"`)));
    expect(s.cmds.filter((c) => /augenrules|auditctl/.test(c) && !c.startsWith('R='))).toEqual(['augenrules --load']);
    expect(r).toMatchObject({ status: 'installed', warnings: [], notes: ['audit rules loaded (augenrules --load)'] });
  });

  test('a failing load (no kernel audit in a container) is a warning for the host, not a failure, and nothing is rolled back', async () => {
    const s = fakeSession((c) => (c === 'augenrules --load' ? { code: 1, stderr: noKernelAudit } : {}));
    const plan = planHost(facts(), withRules, [], { root: '/', start: false });
    const r = await applyPlan(s, plan, withRules, { root: '/', start: false });
    expect(r.status).toBe('installed');
    expect(r.warnings).toEqual([
      `audit rules not loaded: \`augenrules --load\` failed (exit 1): You must be root to run this program. | The audit system is disabled; they are installed in ${INSTALL.rules} and load when auditd next starts with kernel audit available (a container has none; rules locked with -e 2 need a reboot)`,
    ]);
    expect(s.cmds.some((c) => c.includes('.akbak" "$R') && c.includes('mv -f'))).toBe(false);
  });

  test('without augenrules auditctl -R loads our rules file; without either the plan says so; unchanged rules are not reloaded', async () => {
    const plan = planHost(facts({ augenrules: false, auditctl: true }), withRules, [], { root: '/', start: false });
    expect(plan.auditLoad).toEqual({ tool: 'auditctl', command: `auditctl -R '${INSTALL.rules}'` });
    const s = fakeSession();
    await applyPlan(s, plan, withRules, { root: '/', start: false });
    expect(s.cmds).toContain(`auditctl -R '${INSTALL.rules}'`);
    const none = planHost(facts({ augenrules: false, auditctl: false }), withRules, [], { root: '/', start: false });
    expect(none.auditLoad).toBeUndefined();
    expect(none.notes).toContain('audit rules installed; neither augenrules nor auditctl is on the host (install auditd): not loaded');
    const installed = new Map(withRules.files.map((x) => [x.dest, { mode: x.mode, owner: 'root', group: 'root', sha256: x.sha256 }]));
    expect(planHost(facts({ files: installed }), withRules, [], { root: '/', start: false }).auditLoad).toBeUndefined();
  });

  test('under --root rules are not loaded unless asked (augenrules reads the real /etc/audit/rules.d)', () => {
    const plan = planHost(facts(), withRules, [], { root: '/srv/img', start: false });
    expect(plan.auditLoad).toBeUndefined();
    expect(plan.notes).toContain("audit rules installed; not loaded under --root (augenrules loads the host's own /etc/audit/rules.d)");
    expect(planHost(facts({ augenrules: false, auditctl: true }), withRules, [], { root: '/srv/img', start: false, loadAuditRules: true }).auditLoad).toEqual({ tool: 'auditctl', command: `auditctl -R '/srv/img${INSTALL.rules}'` });
  });

  test('uninstall reloads the remaining rules with augenrules after removing ours; a failure is a warning', async () => {
    const f = facts({ files: new Map([[INSTALL.rules, { mode: 0o640, owner: 'root', group: 'root', sha256: rules.sha256 }]]) });
    const ok = fakeSession();
    const r = await uninstallHost(ok, f, withRules, '/');
    expect(ok.cmds.slice(-1)).toEqual(['augenrules --load']);
    expect(ok.cmds[0]).toContain(`rm -f '${INSTALL.rules}'`);
    expect(r).toMatchObject({ notes: ["audit rules reloaded without auditkit's (augenrules --load)"], warnings: [] });
    const bad = await uninstallHost(fakeSession((c) => (c === 'augenrules --load' ? { code: 1, stderr: noKernelAudit } : {})), f, withRules, '/');
    expect(bad.warnings[0]).toMatch(/^audit rules not loaded: `augenrules --load` failed \(exit 1\): .*The audit system is disabled; the kernel keeps auditkit's rules until auditd restarts or the host reboots$/);
  });
});

describe('uninstall against a manifest a compromised collector rewrote', () => {
  // The manifest lives in the service user's state directory: its paths are the
  // collector's word, and uninstall runs as root. Run the real commands in a real sh
  // under a temporary root and check that no planted path is executed or removed.
  test('planted paths are neither run by the shell nor removed, and are reported', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const root = mkdtempSync(path.join(os.tmpdir(), 'ak-uninstall-'));
    const marker = path.join(root, 'pwned');
    const victim = path.join(root, 'etc', 'important');
    try {
      mkdirSync(path.join(root, 'etc'), { recursive: true });
      writeFileSync(victim, 'keep me');
      const planted = [`/x"; touch ${marker}; echo "`, `/var/lib/auditkit/$(touch ${marker})`, '/etc/important', '/opt/auditkit/../../etc/important'];
      const shell = localShell();
      const f = facts({ systemctl: false, augenrules: false, manifest: { kit_version: '0.9', node_version: 'v20', installed_at: '', start: 'process', unit: 'x; touch /tmp/no.service', files: planted.map((p) => ({ path: p, sha256: 'x', mode: '644', role: 'config' as const })), dirs: planted } });
      const r = await uninstallHost(shell, f, pkg, root);
      expect(existsSync(marker)).toBe(false);
      expect(readFileSync(victim, 'utf8')).toBe('keep me');
      expect(r.warnings.join('\n')).toMatch(/the deploy manifest names \d+ paths? outside what auditkit installs; left alone/);
      expect(r.removed.some((p) => p.includes('important'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a startup file the manifest names as an installed file is edited, never removed, and a planted line elsewhere is left alone', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync, statSync } = await import('node:fs');
    const os = await import('node:os');
    const root = mkdtempSync(path.join(os.tmpdir(), 'ak-uninstall-'));
    const ours = sourceLine(SOURCE_FILES.bashrc, INSTALL.hook);
    const bashrc = path.join(root, 'etc', 'bash.bashrc');
    const victim = path.join(root, 'etc', 'important');
    try {
      mkdirSync(path.join(root, 'etc'), { recursive: true });
      writeFileSync(bashrc, `${ours.line}\n[ -z "$PS1" ] && return\n`, { mode: 0o640 });
      writeFileSync(victim, 'keep me\n');
      const shell = localShell();
      const f = facts({
        systemctl: false,
        augenrules: false,
        manifest: { kit_version: '0.9', node_version: 'v20', installed_at: '', start: 'process', files: [{ path: SOURCE_FILES.bashrc, sha256: 'x', mode: '644', role: 'hook' }], dirs: ['/etc'], lines: [{ path: '/etc/important', line: 'keep me' }] },
      });
      const r = await uninstallHost(shell, f, { ...pkg, lines: [ours] }, root);
      expect(readFileSync(bashrc, 'utf8')).toBe('[ -z "$PS1" ] && return\n');
      expect((statSync(bashrc).mode & 0o777).toString(8)).toBe('640');
      expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
      expect(r).toMatchObject({ removed: [], edited: ['/etc/bash.bashrc'] });
      expect(r.warnings.join('\n')).toMatch(/the deploy manifest names 1 path outside what auditkit installs; left alone: "\/etc\/bash.bashrc"/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
