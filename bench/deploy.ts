/**
 * Deploy wall time to 20 real sshd hosts on loopback (test/deploy/sshd.ts), each into its
 * own --root: auditkit at the default concurrency, auditkit host by host (concurrency 1),
 * and Ansible (ansible-core from PyPI, in a venv in the cache dir) doing the equivalent
 * steps (directories, the same files with the same modes, the per-host config, start the
 * collector in the background and check it is alive). Each also does a second, no-change
 * run. The collector ships to a closed port (no Elasticsearch needed): the heartbeat wait is
 * off for all three, so the figures compare the installing itself.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, promises as fsp, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import {
  buildPackage, hostConfigFiles, INSTALL, inventoryConfigSchema, KnownHosts, resolveHosts, runDeploy,
  type DeployOptions, type HostResult,
} from '../collectors/deploy';
import { cacheDir, freePort } from '../core';
import { sshdUnavailable, startSshdFleet } from '../test/deploy/sshd';
import type { Benchmark, BenchResult } from './types';

const pexec = promisify(execFile);
const HOSTS = 20;
const DEFAULT_CONCURRENCY = 10;

async function ensureAnsible(): Promise<string> {
  const venv = path.join(cacheDir(), 'ansible-venv');
  const bin = path.join(venv, 'bin', 'ansible-playbook');
  if (!existsSync(bin)) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' });
    execFileSync(path.join(venv, 'bin', 'pip'), ['install', '-q', 'ansible-core'], { stdio: 'ignore', timeout: 600_000 });
  }
  return bin;
}

function yamlStr(s: string): string {
  return JSON.stringify(s);
}

async function run(): Promise<BenchResult[]> {
  const why = sshdUnavailable();
  if (why) throw new Error(`deploy bench needs sshd: ${why}`);
  const fleet = await startSshdFleet(HOSTS, { prefix: 'b' });
  const esUrl = `http://127.0.0.1:${await freePort()}`;
  const client = new Client({ node: esUrl });
  const killCollectors = async (rootBase: string): Promise<void> => {
    for (const h of fleet.hosts) {
      const pf = path.join(rootBase, h.name, INSTALL.runDir, 'collector.pid');
      try {
        process.kill(Number((await fsp.readFile(pf, 'utf8')).trim()), 'SIGKILL');
      } catch {
        /* not running */
      }
    }
    await fsp.rm(rootBase, { recursive: true, force: true });
  };
  try {
    const known = path.join(fleet.dir, 'known_hosts');
    await fsp.writeFile(known, fleet.knownHostsText());
    const hist = path.join(fleet.dir, 'history');
    await fsp.writeFile(hist, '#1700000000\nls\n');
    const inv = inventoryConfigSchema.parse({
      defaults: { user: 'root', key: fleet.clientKey, collector: { inputs: [{ path: hist, format: 'bash' }], heartbeat_interval_s: 0 } },
      hosts: Object.fromEntries(fleet.hosts.map((h) => [h.name, { address: '127.0.0.1', port: h.port }])),
    });
    const hosts = resolveHosts(inv);
    const pkg = await buildPackage({ workDir: path.join(fleet.dir, 'pkg') });
    const es = { client, urls: [esUrl], namespace: 'bench', security: false, tlsVerify: true };

    const timeAuditkit = async (concurrency: number, label: string): Promise<{ first: number; second: number }> => {
      const rootBase = path.join(fleet.dir, label);
      const opts: DeployOptions = { mode: 'install', root: path.join(rootBase, '{host}'), concurrency, known: new KnownHosts(known, false), pkg, es, start: true, verifyTimeoutMs: 0 };
      const t0 = Date.now();
      const r1 = await runDeploy(hosts, opts);
      const first = Date.now() - t0;
      const t1 = Date.now();
      const r2 = await runDeploy(hosts, opts);
      const second = Date.now() - t1;
      const bad = [...r1, ...r2].filter((r: HostResult) => r.status === 'failed');
      if (bad.length > 0) throw new Error(`auditkit ${label}: ${bad.length} host runs failed: ${bad[0]?.error?.message}`);
      if (r2.some((r) => r.status !== 'unchanged')) throw new Error(`auditkit ${label}: second run was not unchanged`);
      await killCollectors(rootBase);
      process.stderr.write(`  [deploy bench] auditkit concurrency ${concurrency}: first ${first} ms, second ${second} ms\n`);
      return { first, second };
    };

    const par = await timeAuditkit(DEFAULT_CONCURRENCY, 'par');
    const seq = await timeAuditkit(1, 'seq');

    // Ansible: the same files, modes, per-host config and start, with forks = our default concurrency.
    const playbook = await fsp.mkdtemp(path.join(fleet.dir, 'ansible-'));
    const rootBase = path.join(fleet.dir, 'ansible');
    const invLines = ['[collectors]'];
    for (const h of hosts) {
      const cfg = hostConfigFiles(h, path.join(rootBase, h.name), { urls: [esUrl], namespace: 'bench', tlsVerify: true })[0];
      const cfgFile = path.join(playbook, `${h.name}.yml`);
      if (cfg && 'data' in cfg.source) await fsp.writeFile(cfgFile, cfg.source.data);
      invLines.push(`${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=${fleet.clientKey} R=${path.join(rootBase, h.name)} CFG=${cfgFile}`);
    }
    await fsp.writeFile(path.join(playbook, 'hosts.ini'), invLines.join('\n') + '\n');
    const src = (dest: string): string => {
      const f = pkg.files.find((x) => x.dest === dest);
      if (!f) return '';
      if ('file' in f.source) return f.source.file;
      const p = path.join(playbook, path.basename(dest));
      writeFileSync(p, f.source.data);
      return p;
    };
    const copies = pkg.files.map((f) => `    - { src: ${yamlStr(src(f.dest))}, dest: ${yamlStr(f.dest)}, mode: "0${f.mode.toString(8)}" }`);
    const dirs = ['/opt/auditkit/bin', '/opt/auditkit/lib', '/etc/auditkit', '/etc/profile.d', '/etc/audit/rules.d', '/etc/systemd/system', '/var/lib/auditkit', '/var/log/auditkit', '/run/auditkit'];
    await fsp.writeFile(
      path.join(playbook, 'deploy.yml'),
      `- hosts: collectors
  gather_facts: true
  vars:
    files:
${copies.join('\n')}
  tasks:
    - name: directories
      file: { path: "{{ R }}{{ item }}", state: directory, mode: "0755" }
      loop: ${JSON.stringify(dirs)}
    - name: package files
      copy: { src: "{{ item.src }}", dest: "{{ R }}{{ item.dest }}", mode: "{{ item.mode }}", owner: root, group: root }
      loop: "{{ files }}"
      register: pkgfiles
    - name: host config
      copy: { src: "{{ CFG }}", dest: "{{ R }}/etc/auditkit/auditkit.yml", mode: "0600", owner: root, group: root }
      register: hostcfg
    - name: running?
      shell: 'p=$(cat "{{ R }}/run/auditkit/collector.pid" 2>/dev/null) && kill -0 "$p"'
      register: alive
      changed_when: false
      failed_when: false
    - name: start collector
      shell: |
        cd /
        nohup setsid "{{ R }}/opt/auditkit/bin/auditkit" collect --config "{{ R }}/etc/auditkit/auditkit.yml" >> "{{ R }}/var/log/auditkit/collector.log" 2>&1 < /dev/null &
        echo $! > "{{ R }}/run/auditkit/collector.pid"
        sleep 2; kill -0 $(cat "{{ R }}/run/auditkit/collector.pid")
      when: pkgfiles.changed or hostcfg.changed or alive.rc != 0
`,
    );
    const ansible = await ensureAnsible();
    const env = {
      ...process.env,
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_SSH_ARGS: `-o UserKnownHostsFile=${known} -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s`,
      ANSIBLE_FORKS: String(DEFAULT_CONCURRENCY),
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
      ANSIBLE_LOCAL_TEMP: path.join(playbook, 'tmp'),
      ANSIBLE_NOCOLOR: '1',
    };
    const play = async (): Promise<number> => {
      const t0 = Date.now();
      await pexec(ansible, ['-i', path.join(playbook, 'hosts.ini'), path.join(playbook, 'deploy.yml')], { env, maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 }).catch((err: { stdout?: string }) => {
        throw new Error(`ansible-playbook failed: ${(err.stdout ?? '').split('\n').filter((l) => /fatal|FAILED|ERROR/.test(l)).slice(0, 3).join(' | ')}`);
      });
      return Date.now() - t0;
    };
    const ans1 = await play();
    process.stderr.write(`  [deploy bench] ansible first: ${ans1} ms\n`);
    const ans2 = await play();
    process.stderr.write(`  [deploy bench] ansible second: ${ans2} ms\n`);
    await killCollectors(rootBase);

    const s = (ms: number): number => ms / 1000;
    return [
      { name: `auditkit deploy, ${HOSTS} hosts, concurrency ${DEFAULT_CONCURRENCY} (first install)`, value: s(par.first), unit: 's', baseline: { name: 'host by host', value: s(seq.first), unit: 's' }, ratio: seq.first / par.first, note: 'ratio = host-by-host time / parallel time (higher is better)' },
      { name: `auditkit deploy vs Ansible ${HOSTS} hosts (first install)`, value: s(par.first), unit: 's', baseline: { name: `ansible-playbook forks=${DEFAULT_CONCURRENCY}`, value: s(ans1), unit: 's' }, ratio: ans1 / par.first, note: 'ratio = Ansible time / auditkit time (higher is better)' },
      { name: `auditkit deploy, ${HOSTS} hosts, second run (unchanged)`, value: s(par.second), unit: 's', baseline: { name: 'host by host', value: s(seq.second), unit: 's' }, ratio: seq.second / par.second, note: 'ratio = host-by-host / parallel' },
      { name: `auditkit deploy vs Ansible ${HOSTS} hosts, second run (unchanged)`, value: s(par.second), unit: 's', baseline: { name: 'ansible-playbook (no change)', value: s(ans2), unit: 's' }, ratio: ans2 / par.second, note: 'ratio = Ansible time / auditkit time' },
    ];
  } finally {
    await client.close().catch(() => undefined);
    await fleet.stop();
  }
}

export const deployBench: Benchmark = {
  name: 'deploy',
  description: `auditkit deploy to ${HOSTS} real sshd hosts: default concurrency vs host by host vs Ansible (same run)`,
  run,
};
