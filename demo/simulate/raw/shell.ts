/**
 * The typed commands of the timeline as the shell sources write them:
 *
 * - hooked hosts: the shell hook's records (collectors/assets/shell/auditkit.sh,
 *   one JSON object per command, field order as the hook writes them) as rsyslog
 *   files them when they arrive through the hook's syslog fallback
 *   (`logger -t auditkit-shell -p authpriv.info`) and an rsyslog rule sends the tag
 *   to its own file: `<RFC 3339 time> <host> auditkit-shell: {json}`;
 * - other hosts: `~/.bash_history` with HISTTIMEFORMAT set (a `#<epoch>` line
 *   before each entry), appended at logout (histappend), so sessions appear in
 *   logout order. `unset HISTFILE` or `history -c` in a session means bash saves
 *   nothing of it; `rm ~/.bash_history` empties the file; a link to /dev/null
 *   makes every later save vanish, as in real life.
 *
 * Dead letters of the simulator's parse stage become what they were: truncated
 * syslog messages in the hook's file.
 */
import type { ExecAction, SimAction, SimFleet, SimHost, SimSession } from '../timeline';
import { sessionStarts, sshdPid, stableInt } from './common';

const BASH_VERSION = '5.2.15(1)-release';

function rfc3339(t: number): string {
  return new Date(t).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/** The hook's per-shell id: `<shell start µs hex>-<pid hex>-<random>`. */
export function hookShellId(s: SimSession, loginAt: number): string {
  return `${(loginAt * 1000 + stableInt(1000, 999_999, s.id, 'us')).toString(16)}-${s.leaderPid.toString(16)}-${s.shellId.slice(0, 8)}`;
}

/** How long the command ran (the hook's `t` - `start`). */
export function commandDuration(a: ExecAction): number {
  return stableInt(3, 2500, a.host, a.seq, 'dur');
}

/** One hook record, in the field order of auditkit.sh. */
export function hookRecord(a: ExecAction, host: SimHost, loginAt: number): Record<string, unknown> {
  const s = a.session as SimSession;
  const login = a.loginUser ?? { name: s.user, uid: s.uid };
  const sshPid = sshdPid(s);
  return {
    v: 1,
    shell: 'bash',
    host: host.name,
    sid: hookShellId(s, loginAt),
    user: a.runAs.name,
    lname: login.name,
    logname: login.name,
    tty: s.tty,
    ssh: `${s.sourceIp} ${s.sourcePort} ${host.ip} 22`,
    bash: BASH_VERSION,
    uid: a.runAs.uid,
    euid: a.runAs.uid,
    pid: s.leaderPid,
    ppid: sshPid,
    luid: login.uid,
    ses: s.auditSession,
    seq: a.historyNumber ?? 0,
    t: a.t + commandDuration(a),
    start: a.t,
    rc: a.exitCode,
    hist: a.historyNumber ?? 0,
    cwd: a.cwd,
    cmd: a.commandLine,
  };
}

/** The hook's syslog file of one host (empty when the host has no hook). */
export function hookLogFor(fleet: SimFleet, actions: readonly SimAction[], host: SimHost): string[] {
  const starts = sessionStarts(actions);
  const out: Array<{ t: number; line: string }> = [];
  for (const a of actions) {
    if (a.host !== host.name) continue;
    if (a.kind === 'exec' && a.hooked && a.session) {
      const rec = hookRecord(a, host, starts.get(a.session.id) ?? a.t);
      out.push({ t: rec['t'] as number, line: `${rfc3339(rec['t'] as number)} ${host.name} auditkit-shell: ${JSON.stringify(rec)}` });
    } else if (a.kind === 'deadletter' && a.stage === 'parse') {
      // A message cut by the syslog size limit: the collector dead-letters it.
      const cut = `{"v":1,"shell":"bash","host":"${host.name}","sid":"${a.seq.toString(16)}","user":"deploy","cmd":"./job.sh --payload`;
      out.push({ t: a.t, line: `${rfc3339(a.t)} ${host.name} auditkit-shell: ${cut}` });
    }
  }
  // syslog writes in arrival order (the hook sends at the end of the command).
  out.sort((x, y) => x.t - y.t);
  void fleet;
  return out.map((x) => x.line);
}

export interface HistoryFile {
  /** Path relative to the host's root, e.g. home/alice/.bash_history. */
  readonly relPath: string;
  readonly user: string;
  readonly content: string;
  readonly entries: number;
}

/** The bash history files of one host (hosts without the hook). */
export function bashHistoriesFor(actions: readonly SimAction[], host: SimHost): HistoryFile[] {
  const bySession = new Map<string, { s: SimSession; lines: ExecAction[]; end: number }>();
  for (const a of actions) {
    if (a.host !== host.name) continue;
    if (a.kind === 'exec' && a.hooked && a.session) {
      const cur = bySession.get(a.session.id) ?? { s: a.session, lines: [], end: a.t };
      cur.lines.push(a);
      bySession.set(a.session.id, cur);
    } else if (a.kind === 'logout') {
      const cur = bySession.get(a.session.id);
      if (cur) cur.end = a.t;
    }
  }
  const files = new Map<string, { user: string; entries: string[]; dead: boolean }>();
  for (const { s, lines } of [...bySession.values()].sort((x, y) => x.end - y.end)) {
    const rel = s.user === 'root' ? 'root/.bash_history' : `home/${s.user}/.bash_history`;
    const f = files.get(rel) ?? { user: s.user, entries: [], dead: false };
    files.set(rel, f);
    let save = true;
    const session: string[] = [];
    for (const a of lines) {
      const cmd = a.commandLine.trim();
      if (/^unset\s+HISTFILE\b/.test(cmd)) save = false;
      if (/^history\s+-c\b/.test(cmd)) session.length = 0;
      if (/^rm\s.*\.bash_history\b/.test(cmd)) f.entries.length = 0;
      if (/^ln\s.*\/dev\/null\s+\S*\.bash_history\b/.test(cmd)) f.dead = true;
      session.push(`#${Math.floor(a.t / 1000)}\n${a.commandLine}`);
    }
    if (save && !f.dead) f.entries.push(...session);
  }
  return [...files.entries()].map(([relPath, f]) => ({ relPath, user: f.user, content: f.entries.map((e) => e + '\n').join(''), entries: f.entries.length }));
}
