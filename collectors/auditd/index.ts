/**
 * auditd parser units: raw audit.log text ('auditd') and Auditbeat JSON
 * ('auditbeat'), both routed to the auditd dataset (logs-auditkit.auditd-<ns>).
 */
import type { ParserUnit } from '../types';
import { AuditAssembler, DEFAULT_ASSEMBLER_OPTIONS, type AssemblerOptions } from './assembler';
import { AuditbeatParser, isAuditbeatEvent } from './auditbeat';

export { AuditAssembler, DEFAULT_ASSEMBLER_OPTIONS, type AssemblerOptions } from './assembler';
export { convertAuditbeat, AuditbeatParser } from './auditbeat';
export { linkedSessionId, hasLinkedSession } from './session';
export { parseRecord, fieldValue, type AuditRecord } from './record';
export { normalizeEvent } from './normalize';
export { fileResolver, NO_RESOLVER, type IdResolver } from './users';

const AUDIT_LINE = /^(node=\S+ )?type=[A-Z_0-9[\]]+ msg=audit\(\d+(\.\d+)?:\d+\)/;

export function auditdUnit(opts: Partial<AssemblerOptions> = {}): ParserUnit {
  return {
    kind: 'auditd',
    description: 'Linux audit log (/var/log/audit/audit.log), RAW or ENRICHED, records assembled into events',
    dataset: 'auditd',
    sniff(sample) {
      const lines = sample.filter((l) => l.trim().length > 0).slice(0, 20);
      return lines.length > 0 && lines.filter((l) => AUDIT_LINE.test(l)).length * 2 >= lines.length;
    },
    create(ctx) {
      return new AuditAssembler(ctx, { ...DEFAULT_ASSEMBLER_OPTIONS, ...opts });
    },
  };
}

export const auditdParser: ParserUnit = auditdUnit();

export const auditbeatParser: ParserUnit = {
  kind: 'auditbeat',
  description: 'Auditbeat JSON events (auditd and system modules), one per line',
  dataset: 'auditd',
  sniff(sample) {
    const first = sample.find((l) => l.trim().length > 0);
    if (first === undefined || !first.trimStart().startsWith('{')) return false;
    try {
      return isAuditbeatEvent(JSON.parse(first));
    } catch {
      return false;
    }
  },
  create(ctx) {
    return new AuditbeatParser(ctx);
  },
};
