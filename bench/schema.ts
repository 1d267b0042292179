import { performance } from 'node:perf_hooks';
import { validateDocument, documentId } from '../schema';
import type { Benchmark } from './types';

/** Cost of validating one event against ECS (used by tests, and by `--strict` emitters). */
export const schemaBench: Benchmark = {
  name: 'schema',
  description: 'ECS validation and document ids per second (baseline: JSON.stringify of the same event)',
  async run() {
    const doc = {
      '@timestamp': '2026-11-22T10:00:00.000Z',
      ecs: { version: '8.17.0' },
      event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', dataset: 'auditkit.commands', id: 'x' },
      host: { name: 'web01', hostname: 'web01', ip: ['10.0.0.1'] },
      agent: { type: 'auditkit', version: '0.1.0' },
      user: { name: 'alice', id: '1000' },
      process: { command_line: 'ls -la /tmp', args: ['ls', '-la', '/tmp'], pid: 1234, working_directory: '/root', exit_code: 0 },
      source: { ip: '10.0.0.5' },
      related: { user: ['alice'], ip: ['10.0.0.5'] },
    };
    const n = 50_000;
    let t = performance.now();
    for (let i = 0; i < n; i++) validateDocument(doc);
    const validate = n / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let i = 0; i < n; i++) JSON.stringify(doc);
    const stringify = n / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let i = 0; i < n; i++) documentId('web01', 'file', i);
    const ids = n / ((performance.now() - t) / 1000);
    return [
      { name: 'validateDocument', value: validate, unit: 'docs/s', baseline: { name: 'JSON.stringify', value: stringify, unit: 'docs/s' }, ratio: validate / stringify },
      { name: 'documentId', value: ids, unit: 'ids/s', baseline: { name: 'JSON.stringify', value: stringify, unit: 'docs/s' }, ratio: ids / stringify },
    ];
  },
};
