import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CastRecorder, findRecording, pruneRecordings, readCast } from './recording';

describe('asciicast v2 recordings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ak-cast-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hold output, masked input and resizes, with a UTF-8 character split across chunks intact', async () => {
    const t0 = Date.UTC(2026, 0, 1, 9);
    const rec = await CastRecorder.create(dir, 'sid1', { version: 2, width: 80, height: 24, timestamp: t0 / 1000 }, { maxBytes: 1e6, input: true });
    const han = Buffer.from('汉', 'utf8');
    rec.output(Buffer.concat([Buffer.from('$ '), han.subarray(0, 1)]), t0 + 100);
    rec.output(han.subarray(1), t0 + 200);
    rec.input(Buffer.from('ls\r'), t0 + 300);
    rec.input(Buffer.from('s3cret\r'), t0 + 400, true);
    rec.resize(100, 30, t0 + 500);
    const r = await rec.close();
    expect(statSync(r.path).mode & 0o777).toBe(0o600);
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    const { header, events } = await readCast(r.path);
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(events.filter((e) => e[1] === 'o').map((e) => e[2]).join('')).toBe('$ 汉');
    expect(events.filter((e) => e[1] === 'i').map((e) => e[2])).toEqual(['ls\r', '******\r']);
    expect(events.find((e) => e[1] === 'r')).toEqual([0.5, 'r', '100x30']);
    expect(await findRecording(dir, 'sid1')).toBe(r.path);
  });

  it('stop at the size cap with a marker', async () => {
    const rec = await CastRecorder.create(dir, 'sid2', { version: 2, width: 80, height: 24, timestamp: 0 }, { maxBytes: 10, input: false });
    rec.output(Buffer.from('12345678'), 1);
    rec.output(Buffer.from('abcdefgh'), 2);
    rec.output(Buffer.from('more'), 3);
    const r = await rec.close();
    expect(r.truncated).toBe(true);
    const { events } = await readCast(r.path);
    expect(events.map((e) => e[1])).toEqual(['o', 'm']);
  });

  it('are deleted after the retention period', async () => {
    const rec = await CastRecorder.create(dir, 'old', { version: 2, width: 80, height: 24, timestamp: 0 }, { maxBytes: 10, input: false });
    const r = await rec.close();
    const old = (Date.now() - 10 * 86_400_000) / 1000;
    utimesSync(r.path, old, old);
    expect(await pruneRecordings(dir, 30)).toBe(0);
    expect(await pruneRecordings(dir, 7)).toBe(1);
    expect(await findRecording(dir, 'old')).toBeUndefined();
  });
});
