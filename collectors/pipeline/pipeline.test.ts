import * as fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@elastic/elasticsearch';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPipeline, type PipelineInput, type PipelineOptions } from './pipeline';
import { inputKey, ownerOf, type FileCheckpoint } from './checkpoints';
import { newCounters } from './counters';
import { Encoder } from './encode';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ak-pipe-'));
const input = (p: string, format: string): PipelineInput => ({ paths: [p], format, namespace: 'default', startAt: 'beginning', maxLineBytes: 65536 });
const legacyLine = (i: number): string => `[2026-11-22 10:00:${String(i % 60).padStart(2, '0')}] [(root) alice pts/0 10.0.0.5] [web01@10.0.0.21] echo legacy-${i}`;
const ndjsonLine = (i: number): string => JSON.stringify({ '@timestamp': '2026-11-22T10:00:00Z', event: { kind: 'event', dataset: 'auditkit.commands' }, message: `nd-${i}` });

/** What every pipeline of this file shares: web01, the default namespace, fast polls, no heartbeat. */
const base = (stateDir: string, inputs: PipelineInput[]) =>
  ({ inputs, stateDir, namespace: 'default', host: { name: 'web01' }, agent: { type: 'auditkit' }, pollIntervalMs: 10, rotatedGraceMs: 0, batchRecords: 1000, heartbeatIntervalMs: 0 }) as const;

async function once(stateDir: string, inputs: PipelineInput[]): Promise<{ messages: string[]; failed: number }> {
  const messages: string[] = [];
  const opts: PipelineOptions = {
    ...base(stateDir, inputs),
    once: true,
    spool: { maxBytes: 1 << 20, segmentBytes: 1 << 16, fsync: 'interval', fsyncIntervalMs: 10, whenFull: 'block' },
    emit: (doc) => {
      const d = doc as { message?: string; process?: { command_line?: string } };
      messages.push(d.process?.command_line ?? d.message ?? '?');
    },
  };
  const r = await runPipeline(opts);
  return { messages, failed: r.counters.failed };
}

describe('the pipeline with several inputs', () => {
  it('gives each input only its own checkpoints: a restart reads every file once, with its own parser', async () => {
    const dir = tmp();
    const a = path.join(dir, 'legacy.log');
    const b = path.join(dir, 'events.ndjson');
    fs.writeFileSync(a, [0, 1, 2].map(legacyLine).join('\n') + '\n');
    fs.writeFileSync(b, [0, 1].map(ndjsonLine).join('\n') + '\n');
    const inputs = [input(a, 'legacy'), input(b, 'ndjson')];
    const state = path.join(dir, 'state');

    const first = await once(state, inputs);
    expect(first.failed).toBe(0);
    expect(first.messages.sort()).toEqual(['echo legacy-0', 'echo legacy-1', 'echo legacy-2', 'nd-0', 'nd-1']);

    fs.appendFileSync(a, legacyLine(3) + '\n');
    fs.appendFileSync(b, ndjsonLine(2) + '\n');
    // Before checkpoints were tagged with their input, the legacy input's tailer took
    // events.ndjson for a file rotated away while the collector was down: it read it
    // again (doubles) with the legacy parser (dead letters) and marked it done.
    const second = await once(state, inputs);
    expect(second.failed).toBe(0);
    expect(second.messages.sort()).toEqual(['echo legacy-3', 'nd-2']);

    const saved = JSON.parse(fs.readFileSync(path.join(state, 'checkpoints.json'), 'utf8')) as { files: Record<string, FileCheckpoint> };
    expect(Object.values(saved.files).map((cp) => [path.basename(cp.path), cp.input]).sort()).toEqual([
      ['events.ndjson', inputKey([b])],
      ['legacy.log', inputKey([a])],
    ]);

    // An input removed from the configuration: its checkpoints are forgotten, the other input carries on.
    fs.appendFileSync(a, legacyLine(4) + '\n');
    const third = await once(state, [inputs[0] as PipelineInput]);
    expect(third.messages).toEqual(['echo legacy-4']);
    const after = JSON.parse(fs.readFileSync(path.join(state, 'checkpoints.json'), 'utf8')) as { files: Record<string, FileCheckpoint> };
    expect(Object.values(after.files).map((cp) => path.basename(cp.path))).toEqual(['legacy.log']);
  });

  it('assigns untagged checkpoints (older state) by path, rotated siblings included', () => {
    const inputs = [
      { key: 'a', paths: ['/var/log/auditkit/commands.log'] },
      { key: 'b', paths: ['/var/log/audit/audit*.log', '/var/log/audit/audit.log'] },
    ];
    const cp = (p: string, input?: string): FileCheckpoint => ({ path: p, devIno: '1:2', fp: 'f', gen: 0, offset: 1, ...(input ? { input } : {}) });
    expect(ownerOf(cp('/var/log/auditkit/commands.log'), inputs)).toBe('a');
    expect(ownerOf(cp('/var/log/auditkit/commands.log.1'), inputs)).toBe('a');
    expect(ownerOf(cp('/var/log/audit/audit.log.2'), inputs)).toBe('b');
    expect(ownerOf(cp('/var/log/other.log'), inputs)).toBeUndefined();
    expect(ownerOf(cp('/var/log/other.log', 'b'), inputs)).toBe('b');
    expect(ownerOf(cp('/var/log/auditkit/commands.log', 'gone'), inputs)).toBeUndefined();
  });
});

