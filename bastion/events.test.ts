import { validateDocument } from '../schema';
import { commandDoc, fileDoc, guardAlertDoc, loginDoc, sessionEndDoc, sessionStartDoc, transferRefusedDoc, type EventContext, type SessionFacts } from './events';

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
  it('file transfers: one valid ECS file event per transfer (path, size, direction), and a refusal', () => {
    const sf: SessionFacts = { ...s, channel: 'sftp' };
    const up = fileDoc(ctx, sf, 1, { action: 'file-upload', protocol: 'sftp', path: '/srv/app/x.tar', bytes: 4096, direction: 'upload', flags: ['write', 'creat'], outcome: 'success', at: s.start + 1 });
    const mv = fileDoc(ctx, sf, 2, { action: 'file-rename', protocol: 'sftp', path: '/a', newPath: '/b', outcome: 'failure', reason: 'Permission denied', at: s.start + 2 });
    const no = transferRefusedDoc(ctx, { connection: 'c1', user: 'alice', sourceIp: '192.0.2.7', sourcePort: 50122, protocol: 'scp', host: 'web01', account: 'deploy', command: 'scp -t /tmp', reason: 'no grant', at: s.start });
    for (const d of [up, mv, no]) valid(d);
    expect(up).toMatchObject({ event: { category: ['file'], type: ['creation'], action: 'file-upload', dataset: 'auditkit.sessions' }, file: { path: '/srv/app/x.tar', name: 'x.tar', size: 4096 }, user: { name: 'deploy' }, auditkit: { bastion: { user: 'alice', session_id: 'b1f0', transfer: { direction: 'upload', protocol: 'sftp' } } } });
    expect(mv).toMatchObject({ event: { outcome: 'failure', reason: 'Permission denied' }, auditkit: { bastion: { transfer: { new_path: '/b' } } } });
    expect(no).toMatchObject({ event: { action: 'file-transfer-refused', outcome: 'failure' }, auditkit: { bastion: { user: 'alice', channel: 'scp' } } });
    expect((up['event'] as { id: string }).id).not.toBe((mv['event'] as { id: string }).id);
  });
});
