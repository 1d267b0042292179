import { createHash } from 'node:crypto';
import { auditEventId, documentId } from '../../schema';
import { linkedSessionId } from './session';
import { createRng } from '../../core';

/** The first implementation of documentId (a Hash object fed part by part): ids are persisted, so the faster one must give the same values. */
function documentIdV1(...parts: ReadonlyArray<string | number | bigint | undefined>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const s = p === undefined ? '\u0000' : String(p);
    h.update(s.replace(/\\/g, '\\\\').replace(/\u001f/g, '\\u001f'));
    h.update('\u001f');
  }
  return h.digest('base64url').slice(0, 22);
}


describe('document ids stay the same as before the hashing was made faster', () => {
  it('gives the first implementation\'s id for escapes, separators, surrogates, numbers, bigints and undefined', () => {
    const cases: Array<ReadonlyArray<string | number | bigint | undefined>> = [
      [],
      [''],
      ['auditd', 'bench', undefined, '1615114232.375', 42],
      ['a\\b', 'c\u001fd', undefined, 3, 10n],
      ['\\u001f', '\u001f\u001f', '\\\\'],
      ['é€😀', '\ud800', '\udfff x', '\u0000'],
      ['x'.repeat(5000)],
      [-1, 4294967295, 1.5, Number.MAX_SAFE_INTEGER],
    ];
    for (const c of cases) expect(documentId(...c)).toBe(documentIdV1(...c));
  });

  it('gives the first implementation\'s id for 5,000 random part lists', () => {
    const r = createRng(4).next; // seeded: a failure can be replayed
    const alphabet = ['\\', '\u001f', '\u0000', '\ud83d', '\ude00', 'a', '=', ' ', 'é', '\u3000'];
    for (let i = 0; i < 5_000; i++) {
      const parts: Array<string | number | undefined> = [];
      const n = Math.floor(r() * 6);
      for (let j = 0; j < n; j++) {
        const kind = r();
        if (kind < 0.1) parts.push(undefined);
        else if (kind < 0.2) parts.push(Math.floor(r() * 1e9));
        else {
          let s = '';
          const len = Math.floor(r() * 24);
          for (let k = 0; k < len; k++) s += r() < 0.5 ? (alphabet[Math.floor(r() * alphabet.length)] as string) : String.fromCharCode(Math.floor(r() * 0xffff));
          parts.push(s);
        }
      }
      const got = documentId(...parts);
      const want = documentIdV1(...parts);
      if (got !== want) throw new Error(`id differs for ${JSON.stringify(parts)}: got ${got}, expected ${want}`);
    }
  });

  it('keeps the pinned auditd event and session ids', () => {
    expect(auditEventId('host-1', undefined, '1615114232.375', 42)).toBe(documentIdV1('auditd', 'host-1', undefined, '1615114232.375', 42));
    expect(linkedSessionId('host-1', 1000, 7)).toBe('z1JiiC5Gh3uvyHFrD7zGD7');
  });

  it('answers a cached session id only for the same host, auid and ses', () => {
    expect(linkedSessionId('host-1', 1000, 7)).toBe(linkedSessionId('host-1', '1000', '7'));
    expect(linkedSessionId('host-2', 1000, 7)).not.toBe(linkedSessionId('host-1', 1000, 7));
    expect(linkedSessionId('h\u001f1', 2, 3)).toBe(documentIdV1('auditkit-session', 'h\u001f1', '2', '3'));
    expect(linkedSessionId('h', '1\u001f2', 3)).toBe('');
    expect(linkedSessionId('h\u001f1', 2, 3)).not.toBe('');
  });
});
