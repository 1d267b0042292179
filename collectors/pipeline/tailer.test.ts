import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileTailer, READ_MAX, READ_MIN, type TailItem } from './tailer';
import type { FileCheckpoint } from './checkpoints';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ak-tail-'));
const texts = (items: TailItem[]): string[] => items.map((i) => (i.kind === 'record' ? i.record.text : `OVERSIZE(${i.bytes})`));
const tailer = (p: string, cps: ReadonlyMap<string, FileCheckpoint> = new Map(), extra: Partial<ConstructorParameters<typeof FileTailer>[0]> = {}): FileTailer =>
  new FileTailer({ paths: [p], startAt: 'beginning', maxLineBytes: 1000, rotatedGraceMs: 0, checkpoints: cps, ...extra });

describe('the file tailer', () => {
  it('yields complete lines with byte offsets and keeps a partial last line for later', () => {
    const f = path.join(tmp(), 'a.log');
    fs.writeFileSync(f, 'one\ntwo\r\nthr');
    const t = tailer(f);
    const items = t.poll(100);
    expect(texts(items)).toEqual(['one', 'two']);
    const second = items[1];
    expect(second?.kind === 'record' && second.record.origin).toMatchObject({ offset: 4, end: 9 });
    expect([...t.positions().values()][0]?.offset).toBe(9);
    fs.appendFileSync(f, 'ee\n');
    expect(texts(t.poll(100))).toEqual(['three']);
    t.close();
  });

  it('sizes its read buffer to the rate: small while lines trickle in, doubling through a backlog, halving back once it is read, with every line whole and its offsets exact', () => {
    const dir = tmp();
    const f = path.join(dir, 'a.log');
    fs.writeFileSync(f, 'first\n');
    const t = tailer(f, new Map(), { maxLineBytes: 1 << 20 });
    try {
      expect(texts(t.poll(100))).toEqual(['first']);
      expect(t.readBufferBytes).toBe(READ_MIN);
      // A backlog of lines of many lengths, some longer than the smallest buffer, so lines cross every read boundary.
      const lines: string[] = [];
      let size = 0;
      for (let i = 0; size < 3 * READ_MAX; i++) {
        const line = `${i}:${'x'.repeat((i * 7919) % (READ_MIN + 3000))}`;
        lines.push(line);
        size += line.length + 1;
      }
      fs.appendFileSync(f, lines.map((l) => `${l}\n`).join(''));
      const got: TailItem[] = [];
      let largest = 0;
      for (let k = 0; k < 1000 && got.length < lines.length; k++) {
        got.push(...t.poll(40));
        largest = Math.max(largest, t.readBufferBytes);
      }
      expect(texts(got)).toEqual(lines);
      let at = 'first\n'.length;
      for (const item of got) {
        expect(item.kind === 'record' && [item.record.origin.offset, item.record.origin.end]).toEqual([at, at + (item.kind === 'record' ? Buffer.byteLength(item.record.text) : 0) + 1]);
        at += item.kind === 'record' ? Buffer.byteLength(item.record.text) + 1 : 0;
      }
      expect(largest).toBe(READ_MAX);
      // Quiet again: it halves at each poll that reads little, down to the smallest.
      fs.appendFileSync(f, 'after\n');
      expect(texts(t.poll(100))).toEqual(['after']);
      for (let k = 0; k < 10; k++) expect(t.poll(100)).toEqual([]);
      expect(t.readBufferBytes).toBe(READ_MIN);
    } finally {
      t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the rest of a renamed file before the new file at the same path', () => {
    const dir = tmp();
    const f = path.join(dir, 'a.log');
    fs.writeFileSync(f, 'l1\n');
    const t = tailer(f);
    expect(texts(t.poll(100))).toEqual(['l1']);
    fs.appendFileSync(f, 'l2\n');
    fs.renameSync(f, `${f}.1`);
    fs.writeFileSync(f, 'n1\n');
    expect(texts(t.poll(100))).toEqual(['l2', 'n1']);
    t.close();
  });

  it('reads the copy of a copytruncated file from where it was, then the file from its start', () => {
    const dir = tmp();
    const f = path.join(dir, 'a.log');
    fs.writeFileSync(f, 'l1\n');
    const t = tailer(f);
    expect(texts(t.poll(100))).toEqual(['l1']);
    fs.appendFileSync(f, 'l2\nl3\n');
    fs.copyFileSync(f, `${f}.1`);
    fs.truncateSync(f, 0);
    fs.appendFileSync(f, 'n1\n');
    expect(texts(t.poll(100))).toEqual(['l2', 'l3', 'n1']);
    t.close();
  });

  it('resumes from a checkpoint and finds a file renamed while it was not running', () => {
    const dir = tmp();
    const f = path.join(dir, 'a.log');
    fs.writeFileSync(f, 'l1\nl2\n');
    const t1 = tailer(f);
    expect(texts(t1.poll(1))).toEqual(['l1', 'l2']);
    const cps = t1.positions();
    t1.close();
    fs.appendFileSync(f, 'l3\n');
    fs.renameSync(f, `${f}.1`);
    fs.writeFileSync(f, 'n1\n');
    const t2 = tailer(f, cps);
    expect(texts(t2.poll(100))).toEqual(['l3', 'n1']);
    t2.close();
  });

  it('skips a line longer than max_line_bytes to its end and reports it with its head', () => {
    const f = path.join(tmp(), 'a.log');
    fs.writeFileSync(f, `ok\n${'x'.repeat(5000)}\nafter\n`);
    const t = tailer(f);
    const items = t.poll(100);
    expect(texts(items)).toEqual(['ok', 'OVERSIZE(5000)', 'after']);
    const o = items[1];
    expect(o?.kind === 'oversize' && o.head.length).toBe(1000);
    expect(o?.kind === 'oversize' && o.origin).toMatchObject({ offset: 3, end: 5004 });
    t.close();
  });

  it('starts at the end of a file seen for the first time when start_at is end', () => {
    const f = path.join(tmp(), 'a.log');
    fs.writeFileSync(f, 'old\n');
    const t = tailer(f, new Map(), { startAt: 'end' });
    expect(t.poll(100)).toEqual([]);
    fs.appendFileSync(f, 'new\n');
    expect(texts(t.poll(100))).toEqual(['new']);
    t.close();
  });
});
