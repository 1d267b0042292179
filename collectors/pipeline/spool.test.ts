import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeFrame, FrameKind, Spool } from './spool';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ak-spool-'));
const frame = (i: number): Buffer => encodeFrame(FrameKind.Event, Date.now(), `{"create":{"_index":"x","_id":"${i}"}}\n{"n":${i}}\n`);

describe('the disk spool', () => {
  it('hands records back in order and deletes a segment only when every record in it was acknowledged', () => {
    const dir = tmp();
    const { spool } = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 200 });
    spool.append(Array.from({ length: 10 }, (_, i) => frame(i)));
    spool.sync();
    const segsBefore = fs.readdirSync(dir).length;
    expect(segsBefore).toBeGreaterThan(1);
    const got = spool.read(1 << 20, 1000);
    expect(got.map((e) => JSON.parse(e.payload.toString().split('\n')[1] as string).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    spool.ack(got.slice(1)); // the first record of the first segment is not acknowledged
    expect(fs.readdirSync(dir).length).toBeGreaterThanOrEqual(1);
    expect(spool.records).toBe(1);
    spool.ack(got.slice(0, 1));
    expect(spool.records).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
    spool.close();
  });

  it('resends everything not acknowledged after a restart and cuts a torn tail', () => {
    const dir = tmp();
    const a = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }).spool;
    a.append([frame(1), frame(2), frame(3)]);
    a.sync();
    a.ack(a.read(1 << 20, 1)); // record 1 shipped; the active segment still holds 2 and 3
    a.close();
    const seg = fs.readdirSync(dir).find((n) => n.endsWith('.spool')) as string;
    fs.appendFileSync(path.join(dir, seg), frame(4).subarray(0, 10)); // a crash mid-write
    const { spool: b, recovery } = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(recovery.tornBytes).toBe(10);
    const again = b.read(1 << 20, 100).map((e) => JSON.parse(e.payload.toString().split('\n')[1] as string).n);
    expect(again).toEqual([1, 2, 3]); // at-least-once: 1 again (a 409 for the sink)
    b.close();
  });

  it('skips and counts a frame whose checksum fails, keeping the frames before it', () => {
    const dir = tmp();
    const a = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 }).spool;
    a.append([frame(1), frame(2)]);
    a.close();
    const file = path.join(dir, fs.readdirSync(dir)[0] as string);
    const buf = fs.readFileSync(file);
    const second = frame(1).length;
    buf[second + 20] = (buf[second + 20] as number) ^ 0xff;
    fs.writeFileSync(file, buf);
    const { spool, recovery } = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(recovery.corrupt).toBe(1);
    expect(spool.read(1 << 20, 100)).toHaveLength(1);
    spool.close();
  });

  it('makes the writer wait when full and lets it go once the sink acknowledged', async () => {
    const dir = tmp();
    const { spool } = Spool.open({ dir, maxBytes: 300, segmentBytes: 100 });
    spool.append(Array.from({ length: 8 }, (_, i) => frame(i)));
    expect(spool.full).toBe(true);
    let released = false;
    const wait = spool.waitForSpace().then(() => {
      released = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(false);
    spool.ack(spool.read(1 << 20, 100));
    await wait;
    expect(released).toBe(true);
    expect(spool.bytes).toBe(0);
    spool.close();
  });
});
