import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecordJournal } from './journal';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ak-journal-'));
const lines = (f: string): string[] => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

describe('the listener journal (issue 14, finding 4)', () => {
  it('never rotates over records the reader has not read, and refuses appends once the backlog is at its cap', async () => {
    const f = path.join(tmp(), 'hook.journal');
    // The reader never reads (Elasticsearch down, spool full).
    const j = new RecordJournal(f, { maxBytes: 100, maxBacklogBytes: 300, readOffset: () => undefined });
    const okd: string[] = [];
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const rec = `{"v":1,"seq":${i},"pad":"xxxxxxxxxx"}`;
      await j.append(rec).then(() => okd.push(rec), () => refused++);
    }
    await j.close();
    expect(refused).toBeGreaterThan(0);
    // Every record that was answered OK is on disk, once.
    expect([...lines(`${f}.1`), ...lines(f)].sort()).toEqual([...okd].sort());
  });

  it('rotates once the reader has committed the whole file, and keeps accepting', async () => {
    const f = path.join(tmp(), 'hook.journal');
    let readTo = 0;
    const j = new RecordJournal(f, { maxBytes: 100, maxBacklogBytes: 300, readOffset: () => readTo });
    for (let i = 0; i < 40; i++) {
      await j.append(`{"v":1,"seq":${i},"pad":"xxxxxxxxxx"}`);
      readTo = fs.statSync(f).size; // the reader keeps up
    }
    await j.close();
    expect(fs.existsSync(`${f}.1`)).toBe(true);
    expect(j.refused).toBe(0);
  });
});

describe('the listener journal fsync policies', () => {
  it.each(['always', 'group', 'interval'] as const)('%s: every append is written in call order before its promise settles, and close syncs the rest', async (fsync) => {
    const f = path.join(tmp(), 'hook.journal');
    const j = new RecordJournal(f, { fsync, fsyncIntervalMs: 20 });
    const recs = Array.from({ length: 50 }, (_, i) => `{"seq":${i}}`);
    // Appended in one loop turn, as a burst of connections would be.
    await Promise.all(recs.map((r) => j.append(r).then(() => expect(lines(f)).toContain(r))));
    await j.close();
    expect(lines(f)).toEqual(recs);
    if (fsync === 'always') expect(j.syncs).toBe(50);
    // Group commit: the burst shares fdatasyncs (one here, however slow the disk).
    if (fsync === 'group') expect(j.syncs).toBeLessThan(5);
  });

  it('interval: an append resolves without waiting for a disk flush; the timer flushes what was written', async () => {
    const f = path.join(tmp(), 'hook.journal');
    const j = new RecordJournal(f, { fsync: 'interval', fsyncIntervalMs: 10 });
    await j.append('{"seq":1}');
    expect(j.syncs).toBe(0);
    for (let i = 0; i < 100 && j.syncs === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(j.syncs).toBe(1);
    await j.close();
    await expect(j.append('{"seq":2}')).rejects.toThrow(/closed/);
  });
});
