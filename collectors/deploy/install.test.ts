import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { KIT_ROOT } from '../../core';
import { chooseStartMode, existingApiKey, hostConfigFiles, planHost, type HostFacts } from './install';
import { ASSETS, buildPackage, dataFile, INSTALL, type CollectorPackage } from './package';
import type { ResolvedHost } from './inventory';

const host: ResolvedHost = { name: 'web01', address: '10.0.0.21', port: 22, user: 'root', sudo: false, tags: [], groups: [], connectTimeoutMs: 1000, collector: { heartbeat_interval_s: 10 } };
const pkg: CollectorPackage = {
  version: '1.0.0',
  nodeVersion: 'v20.0.0',
  files: [dataFile(INSTALL.launcher, 0o755, 'launcher', Buffer.from('#!/bin/sh\n')), dataFile('/etc/systemd/system/auditkit-collector.service', 0o644, 'unit', Buffer.from('[Service]\n'))],
  unitName: 'auditkit-collector.service',
  serviceUser: 'auditkit',
  missing: [],
  buildMs: 0,
};
const facts = (over: Partial<HostFacts> = {}): HostFacts => ({
  uid: 0, kernel: 'Linux', arch: 'x86_64', os: 'debian', osVersion: '12', init: 'systemd', systemctl: true, auditd: true, auditdRunning: true, augenrules: true, files: new Map(), running: false, ...over,
});

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
    expect(plan).toMatchObject({ service: 'restart', augenrules: true, upgrade: true, startMode: 'systemd' });
    const same = planHost(facts({ running: true, files: new Map(pkg.files.map((x) => [x.dest, { mode: x.mode, owner: 'root', group: 'root', sha256: x.sha256 }])) }), pkg, [], { root: '/', start: true });
    expect(same.actions.every((a) => a.action === 'unchanged')).toBe(true);
    expect(same.service).toBe('none');
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
  }, 60_000);
});
