/**
 * rpm inventory: the parser on real `rpm -qa --qf RPM_QUERY_FORMAT` output (a RHEL 9 host,
 * fixture: kernels installed side by side, an epoch, noarch, gpg-pubkey's (none) fields), so it
 * runs everywhere; and the reader's honest "no database" where there is none.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRpmQuery, readRpm, RPM_QUERY_FORMAT } from './inventory-sources';

describe('rpm inventory', () => {
  it('parses rpm -qa output: [epoch:]version-release, arch, size, summary; side-by-side kernels kept apart', () => {
    const pk = parseRpmQuery(fs.readFileSync(path.join(__dirname, 'fixtures', 'rpm-qa.txt'), 'utf8'));
    expect([...pk.keys()]).toEqual(['bash:x86_64', 'openssh-server:x86_64', 'kernel-core:x86_64', 'kernel-core:x86_64@5.14.0-503.11.1.el9_5', 'tzdata', 'perl-Getopt-Long', 'gpg-pubkey']);
    expect(pk.get('openssh-server:x86_64')).toEqual({ name: 'openssh-server', version: '8.7p1-38.el9', type: 'rpm', architecture: 'x86_64', description: 'An open source SSH server daemon', size: 1442201 });
    expect(pk.get('perl-Getopt-Long')?.version).toBe('1:2.52-4.el9');
    expect(pk.get('tzdata')).toMatchObject({ architecture: 'noarch', version: '2024a-1.el9' });
    expect(pk.get('gpg-pubkey')).toEqual({ name: 'gpg-pubkey', version: '8483c65d-5ccc5b19', type: 'rpm', size: 0 });
  });

  it('asks rpm for exactly the seven tab-separated fields the parser reads', () => {
    expect(RPM_QUERY_FORMAT.split('\\t')).toHaveLength(7);
    expect(RPM_QUERY_FORMAT.endsWith('\\n')).toBe(true);
  });

  it('reads nothing (undefined, not an empty list) below a root without an rpm database', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-rpm-'));
    try {
      expect(readRpm(dir)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
