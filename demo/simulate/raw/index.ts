/**
 * Raw-format writers: the simulator's timeline as the files a real host holds
 * (audit.log, the shell hook's syslog file, bash history files), so the demo can
 * push them through the real collector pipeline and parsers instead of writing
 * ECS documents to Elasticsearch directly.
 *
 * Layout under the output directory, one tree per host (like the host's root):
 *   hosts/<host>/var/log/audit/audit.log
 *   hosts/<host>/var/log/auditkit-shell.log      (hosts with the shell hook)
 *   hosts/<host>/home/<user>/.bash_history       (hosts without it)
 *
 * A file is rewritten only when its content changes, so re-running keeps each
 * file's identity (inode): the ids of file-positioned records (bash history,
 * parse dead letters) stay the same and a re-ingest adds nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { SimHost, SimTimeline } from '../timeline';
import { auditLogFor } from './auditd';
import { hookedHosts } from './common';
import { bashHistoriesFor, hookLogFor } from './shell';

export { auditLogFor, enc, hex, needsHex, type AuditLog } from './auditd';
export { hookLogFor, hookRecord, hookShellId, bashHistoriesFor, commandDuration, type HistoryFile } from './shell';
export { hookedHosts, fleetAccounts, sessionStarts, stableInt, type Accounts } from './common';

export type RawFormat = 'auditd' | 'hook' | 'bash';

export interface RawFile {
  readonly path: string;
  readonly format: RawFormat;
  /** Lines (audit.log, hook) or history entries (bash). */
  readonly records: number;
  readonly bytes: number;
  /** False when the file already had this content (left untouched). */
  readonly written: boolean;
}

export interface RawHost {
  readonly host: SimHost;
  readonly hooked: boolean;
  readonly files: readonly RawFile[];
  /** auditd events (serials) in audit.log. */
  readonly auditEvents: number;
}

/** Write `content` unless the file already holds exactly it. */
function writeIfChanged(file: string, content: string): boolean {
  const want = createHash('sha256').update(content).digest('hex');
  try {
    if (createHash('sha256').update(fs.readFileSync(file)).digest('hex') === want) return false;
  } catch {
    /* missing: write it */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
  return true;
}

/** Write every host's raw files under `dir`; returns what was written where. */
export function writeRawFleet(tl: SimTimeline, dir: string, onHost?: (h: RawHost, index: number) => void): RawHost[] {
  const hooked = hookedHosts(tl.fleet);
  const out: RawHost[] = [];
  for (const [i, host] of tl.fleet.hosts.entries()) {
    const root = path.join(dir, 'hosts', host.name);
    const files: RawFile[] = [];
    const audit = auditLogFor(tl.fleet, tl.actions, host);
    const auditText = audit.lines.length > 0 ? audit.lines.join('\n') + '\n' : '';
    const auditPath = path.join(root, 'var/log/audit/audit.log');
    files.push({ path: auditPath, format: 'auditd', records: audit.lines.length, bytes: Buffer.byteLength(auditText), written: writeIfChanged(auditPath, auditText) });
    const isHooked = hooked.has(host.name);
    if (isHooked) {
      const lines = hookLogFor(tl.fleet, tl.actions, host);
      const text = lines.length > 0 ? lines.join('\n') + '\n' : '';
      const p = path.join(root, 'var/log/auditkit-shell.log');
      files.push({ path: p, format: 'hook', records: lines.length, bytes: Buffer.byteLength(text), written: writeIfChanged(p, text) });
    } else {
      for (const h of bashHistoriesFor(tl.actions, host)) {
        const p = path.join(root, h.relPath);
        files.push({ path: p, format: 'bash', records: h.entries, bytes: Buffer.byteLength(h.content), written: writeIfChanged(p, h.content) });
      }
    }
    const rh: RawHost = { host, hooked: isHooked, files, auditEvents: audit.events };
    out.push(rh);
    onHost?.(rh, i);
  }
  return out;
}
