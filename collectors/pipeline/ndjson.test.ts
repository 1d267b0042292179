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

  it('hands a complete line on as the JSON of the document it validated, data_stream added, so it is not serialised again', () => {
    const p = createNdjsonParser(ctx);
    // Spaces, a key order of its own and a long past 2^53, which the line keeps digit for digit.
    const line = '{ "event": {"id":"e1","kind":"event","dataset":"auditkit.commands"}, "@timestamp":"2026-11-22T10:00:00Z", "ecs":{"version":"8.11.0"}, "host":{"name":"h"}, "agent":{"type":"auditkit"}, "process":{"pid":9007199254740993} }  ';
    const [out] = p.push(rec(line));
    if (out?.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(out)}`);
    expect(out.json).toBe(`${line.trimEnd().slice(0, -1)},"data_stream":{"type":"logs","dataset":"auditkit.commands","namespace":"default"}}`);
    expect(JSON.parse(out.json as string)).toEqual(JSON.parse(JSON.stringify(out.doc)));
    assertValidDocument(JSON.parse(out.json as string));
    expect(out.json).toContain('9007199254740993');

    // Already routed to this stream: the line as it is.
    const routed = '{"@timestamp":"2026-11-22T10:00:00Z","ecs":{"version":"8.11.0"},"event":{"id":"e2","kind":"event","dataset":"auditkit.commands"},"host":{"name":"h"},"agent":{"type":"auditkit"},"data_stream":{"namespace":"default","type":"logs","dataset":"auditkit.commands"}}';
    expect(p.push(rec(routed))[0]).toMatchObject({ kind: 'event', json: routed });
  });

  it('serialises the document itself when completing the line changed it (no json)', () => {
    const p = createNdjsonParser(ctx);
    const base = { '@timestamp': '2026-11-22T10:00:00Z', ecs: { version: '8.11.0' }, event: { id: 'e1', kind: 'event', dataset: 'auditkit.commands' }, host: { name: 'h' }, agent: { type: 'auditkit' } };
    const variants: Array<Record<string, unknown>> = [
      { ...base, host: undefined }, // filled from the collector
      { ...base, agent: null },
      { ...base, ecs: undefined },
      { ...base, event: { kind: 'event', dataset: 'auditkit.commands' } }, // id made from the file and offset
      { ...base, event: { id: 'e1', dataset: 'auditkit.commands' } }, // kind filled
      { ...base, event: { id: 'e1', kind: 'event', dataset: 'other' } }, // dataset set
      { ...base, data_stream: { type: 'logs', dataset: 'auditkit.auditd', namespace: 'default' } }, // another stream, replaced
    ];
    for (const v of variants) {
      const [out] = p.push(rec(JSON.stringify(v)));
      expect(out).toMatchObject({ kind: 'event' });
      expect(out).not.toHaveProperty('json');
    }
  });

  it('sniffs ECS JSON lines and nothing else', () => {
    expect(ndjsonParser.sniff(['{"@timestamp":"2026-11-22T10:00:00Z","event":{"kind":"event"}}', 'junk'])).toBe(true);
    expect(ndjsonParser.sniff(['type=SYSCALL msg=audit(1.2:3): x=1'])).toBe(false);
    expect(ndjsonParser.sniff(['{"a":1}'])).toBe(false);
  });
});