describe('deeply nested records (issue 14, finding 1)', () => {
  it('dead-letters an ndjson line nested 200,000 deep and moves past it', async () => {
    const dir = tmp();
    const f = path.join(dir, 'events.ndjson');
    const deep = '{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';
    fs.writeFileSync(f, [ndjsonLine(0), deep, ndjsonLine(1)].join('\n') + '\n');
    const state = path.join(dir, 'state');
    const first = await once(state, [input(f, 'ndjson')]);
    expect(first.failed).toBe(1);
    expect(first.messages.sort()).toEqual(['nd-0', 'nd-1']);
    const again = await once(state, [input(f, 'ndjson')]);
    expect(again.messages).toEqual([]);
    expect(again.failed).toBe(0);
  });

  it('turns an event that cannot be serialised into a dead-letter frame instead of throwing', () => {
    const counters = newCounters();
    const enc = new Encoder({ counters, host: { name: 'h' }, agent: { type: 'auditkit' } as never, emit: undefined, detect: undefined, log: undefined });
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const doc = { '@timestamp': '2026-11-22T10:00:00Z', event: { id: 'x1', kind: 'event', dataset: 'auditkit.commands' }, deep } as never;
    const src = { input: { paths: ['/x'], namespace: 'default', format: 'ndjson' } } as never;
    expect(() => enc.encode(src, [{ kind: 'event', dataset: 'commands', doc }], 'commands')).not.toThrow();
    expect(counters.failed).toBe(1);
    const frames = enc.take();
    expect(frames).toHaveLength(1);
    expect(frames[0]!.toString()).toContain('AK_ENCODE_FAILED');
  });
});

describe('the encoder and the JSON a parser already has', () => {
  const doc = { '@timestamp': '2026-11-22T10:00:00Z', event: { id: 'x1', kind: 'event', dataset: 'auditkit.commands' }, message: 'm' } as never;
  const json = '{ "@timestamp":"2026-11-22T10:00:00Z", "event":{"id":"x1","kind":"event","dataset":"auditkit.commands"}, "message":"m" }';
  const src = { input: { paths: ['/x'], namespace: 'default', format: 'ndjson' } } as never;
  const payload = (frame: Buffer | undefined): string => (frame as Buffer).subarray(17).toString('utf8');

  it('ships the parser\'s JSON of an event as it is, after the action line', () => {
    const enc = new Encoder({ counters: newCounters(), host: { name: 'h' }, agent: { type: 'auditkit' } as never, emit: undefined, detect: undefined, log: undefined });
    enc.encode(src, [{ kind: 'event', dataset: 'commands', doc, json }], 'commands');
    expect(payload(enc.take()[0])).toBe(`{"create":{"_index":"logs-auditkit.commands-default","_id":"x1"}}\n${json}\n`);
  });

  it('serialises the event instead when enrich replaced it', () => {
    const enriched = { ...(doc as object), tags: ['t'] } as never;
    const enc = new Encoder({ counters: newCounters(), host: { name: 'h' }, agent: { type: 'auditkit' } as never, emit: undefined, detect: undefined, enrich: () => enriched, log: undefined });
    enc.encode(src, [{ kind: 'event', dataset: 'commands', doc, json }], 'commands');
    expect(payload(enc.take()[0])).toBe(`{"create":{"_index":"logs-auditkit.commands-default","_id":"x1"}}\n${JSON.stringify(enriched)}\n`);
  });
});

describe('the end of a one-shot input (ingest, collect --once)', () => {
  it('sends the last partial request at once instead of waiting out flush_interval_ms', async () => {
    // A stand-in _bulk that accepts every create (the HTTP boundary; the real node is in test/pipeline).
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        const n = body.split('\n').filter((l) => l.startsWith('{"create"')).length;
        res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
        res.end(JSON.stringify({ errors: false, items: Array.from({ length: n }, () => ({ create: { status: 201 } })) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const client = new Client({ node: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const dir = tmp();
    try {
      const f = path.join(dir, 'events.ndjson');
      fs.writeFileSync(f, [0, 1, 2].map(ndjsonLine).join('\n') + '\n');
      const flushIntervalMs = 20_000;
      const t0 = Date.now();
      const r = await runPipeline({
        ...base(path.join(dir, 'state'), [input(f, 'ndjson')]),
        oneShot: true,
        spool: { maxBytes: 1 << 20, segmentBytes: 1 << 16, fsync: 'never', fsyncIntervalMs: 1000, whenFull: 'block' },
        sink: { client, flushBytes: 5 << 20, flushIntervalMs, maxDocs: 10_000, maxInflight: 2, backoffInitialMs: 50, backoffMaxMs: 400, requestTimeoutMs: 5000 },
      });
      expect(r.counters.sent).toBe(3);
      // Before, the three events (far below flush_bytes) waited for the 20 s flush interval.
      expect(Date.now() - t0).toBeLessThan(flushIntervalMs / 2);
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
