/**
 * The spool's fsyncs, counted: node:fs is wrapped (every call goes to the real module)
 * so that a test can see whether the spool called fsyncSync at all.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeFrame, FrameKind, Spool } from './spool';

const fsyncs = { n: 0 };
jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof fs>('node:fs');
  return {
    ...real,
    fsyncSync: (fd: number): void => {
      fsyncs.n++;
      real.fsyncSync(fd);
    },
  };
});

const frame = (i: number): Buffer => encodeFrame(FrameKind.Event, Date.now(), `{"create":{"_index":"x","_id":"${i}"}}\n{"n":${i}}\n`);

/** Ten records through a spool of 200-byte segments (so several are sealed); the fsyncs it made. */
function run(durable: boolean | undefined): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-spool-durable-'));
  try {
    fsyncs.n = 0;
    const { spool } = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 200, ...(durable === undefined ? {} : { durable }) });
    spool.append(Array.from({ length: 10 }, (_, i) => frame(i)));
    spool.sync();
    const got = spool.read(1 << 20, 1000);
    expect(got).toHaveLength(10);
    spool.ack(got);
    spool.close();
    expect(fs.readdirSync(dir)).toEqual([]);
    return fsyncs.n;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the spool and fsync', () => {
  it('fsyncs segments and their directory by default', () => {
    expect(run(undefined)).toBeGreaterThan(0);
  });

  it('never fsyncs when it is not durable (fsync: never, ingest), not even to seal a segment, and keeps every record', () => {
    expect(run(false)).toBe(0);
  });
});
