import type { RawRecord } from '../types';
import { journalThenAck } from './ack';

const record: RawRecord = { text: '{}', origin: { file: 'tcp://127.0.0.1', fileId: 'f', offset: 0, end: 1 } };
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('journalThenAck', () => {
  it('answers OK only once the journal append resolved', async () => {
    let release!: () => void;
    const said: string[] = [];
    const stats = { accepted: 0, failed: 0 };
    journalThenAck(() => new Promise<void>((r) => (release = r)), record, stats, () => said.push('OK'), () => said.push('RETRY'));
    await flush();
    expect(said).toEqual([]);
    release();
    await flush();
    expect(said).toEqual(['OK']);
    expect(stats).toEqual({ accepted: 1, failed: 0 });
  });

  it('asks the sender to retry when the append rejects or throws, and counts it', async () => {
    const said: string[] = [];
    const stats = { accepted: 0, failed: 0 };
    journalThenAck(() => Promise.reject(new Error('disk full')), record, stats, () => said.push('OK'), () => said.push('RETRY'));
    journalThenAck(() => { throw new Error('closed'); }, record, stats, () => said.push('OK'), () => said.push('RETRY'));
    await flush();
    expect(said).toEqual(['RETRY', 'RETRY']);
    expect(stats).toEqual({ accepted: 0, failed: 2 });
  });
});
