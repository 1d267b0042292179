/**
 * Property-based tests (issue 14): every shell parser and the hook receiver's
 * framing over arbitrary bytes, deep nesting, prototype keys and control
 * characters: never a throw, never a pollution of Object.prototype, every
 * record accounted for (an event, an error, or nothing for a blank line).
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { jsonDepthExceeds } from '../../core';
import { parserByKind } from '../parsers';
import type { RawRecord } from '../types';
import { startHookReceiver, withPeerUid } from './receiver';
import { testContext } from './test-util';

const protoKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');
const nasty = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ',', ':', '\u0000', '\u001b', '\n', '\r', 'a', '1') }),
  fc.json({ depthSize: 'large' }),
  fc.tuple(fc.nat({ max: 3000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) => '{"v":1,"x":' + open.repeat(n) + '1' + (open === '[' ? ']' : '}').repeat(n) + '}'),
  fc.dictionary(fc.oneof(protoKeys, fc.string()), fc.oneof(fc.string(), fc.integer(), fc.dictionary(protoKeys, fc.string()))).map((o) => JSON.stringify({ v: 1, sid: 's', seq: 1, t: 1795345099140, ...o }).replace('"a"', '"__proto__"')),
  fc.string().map((s) => `Nov 22 10:00:00 web01 auditkit-shell[1]: {"v":1,"sid":"s","seq":1,"t":1795345099140,"cmd":${JSON.stringify(s)},"__proto__":{"polluted":"yes"}}`),
  fc.string().map((s) => `history_command=${encodeURIComponent(s)}&__proto__=x&_peer=1.2.3.4&history_datetime=${s}`),
  fc.string().map((s) => `[2018-12-11 10:00:01] [(root) ${s} pts/0 10.0.0.5] [web01@10.0.0.21] ${s}`),
  fc.string().map((s) => `#1700000000\n${s}`),
  fc.string().map((s) => `: 1700000000:0;${s}\\`),
);

describe('shell parsers over hostile input', () => {
  for (const kind of ['hook', 'legacy', 'bash', 'zsh', 'omaudit']) {
    it(`the ${kind} parser never throws, never pollutes Object.prototype, and accounts for every record`, () => {
      const parser = parserByKind(kind)!.create(testContext());
      let offset = 0;
      fc.assert(
        fc.property(nasty, (text) => {
          const record: RawRecord = { text, origin: { file: 'tcp://127.0.0.1', fileId: 'p', offset, end: offset + 1 } };
          offset++;
          const outs = [...parser.push(record), ...parser.flush(Date.now() + 1e9, true)];
          expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
          for (const o of outs) expect(['event', 'error', 'lost']).toContain(o.kind);
          // Every event serialises (nothing recursive left to overflow the encoder).
          for (const o of outs) if (o.kind === 'event') expect(() => JSON.stringify(o.doc)).not.toThrow();
        }),
        { numRuns: 300 },
      );
    });
  }

  it('withPeerUid never throws and never returns a record deeper than the limit', () => {
    fc.assert(
      fc.property(nasty, fc.option(fc.nat()), (text, uid) => {
        const out = withPeerUid(text, uid ?? undefined, 'u');
        if (out !== undefined) expect(jsonDepthExceeds(out)).toBe(false);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

describe('the hook receiver\'s framing over arbitrary bytes', () => {
  it('answers every connection with OK, TOOBIG, TOODEEP or RETRY (or closes it), and keeps serving', async () => {
    const got: RawRecord[] = [];
    const r = await startHookReceiver((x) => void got.push(x), { port: 0, maxRecordBytes: 4096, deadlineMs: 1000 });
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 6000 }), nasty.map((s) => Buffer.from(s + '\n'))), async (bytes) => {
          const reply = await new Promise<string>((resolve) => {
            const s = connect(r.port, '127.0.0.1', () => s.end(Buffer.from(bytes)));
            let out = '';
            s.on('data', (d) => (out += d.toString()));
            s.on('close', () => resolve(out));
            s.on('error', () => resolve(out));
          });
          expect(['', 'OK\n', 'TOOBIG\n', 'TOODEEP\n', 'RETRY\n']).toContain(reply);
        }),
        { numRuns: 150 },
      );
      expect(r.stats.accepted + r.stats.rejected).toBeGreaterThan(0);
    } finally {
      await r.close();
    }
  }, 60_000);
});
