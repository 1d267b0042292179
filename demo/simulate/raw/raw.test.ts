/**
 * Round trip: the raw files the writers make, read back through the REAL parser
 * units (auditd, hook, bash), give the same facts as the simulator's own ECS
 * documents (who, what, where, when), and every parsed event is valid ECS.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KIT_VERSION } from '../../../core';
import { assertValidDocument, getField, type HostFields } from '../../../schema';
import { PARSERS } from '../../../collectors';
import type { ParseOutput, RawRecord } from '../../../collectors';
import { simulateFleet } from '../index';
import type { SimHost } from '../timeline';
import { auditLogFor, bashHistoriesFor, enc, hookLogFor, hookedHosts, writeRawFleet } from './index';

type Doc = Record<string, unknown>;

function hostFields(h: SimHost): HostFields {
  return { name: h.name, hostname: h.name, id: h.id, ip: [h.ip], architecture: 'x86_64', os: { type: 'linux', family: h.os.family, name: h.os.name, version: h.os.version, kernel: h.os.kernel } };
}

/** Feed lines to a parser unit as the pipeline does (one record per line, then a final flush). */
function parse(kind: string, host: SimHost, file: string, lines: readonly string[]): { events: Doc[]; errors: Array<{ code: string; raw: string }> } {
  const unit = PARSERS.find((p) => p.kind === kind);
  if (!unit) throw new Error(`no parser ${kind}`);
  const parser = unit.create({ host: hostFields(host), agent: { type: 'auditkit', version: KIT_VERSION, id: 'test', name: host.name }, namespace: 'default', now: () => Date.parse('2030-01-01T00:00:00Z') });
  const out: ParseOutput[] = [];
  let offset = 0;
  lines.forEach((text, i) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const rec: RawRecord = { text, origin: { file, fileId: `1:${file}`, offset, end, line: i + 1 } };
    out.push(...parser.push(rec));
    offset = end;
  });
  out.push(...parser.flush(Date.parse('2030-01-01T00:00:00Z'), true));
  const events: Doc[] = [];
  const errors: Array<{ code: string; raw: string }> = [];
  for (const o of out) {
    if (o.kind === 'event') events.push(o.doc as unknown as Doc);
    else if (o.kind === 'error') errors.push({ code: o.code, raw: o.raw });
    else throw new Error(`unexpected ${o.kind}: ${o.reason}`);
  }
  return { events, errors };
}

const f = (d: Doc | undefined, p: string): unknown => (d ? getField(d, p) : undefined);

