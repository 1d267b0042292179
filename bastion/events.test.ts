import { validateDocument } from '../schema';
import { commandDoc, guardAlertDoc, loginDoc, sessionEndDoc, sessionStartDoc, type EventContext, type SessionFacts } from './events';

const ctx: EventContext = { instance: 'bastion-a', bastionHost: { name: 'bastion', hostname: 'bastion' }, namespace: 'default' };
const s: SessionFacts = { id: 'b1f0', user: 'alice', sourceIp: '192.0.2.7', sourcePort: 50122, host: 'web01', address: '10.0.0.11', port: 22, account: 'deploy', channel: 'shell', start: Date.UTC(2026, 0, 1, 9), cols: 120, rows: 40 };

function valid(doc: unknown): void {
  const r = validateDocument(doc);
  expect(r.problems).toEqual([]);
}

describe('bastion documents', () => {
  it('are valid ECS and carry the person in auditkit.bastion.user on every one', () => {
    const c = { seq: 1, command: 'rm -rf /srv/x', at: s.start + 5000, kind: 'line' as const, verdict: 'block' as const, rules: ['r1'], message: 'destructive' };
    const docs = [
      sessionStartDoc(ctx, s),
      sessionEndDoc(ctx, s, { end: s.start + 60_000, reason: 'exit', bytesIn: 10, bytesOut: 2000, recording: { path: '/r/b1f0.cast.gz', fileBytes: 500, recordedBytes: 2010, truncated: false, sha256: 'ab'.repeat(32) } }),
      loginDoc(ctx, { connection: 'c1', attempt: 1, user: 'alice', sourceIp: '192.0.2.7', sourcePort: 50122, method: 'password', outcome: 'failure', reason: 'wrong password', at: s.start }),
      commandDoc(ctx, s, c),
      guardAlertDoc(ctx, s, c, { id: 'r1', name: 'Destructive delete', severity: 'critical' }),
    ];
    for (const d of docs) {
      valid(d);
      expect((d['auditkit'] as { bastion: { user: string } }).bastion.user).toBe('alice');
    }
    expect(docs[1]).toMatchObject({ event: { type: ['end'], reason: 'exit', duration: 60_000_000_000 }, source: { bytes: 10 }, destination: { bytes: 2000 }, file: { path: '/r/b1f0.cast.gz' } });
    expect(docs[3]).toMatchObject({ event: { type: ['denied'], action: 'bastion-command-blocked' }, process: { args: ['rm', '-rf', '/srv/x'], name: 'rm' }, auditkit: { bastion: { session_id: 'b1f0' } } });
  });
  it('have ids that depend only on the session and the sequence (a replayed journal never doubles them)', () => {
    const c = { seq: 3, command: 'ls', at: 1, kind: 'line' as const, verdict: 'allow' as const };
    expect((commandDoc(ctx, s, c)['event'] as { id: string }).id).toBe((commandDoc(ctx, s, { ...c, at: 2 })['event'] as { id: string }).id);
    expect((sessionStartDoc(ctx, s)['event'] as { id: string }).id).not.toBe((sessionEndDoc(ctx, s, { end: 1, reason: 'x', bytesIn: 0, bytesOut: 0 })['event'] as { id: string }).id);
  });
});
