/**
 * Golden tests: every `fixtures/<format>/<case>.txt` is read line by line (with
 * byte offsets, as the tailer would deliver it) through the parser of that
 * format, and the outputs must equal `<case>.expected.json`. Adding a case is
 * adding those two files; `UPDATE_GOLDEN=1 npx jest collectors/shell` rewrites
 * the expected files (review the diff).
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename as name, join } from 'node:path';
import { assertValidDocument } from '../../schema';
import { parserByKind } from '../parsers';
import type { ParseOutput, RawRecord } from '../types';
import { testContext } from './test-util';

// Legacy and OMAudit times are local to the writer: pin the zone, and give it back afterwards.
const savedTz = process.env['TZ'];
process.env['TZ'] = 'UTC';
afterAll(() => {
  if (savedTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTz;
});
const root = join(__dirname, 'fixtures');

function records(file: string, virtualPath: string): RawRecord[] {
  const buf = readFileSync(file);
  const out: RawRecord[] = [];
  let off = 0;
  let line = 1;
  while (off < buf.length) {
    let nl = buf.indexOf(0x0a, off);
    if (nl < 0) nl = buf.length;
    out.push({ text: buf.subarray(off, nl).toString('utf8'), origin: { file: virtualPath, fileId: `fixture:${virtualPath}`, offset: off, end: Math.min(nl + 1, buf.length), line } });
    off = nl + 1;
    line++;
  }
  return out;
}

export function runCase(format: string, file: string): ParseOutput[] {
  const unit = parserByKind(format);
  if (!unit) throw new Error(`no parser for ${format}`);
  const p = unit.create(testContext());
  const base = name(file);
  // Cases named receiver* arrive as the collector's loopback receiver delivers them.
  const virtual = format === 'bash' ? '/home/alice/.bash_history' : format === 'zsh' ? '/home/alice/.zsh_history' : base.startsWith('receiver') ? 'tcp://127.0.0.1' : `/var/log/${format}.log`;
  const out: ParseOutput[] = [];
  for (const r of records(file, virtual)) out.push(...p.push(r));
  out.push(...p.flush(Date.parse('2026-11-22T12:00:00Z'), true));
  return out;
}

describe('shell parsers reproduce the golden output of every fixture', () => {
  for (const format of readdirSync(root)) {
    for (const name of readdirSync(join(root, format)).filter((f) => f.endsWith('.txt'))) {
      const input = join(root, format, name);
      const expectedFile = input.replace(/\.txt$/, '.expected.json');
      it(`parses ${format}/${name} into the expected events and errors`, () => {
        const out = runCase(format, input);
        for (const o of out) if (o.kind === 'event') assertValidDocument(o.doc);
        const actual = JSON.parse(JSON.stringify(out)) as unknown;
        if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + '\n');
        if (!existsSync(expectedFile)) throw new Error(`${expectedFile} is missing: run UPDATE_GOLDEN=1 npx jest collectors/shell and review it`);
        expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
      });
    }
  }
});