describe('raw formats round trip through the real parsers', () => {
  const sim = simulateFleet({ seed: 11, hosts: 6, days: 3 });
  const hooked = hookedHosts(sim.fleet);
  const parsed = new Map<string, { auditd: Doc[]; commands: Doc[]; errors: Array<{ code: string; raw: string }> }>();
  for (const h of sim.fleet.hosts) {
    const a = parse('auditd', h, '/var/log/audit/audit.log', auditLogFor(sim.fleet, sim.actions, h).lines);
    let commands: Doc[] = [];
    const errors = [...a.errors];
    if (hooked.has(h.name)) {
      const r = parse('hook', h, '/var/log/auditkit-shell.log', hookLogFor(sim.fleet, sim.actions, h));
      commands = r.events;
      errors.push(...r.errors);
    } else {
      for (const hf of bashHistoriesFor(sim.actions, h)) {
        const r = parse('bash', h, `/${hf.relPath}`, hf.content.split('\n').filter((l) => l.length > 0));
        commands.push(...r.events);
        errors.push(...r.errors);
      }
    }
    parsed.set(h.name, { auditd: a.events, commands, errors });
  }
  const simDocs = (dataset: string, host: string): Doc[] => sim.documents.filter((d) => d.dataset === dataset && f(d.doc, 'host.name') === host).map((d) => d.doc);

  it('encodes values as auditd does: quoted when plain, hex when they hold blanks, quotes or non-ASCII', () => {
    expect(enc('/usr/bin/ls')).toBe('"/usr/bin/ls"');
    expect(enc('bash -i')).toBe('62617368202D69');
    expect(enc('say "hi"')).toBe('7361792022686922');
    expect(enc('日志')).toBe('E697A5E5BF97');
  });

  it('parses every line: only the deliberately truncated hook messages fail, as SHELL_HOOK_JSON', () => {
    const errs = [...parsed.values()].flatMap((p) => p.errors);
    const deadParse = sim.actions.filter((a) => a.kind === 'deadletter' && a.stage === 'parse' && hooked.has(a.host)).length;
    expect(errs.map((e) => e.code)).toEqual(Array(deadParse).fill('SHELL_HOOK_JSON'));
  });

  it('emits only valid ECS documents with unique ids', () => {
    const ids = new Set<string>();
    for (const p of parsed.values()) {
      for (const d of [...p.auditd, ...p.commands]) {
        assertValidDocument(d);
        const id = f(d, 'event.id') as string;
        expect(ids.has(id)).toBe(false);
        ids.add(id);
      }
    }
  });

  it('gives every process start the kernel saw with the same pid, argv, cwd, account and login user', () => {
    let n = 0;
    for (const h of sim.fleet.hosts) {
      const got = new Map((parsed.get(h.name)?.auditd ?? []).filter((d) => f(d, 'event.action') === 'executed').map((d) => [`${String(f(d, '@timestamp'))}|${String(f(d, 'process.pid'))}`, d]));
      for (const want of simDocs('auditd', h.name).filter((d) => f(d, 'event.action') === 'executed')) {
        const d = got.get(`${String(f(want, '@timestamp'))}|${String(f(want, 'process.pid'))}`);
        expect(d).toBeDefined();
        for (const p of ['process.args', 'process.args_count', 'process.parent.pid', 'process.working_directory', 'user.name', 'user.id', 'process.entry_leader.user.name', 'auditkit.tty', 'host.name']) {
          expect([p, f(d, p)]).toEqual([p, f(want, p)]);
        }
        expect(f(d, 'tags')).toEqual(['exec']);
        n++;
      }
    }
    expect(n).toBeGreaterThan(500);
  });

  it('gives every login, failed login, logout, sudo and account change with its outcome, address and accounts', () => {
    const actions = ['logged-in', 'logged-out', 'ran-command', 'added-user-account', 'modified-user-account', 'changed-password', 'added-group-account-to'];
    const seen = new Set<string>();
    for (const h of sim.fleet.hosts) {
      const got = (parsed.get(h.name)?.auditd ?? []).filter((d) => f(d, 'event.action') !== 'executed');
      for (const want of simDocs('auditd', h.name).filter((d) => actions.includes(f(d, 'event.action') as string))) {
        // `sudo -l` leaves PAM accounting only: sudo writes no USER_CMD for a listing.
        if (f(want, 'event.action') === 'ran-command' && f(want, 'process.command_line') === 'sudo') continue;
        const ts = Date.parse(f(want, '@timestamp') as string);
        const action = f(want, 'event.action') as string;
        // A mistyped password retried in the same connection is PAM's USER_AUTH only (no sshd USER_LOGIN).
        const okAction = (g: Doc): boolean => f(g, 'event.action') === action || (action === 'logged-in' && f(want, 'event.outcome') === 'failure' && f(g, 'event.action') === 'authenticated');
        const d = got.find((g) => okAction(g) && Math.abs(Date.parse(f(g, '@timestamp') as string) - ts) <= 2 && f(g, 'event.outcome') === f(want, 'event.outcome'));
        expect([action, f(want, '@timestamp'), d !== undefined]).toEqual([action, f(want, '@timestamp'), true]);
        if (action === 'logged-in' || action === 'logged-out') expect(f(d, 'source.ip')).toBe(f(want, 'source.ip'));
        if (action === 'logged-in' && f(want, 'event.outcome') === 'success') {
          expect(f(d, 'user.name')).toBe(f(want, 'user.name'));
          expect(f(d, 'auditkit.tty')).toBe(f(want, 'auditkit.tty'));
        }
        if (action === 'ran-command') {
          expect(f(d, 'user.name')).toBe(f(want, 'user.name'));
          expect(String(f(d, 'process.command_line'))).toContain(String(f(want, 'process.command_line')).split(' ').slice(1).join(' '));
        }
        if (action === 'added-user-account') expect(f(d, 'user.target.id')).toBe(f(want, 'user.target.id'));
        if (action === 'changed-password' || action === 'modified-user-account') expect(f(d, 'user.target.name')).toBe(f(want, 'user.target.name'));
        if (action !== 'logged-in' || f(want, 'event.outcome') === 'success') expect(f(d, 'process.entry_leader.user.name') ?? f(d, 'user.name')).toBeDefined();
        seen.add(action);
      }
    }
    expect([...seen].sort()).toEqual([...actions].sort());
  });

  it('gives every command typed at a hooked prompt with its text, account, login user, cwd, exit code, client and time', () => {
    let n = 0;
    for (const h of sim.fleet.hosts.filter((x) => hooked.has(x.name))) {
      const got = parsed.get(h.name)?.commands ?? [];
      const want = simDocs('commands', h.name);
      expect(got).toHaveLength(want.length);
      const byKey = new Map(got.map((d) => [`${String(f(d, '@timestamp'))}|${String(f(d, 'auditkit.history.number'))}|${String(f(d, 'process.pid'))}`, d]));
      for (const w of want) {
        const d = byKey.get(`${String(f(w, '@timestamp'))}|${String(f(w, 'auditkit.history.number'))}|${String(f(w, 'process.entry_leader.pid'))}`);
        expect(d).toBeDefined();
        for (const p of ['process.command_line', 'process.working_directory', 'process.exit_code', 'user.name', 'user.id', 'process.entry_leader.user.name', 'source.ip', 'source.port', 'auditkit.tty', 'host.name', 'event.outcome']) {
          expect([p, f(d, p)]).toEqual([p, f(w, p)]);
        }
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
  });

  it('gives the commands of hosts without the hook from bash history, with the second of each entry and the account from the path', () => {
    const legacy = sim.fleet.hosts.filter((x) => !hooked.has(x.name));
    expect(legacy.length).toBeGreaterThan(0);
    let n = 0;
    for (const h of legacy) {
      const got = parsed.get(h.name)?.commands ?? [];
      const want = simDocs('commands', h.name);
      const key = (ts: string, user: unknown, cmd: unknown): string => `${Math.floor(Date.parse(ts) / 1000)}|${String(user)}|${String(cmd)}`;
      const have = new Set(got.map((d) => key(f(d, '@timestamp') as string, f(d, 'user.name'), f(d, 'process.command_line'))));
      for (const w of want) expect(have.has(key(f(w, '@timestamp') as string, f(w, 'user.name'), f(w, 'process.command_line')))).toBe(true);
      expect(got).toHaveLength(want.length);
      n += got.length;
    }
    expect(n).toBeGreaterThan(10);
  });

  it('writes a tree per host and leaves unchanged files untouched on a second write', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-raw-'));
    try {
      const small = simulateFleet({ seed: 3, hosts: 5, days: 1 });
      const first = writeRawFleet(small, dir);
      expect(first.flatMap((h) => h.files).every((x) => x.written)).toBe(true);
      const inodes = first.flatMap((h) => h.files).map((x) => fs.statSync(x.path).ino);
      const second = writeRawFleet(small, dir);
      expect(second.flatMap((h) => h.files).some((x) => x.written)).toBe(false);
      expect(second.flatMap((h) => h.files).map((x) => fs.statSync(x.path).ino)).toEqual(inodes);
      expect(fs.existsSync(path.join(dir, 'hosts', small.fleet.hosts[0]?.name ?? '', 'var/log/audit/audit.log'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
