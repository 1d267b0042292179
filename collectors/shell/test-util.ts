import type { ParseContext } from '../types';

/** A fixed collector context for parser tests (the collector runs on web01). */
export function testContext(now = Date.parse('2026-11-22T10:00:00Z')): ParseContext {
  return {
    host: { name: 'web01', hostname: 'web01', id: 'host-web01', ip: ['10.0.0.21'] },
    agent: { type: 'auditkit', version: '0.0.0-test' },
    namespace: 'default',
    now: () => now,
  };
}
