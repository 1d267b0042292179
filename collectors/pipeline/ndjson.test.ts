import { assertValidDocument } from '../../schema';
import type { RawRecord } from '../types';
import { createNdjsonParser, ndjsonParser } from './ndjson';

const ctx = { host: { name: 'web01', id: 'h1' }, agent: { type: 'auditkit' }, namespace: 'default', now: () => 0 };
const rec = (text: string, offset = 0): RawRecord => ({ text, origin: { file: '/x.ndjson', fileId: '1:2:ab', offset, end: offset + text.length + 1 } });

describe('the ndjson parser unit', () => {
  it('keeps an event.id, fills the envelope from the collector, and emits valid ECS', () => {
    const p = createNdjsonParser(ctx);
    const [out] = p.push(rec('{"@timestamp":"2026-11-22T10:00:00Z","event":{"kind":"event","id":"abc","dataset":"auditkit.auditd"},"message":"m"}'));
    expect(out?.kind).toBe('event');
    if (out?.kind !== 'event') return;
    expect(out.dataset).toBe('auditd');
    expect(out.doc.event.id).toBe('abc');
    expect(out.doc.host.name).toBe('web01');
    assertValidDocument(out.doc);
  });

  it('derives a deterministic id from file identity and offset when the line has none', () => {
    const p = createNdjsonParser(ctx);
    const a = p.push(rec('{"@timestamp":"2026-11-22T10:00:00Z","event":{}}', 100))[0];
    const b = p.push(rec('{"@timestamp":"2026-11-22T10:00:00Z","event":{}}', 100))[0];
    const c = p.push(rec('{"@timestamp":"2026-11-22T10:00:00Z","event":{}}', 200))[0];
    expect(a?.kind === 'event' && b?.kind === 'event' && a.doc.event.id === b.doc.event.id).toBe(true);
    expect(a?.kind === 'event' && c?.kind === 'event' && a.doc.event.id !== c.doc.event.id).toBe(true);
  });

  it('turns junk, bad JSON and non-ECS documents into coded errors instead of throwing', () => {
    const p = createNdjsonParser(ctx);
    expect(p.push(rec('\u0000\u0001junk'))[0]).toMatchObject({ kind: 'error', code: 'AK_NDJSON_NOT_OBJECT' });
    expect(p.push(rec('{"@timestamp":'))[0]).toMatchObject({ kind: 'error', code: 'AK_NDJSON_SYNTAX' });
    expect(p.push(rec('{"@timestamp":"2026-11-22T10:00:00Z","event":{},"nonsense":1}'))[0]).toMatchObject({ kind: 'error', code: 'AK_NDJSON_INVALID', message: expect.stringContaining('nonsense: not an ECS field') });
    expect(p.push(rec(''))).toEqual([]);
  });

  it('sniffs ECS JSON lines and nothing else', () => {
    expect(ndjsonParser.sniff(['{"@timestamp":"2026-11-22T10:00:00Z","event":{"kind":"event"}}', 'junk'])).toBe(true);
    expect(ndjsonParser.sniff(['type=SYSCALL msg=audit(1.2:3): x=1'])).toBe(false);
    expect(ndjsonParser.sniff(['{"a":1}'])).toBe(false);
  });
});
