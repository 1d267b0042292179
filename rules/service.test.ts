import { markFor } from './service';

describe('what a detection pass writes on a pending alert for each hub outcome', () => {
  const at = '2026-12-04T15:00:00.000Z';

  it('marks a delivered, ignored or failed alert with the time, and keeps a digest-held one pending with its holder; a deferred one is left as it is', () => {
    expect(markFor({ kind: 'sent' }, 'host:1:ab', at)).toEqual({ notification: 'sent', notified_at: at });
    expect(markFor({ kind: 'ignored' }, 'host:1:ab', at)).toEqual({ notification: 'sent', notified_at: at });
    expect(markFor({ kind: 'failed' }, 'host:1:ab', at)).toEqual({ notification: 'failed', notified_at: at });
    // No `notification` key: a digest-held alert stays pending until that digest is delivered.
    expect(markFor({ kind: 'digest', delivered: new Promise<boolean>(() => undefined) }, 'host:1:ab', at)).toEqual({ digest_holder: 'host:1:ab' });
    expect(markFor({ kind: 'deferred' }, 'host:1:ab', at)).toBeUndefined();
  });
});
