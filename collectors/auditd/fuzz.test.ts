/**
 * Robustness: junk, truncation, 1 MB lines, invalid UTF-8 and random reordering.
 * Nothing may throw; every refused line is a counted error; every event is valid ECS.
 * Seeded PRNG so a failure reproduces.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { validateDocument } from '../../schema';
import type { ParseOutput } from '../types';
import { AuditAssembler } from './assembler';
import { NO_RESOLVER } from './users';
import { createRng } from '../../core';

const CTX = { host: { name: 'fuzz' }, agent: { type: 'auditkit' }, namespace: 'fuzz', now: () => 0 };


function runAll(lines: readonly string[], maxLineBytes?: number): { outs: ParseOutput[]; invalid: number } {
  const a = new AuditAssembler(CTX, { resolver: NO_RESOLVER, ...(maxLineBytes !== undefined ? { maxLineBytes } : {}) });
  const outs: ParseOutput[] = [];
  let off = 0;
  for (const text of lines) {
    outs.push(...a.push({ text, origin: { file: 'fuzz', fileId: 'f', offset: off, end: off + text.length + 1 } }));
    off += text.length + 1;
  }
  outs.push(...a.flush(0, true));
  let invalid = 0;
  for (const o of outs) if (o.kind === 'event' && !validateDocument(o.doc).valid) invalid++;
  return { outs, invalid };
}

const CORPUS = path.resolve(__dirname, '../../../shared/corpora/auditd/dev');
function seedLines(): string[] {
  const own = [
    'type=SYSCALL msg=audit(1700000000.100:1): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=1000 uid=1000 gid=1000 euid=1000 ses=7 comm="ls" exe="/usr/bin/ls" key="k"',
    'type=EXECVE msg=audit(1700000000.100:1): argc=2 a0="ls" a1_len=4 a1[0]=2D6C61',
    'type=SOCKADDR msg=audit(1700000000.100:1): saddr=0A00',
    "type=USER_LOGIN msg=audit(1700000000.200:2): pid=5 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" addr=203.0.113.9 res=success'",
    'type=PROCTITLE msg=audit(1700000000.100:1): proctitle=6C73',
    'type=EOE msg=audit(1700000000.100:1):',
  ];
  if (!existsSync(CORPUS)) return own;
  const out = [...own];
  for (const d of ['laurel', 'go-libaudit/auparse', 'audit-userspace']) {
    for (const n of readdirSync(path.join(CORPUS, d))) {
      if (/\.(log|txt)$/.test(n)) out.push(...readFileSync(path.join(CORPUS, d, n), 'utf8').split('\n').filter((l) => l.length > 0));
    }
  }
  return out;
}

describe('auditd parser under hostile input', () => {
  const base = seedLines();

  it('survives random binary junk and counts it as errors', () => {
    const r = createRng(1).next; // seeded: a failure can be replayed
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(r() * 300);
      let s = '';
      for (let j = 0; j < n; j++) s += String.fromCharCode(Math.floor(r() * 256));
      lines.push(r() < 0.3 ? `type=${s}` : r() < 0.5 ? `type=X msg=audit(${s}` : s);
    }
    const { outs, invalid } = runAll(lines);
    expect(invalid).toBe(0);
    expect(outs.filter((o) => o.kind === 'error').length).toBeGreaterThan(1000);
  });

  it('survives every prefix truncation and random byte flips of real records', () => {
    const r = createRng(2).next; // seeded: a failure can be replayed
    const lines: string[] = [];
    for (const l of base.slice(0, 400)) {
      lines.push(l.slice(0, Math.floor(r() * l.length)));
      const b = Buffer.from(l);
      for (let k = 0; k < 3; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      lines.push(b.toString('latin1'));
    }
    const { invalid } = runAll(lines);
    expect(invalid).toBe(0);
  });

  it('refuses a 1 MB line with a counted error, and parses one under a raised cap without throwing', () => {
    const huge = `type=EXECVE msg=audit(1700000000.100:9): argc=1 a0=${'41'.repeat(512 * 1024)}`;
    const refused = runAll([huge]);
    expect(refused.outs.map((o) => (o.kind === 'error' ? o.code : o.kind))).toEqual(['AUDITD_LINE_TOO_LONG']);
    const accepted = runAll([huge], 2 * 1024 * 1024);
    expect(accepted.invalid).toBe(0);
    expect(accepted.outs.filter((o) => o.kind === 'event')).toHaveLength(1);
  });

  it('keeps invalid UTF-8 in hex values visible instead of failing', () => {
    const { outs, invalid } = runAll([
      'type=SYSCALL msg=audit(1700000000.100:1): arch=c000003e syscall=59 success=yes exit=0 pid=2 uid=0 comm=FFFE exe=2F746D702FC328',
      'type=EXECVE msg=audit(1700000000.100:1): argc=1 a0=C328FF',
      'type=EOE msg=audit(1700000000.100:1):',
    ]);
    expect(invalid).toBe(0);
    const ev = outs.find((o) => o.kind === 'event');
    expect(ev?.kind === 'event' && (ev.doc.process as Record<string, unknown>).executable).toBe('/tmp/\uFFFD(');
  });

  it('gives the same events whatever order the records of a window arrive in', () => {
    const r = createRng(3).next; // seeded: a failure can be replayed
    const ordered = base.filter((l) => l.includes('msg=audit('));
    const ref = runAll(ordered).outs.filter((o) => o.kind === 'event').length;
    for (let round = 0; round < 5; round++) {
      // shuffle within windows of 8 lines: real reordering is local
      const shuffled = [...ordered];
      for (let i = 0; i < shuffled.length; i += 8) {
        const w = shuffled.slice(i, i + 8);
        for (let j = w.length - 1; j > 0; j--) {
          const k = Math.floor(r() * (j + 1));
          [w[j], w[k]] = [w[k] as string, w[j] as string];
        }
        shuffled.splice(i, w.length, ...w);
      }
      const { outs, invalid } = runAll(shuffled);
      expect(invalid).toBe(0);
      const events = outs.filter((o) => o.kind === 'event').length;
      const late = outs.filter((o) => o.kind === 'error' && o.code === 'AUDITD_LATE_RECORD').length;
      // an event may split when its PROCTITLE+SYSCALL came before its other records: then those are late and counted
      expect(events).toBeGreaterThanOrEqual(ref * 0.9);
      expect(events).toBeLessThanOrEqual(ref + late);
    }
  });
});
