/**
 * Deploy wall time to 20 real sshd hosts on loopback (test/deploy/sshd.ts), each into its
 * own --root: auditkit at the default concurrency, auditkit host by host (concurrency 1),
 * and Ansible (ansible-core from PyPI, in a venv in the cache dir) doing the equivalent
 * steps (directories, the same files with the same modes, the per-host config, start the
 * collector in the background and check it is alive). Each also does a second, no-change
 * run. The collector ships to a closed port (no Elasticsearch needed): the heartbeat wait is
 * off for all three, so the figures compare the installing itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fsp, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { buildPackage, hostConfigFiles, INSTALL, runDeploy, type DeployOptions, type HostResult } from '../deploy';
import { inventoryConfigSchema, KnownHosts, resolveHosts } from '../fleet';
import { cacheDir, freePort } from '../core';
import { sshdUnavailable, startSshdFleet } from '../test/deploy/sshd';
import type { Benchmark, BenchResult } from './types';

/** Hosts (AK_BENCH_DEPLOY_HOSTS, default 20) and the bound on each Ansible run (AK_BENCH_ANSIBLE_TIMEOUT_S, default 900). */
const HOSTS = Math.max(1, Number(process.env['AK_BENCH_DEPLOY_HOSTS'] ?? 20));
const ANSIBLE_TIMEOUT_MS = Math.max(10, Number(process.env['AK_BENCH_ANSIBLE_TIMEOUT_S'] ?? 900)) * 1000;
const DEFAULT_CONCURRENCY = 10;

function say(line: string): void {
  process.stdout.write(`  [deploy bench ${new Date().toISOString().slice(11, 19)}] ${line} (load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})\n`);
}

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
      say(`auditkit concurrency ${concurrency}, ${HOSTS} hosts: first install ${(first / 1000).toFixed(1)} s, second run (unchanged) ${(second / 1000).toFixed(1)} s`);
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
      // Ansible's own fastest settings: fewer SSH round trips per task.
      ANSIBLE_PIPELINING: 'True',
    };
    // Hosts whose last file (the host config) is in place: progress when a run is cut off.
    const hostsDone = (): number => hosts.filter((h) => existsSync(path.join(rootBase, h.name, INSTALL.config))).length;
    /** ms, or undefined when cut off at ANSIBLE_TIMEOUT_MS (then the time is a lower bound). */
    const play = async (): Promise<number | undefined> => {
      const t0 = Date.now();
      const child = spawn(ansible, ['-i', path.join(playbook, 'hosts.ini'), path.join(playbook, 'deploy.yml')], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
      child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL'); // ansible-playbook, its forks and their ssh
        } catch {
          /* gone */
        }
      }, ANSIBLE_TIMEOUT_MS);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearTimeout(timer);
      if (timedOut) return undefined;
      if (code !== 0) throw new Error(`ansible-playbook failed (exit ${code}): ${out.split('\n').filter((l) => /fatal|FAILED|ERROR/.test(l)).slice(0, 3).join(' | ')}`);
      return Date.now() - t0;
    };
    const ans1 = await play();
    if (ans1 === undefined) say(`ansible first install: cut off after ${ANSIBLE_TIMEOUT_MS / 1000} s with ${hostsDone()} of ${HOSTS} hosts' files in place: time is a LOWER BOUND`);
    else say(`ansible forks=${DEFAULT_CONCURRENCY}, ${HOSTS} hosts: first install ${(ans1 / 1000).toFixed(1)} s`);
    const ans2 = ans1 === undefined ? undefined : await play();
    if (ans1 !== undefined) say(ans2 === undefined ? `ansible second run: cut off after ${ANSIBLE_TIMEOUT_MS / 1000} s (lower bound)` : `ansible second run (no change): ${(ans2 / 1000).toFixed(1)} s`);
    await killCollectors(rootBase);

    const s = (ms: number): number => ms / 1000;
    const a1 = ans1 ?? ANSIBLE_TIMEOUT_MS;
    const lb = (x: number | undefined): string => (x === undefined ? `; Ansible was cut off at ${ANSIBLE_TIMEOUT_MS / 1000} s, so its time and the ratio are LOWER BOUNDS` : '');
    const out: BenchResult[] = [
      { name: `auditkit deploy, ${HOSTS} hosts, concurrency ${DEFAULT_CONCURRENCY} (first install)`, value: s(par.first), unit: 's', baseline: { name: 'host by host (concurrency 1)', value: s(seq.first), unit: 's' }, ratio: seq.first / par.first, note: 'ratio = host-by-host time / parallel time (higher is better)' },
      { name: `auditkit deploy vs Ansible, ${HOSTS} hosts (first install)`, value: s(par.first), unit: 's', baseline: { name: `ansible-playbook forks=${DEFAULT_CONCURRENCY}, pipelining${ans1 === undefined ? ' (>=, cut off)' : ''}`, value: s(a1), unit: 's' }, ratio: a1 / par.first, note: `ratio = Ansible time / auditkit time (higher is better)${lb(ans1)}` },
      { name: `auditkit deploy, ${HOSTS} hosts, second run (unchanged)`, value: s(par.second), unit: 's', baseline: { name: 'host by host', value: s(seq.second), unit: 's' }, ratio: seq.second / par.second, note: 'ratio = host-by-host / parallel' },
    ];
    if (ans2 !== undefined) out.push({ name: `auditkit deploy vs Ansible, ${HOSTS} hosts, second run (unchanged)`, value: s(par.second), unit: 's', baseline: { name: 'ansible-playbook (no change)', value: s(ans2), unit: 's' }, ratio: ans2 / par.second, note: 'ratio = Ansible time / auditkit time' });
    return out;
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
