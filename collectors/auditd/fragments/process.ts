/**
 * Process: pid, parent pid, name, executable, argv (EXECVE records reassembled, or a
 * USER_CMD's command), title, working directory, exit code, saved ids, and the tty
 * (kit field auditkit.tty).
 */
import { decodeProctitle } from '../decode';
import type { AuditRecord } from '../record';
import { fieldValue } from '../record';
import { idOf, sub, toInt, val, type AssembledEvent, type EventDoc } from './event';

export const TRUNCATION_MARKER = (args: number, bytes: number): string => `[... ${args} arguments (${bytes} bytes) truncated by auditkit ...]`;

interface ExecveResult {
  args: string[];
  argc: number | undefined;
  truncated: boolean;
}

/** All EXECVE records of the event -> argv, reassembling aN_len / aN[i] chunks, capped. */
export function assembleExecve(recs: readonly AuditRecord[], maxBytes: number, maxArgs: number): ExecveResult | undefined {
  const execs = recs.filter((r) => r.type === 'EXECVE');
  if (execs.length === 0) return undefined;
  const merged: Record<string, string> = Object.create(null) as Record<string, string>;
  let argc: number | undefined;
  for (const r of execs) {
    const kv = r.fields.kv;
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i] as string;
      if (k === 'argc') {
        argc ??= toInt(kv[i + 1]);
        continue;
      }
      merged[k] = kv[i + 1] as string;
    }
  }
  // highest index present (argc may be larger than the args present: empty args dropped by old kernels)
  let maxIdx = -1;
  let minIdx = Infinity;
  for (const k in merged) {
    if (k.charCodeAt(0) !== 97) continue;
    let e = 1;
    while (e < k.length && k.charCodeAt(e) >= 48 && k.charCodeAt(e) <= 57) e++;
    if (e === 1) continue;
    const idx = Number(k.slice(1, e));
    if (idx > maxIdx) maxIdx = idx;
    if (idx < minIdx) minIdx = idx;
  }
  const count = Math.max(argc ?? 0, maxIdx + 1);
  const args: string[] = [];
  let bytes = 0;
  let truncated = false;
  let droppedArgs = 0;
  let droppedBytes = 0;
  if (argc === undefined && minIdx > 0 && minIdx !== Infinity) {
    // A continuation record without argc (the first records were lost or cut): say so.
    args.push(`[... ${minIdx} truncated arguments ...]`);
  }
  const start = argc === undefined && minIdx !== Infinity ? minIdx : 0;
  for (let i = start; i < count; i++) {
    let a: string | undefined;
    const whole = merged[`a${i}`];
    if (whole !== undefined) {
      a = fieldValue(`a${i}`, whole, 'EXECVE');
    } else if (merged[`a${i}_len`] !== undefined) {
      // chunks: each chunk is hex (or quoted) on its own; concatenate the bytes
      const bufs: Buffer[] = [];
      for (let j = 0; ; j++) {
        const c = merged[`a${i}[${j}]`];
        if (c === undefined) break;
        if (c.charCodeAt(0) === 34) bufs.push(Buffer.from(c.slice(1, -1), 'utf8'));
        else bufs.push(Buffer.from(c, 'hex'));
      }
      a = Buffer.concat(bufs).toString('utf8');
    } else {
      a = '';
    }
    if (truncated || args.length >= maxArgs || bytes + a.length > maxBytes) {
      truncated = true;
      droppedArgs++;
      droppedBytes += a.length;
      continue;
    }
    bytes += a.length;
    args.push(a);
  }
  if (truncated) args.push(TRUNCATION_MARKER(droppedArgs, droppedBytes));
  return { args, argc, truncated };
}

/** Join argv as a command line: arguments with spaces or quotes are single-quoted. */
export function commandLine(args: readonly string[]): string {
  let out = '';
  for (const a of args) {
    if (out.length > 0) out += ' ';
    out += a.length > 0 && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
  }
  return out;
}

function ttyName(v: string | undefined): string | undefined {
  if (v === undefined || v === '(none)' || v === '?') return undefined;
  const s = v.startsWith('/dev/') ? v.slice(5) : v;
  if (/^(pts\/?\d+|tty\w*|console|ttyS\d+)$/.test(s)) return s.startsWith('pts') && s[3] !== '/' ? `pts/${s.slice(3)}` : s;
  return undefined;
}

export function processFields(ev: AssembledEvent, b: EventDoc, maxArgsBytes: number, maxArgs: number): void {
  const { syscall, main, idRec } = ev;
  const pid = toInt(val(idRec, 'pid'));
  if (pid !== undefined) b.process().pid = pid;
  const ppid = toInt(val(syscall, 'ppid'));
  if (ppid !== undefined) sub(b.process(), 'parent').pid = ppid;
  const comm = val(idRec, 'comm');
  if (comm !== undefined) b.process().name = comm;
  const exe = val(idRec, 'exe') ?? val(main, 'exe');
  if (exe !== undefined) {
    b.process().executable = exe;
    // USER_CMD, USER_AUTH, USER_START... carry exe= but no comm=: the name is the executable's basename
    // (what ECS process.name means), so every event with a known executable has a name to query.
    if (comm === undefined) {
      const base = exe.slice(exe.lastIndexOf('/') + 1);
      if (base.length > 0) b.process().name = base;
    }
  }
  const ex = assembleExecve(ev.records, maxArgsBytes, maxArgs);
  if (ex) {
    const p = b.process();
    p.args = ex.args;
    p.args_count = ex.argc ?? ex.args.length;
    p.command_line = commandLine(ex.args);
    if (ex.truncated) sub(b.auditd(), 'execve').truncated = true;
  } else if (main.type === 'USER_CMD') {
    const cmd = val(main, 'cmd');
    if (cmd !== undefined) {
      const a = cmd.split(/\s+/).filter((s) => s.length > 0);
      const p = b.process();
      p.args = a;
      p.args_count = a.length;
      p.command_line = cmd;
    }
  }
  const title = decodeProctitle(ev.proctitle?.fields.get('proctitle'));
  if (title) b.process().title = title.join(' ');
  const cwd = val(ev.cwd, 'cwd') ?? val(main, 'cwd');
  if (cwd !== undefined) b.process().working_directory = cwd;
  if (syscall) {
    const code = toInt(val(syscall, 'exit'));
    if (code !== undefined) b.process().exit_code = code;
    const suid = idOf(syscall, 'suid');
    const sgid = idOf(syscall, 'sgid');
    if (suid !== undefined) sub(b.process(), 'saved_user').id = suid;
    if (sgid !== undefined) sub(b.process(), 'saved_group').id = sgid;
  }
  const tty = ttyName(val(idRec, 'tty') ?? val(main, 'terminal'));
  if (tty !== undefined) b.kit().tty = tty;
}
