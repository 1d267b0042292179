import { createHmac, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkHostKey, KnownHosts, knownHostsName, parseKnownHosts } from './ssh';

/** An SSH wire-format public key blob: string type, then opaque bytes. */
function blob(type: string, seed: number): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.alloc(36, seed)]);
}

describe('known_hosts', () => {
  const k1 = blob('ssh-ed25519', 1);
  const k2 = blob('ssh-ed25519', 2);

  test('plain, bracketed-port, wildcard, negated and hashed entries match like OpenSSH', () => {
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[10.0.0.9]:2222').digest('base64')}`;
    const entries = parseKnownHosts(
      [`# comment`, `web01,10.0.0.1 ssh-ed25519 ${k1.toString('base64')}`, `[10.0.0.2]:2222 ssh-ed25519 ${k1.toString('base64')}`, `*.example.org,!bad.example.org ssh-ed25519 ${k2.toString('base64')}`, `${hashed} ssh-ed25519 ${k2.toString('base64')}`].join('\n'),
    );
    expect(checkHostKey(entries, '10.0.0.1', 22, k1)).toEqual({ kind: 'known', line: 2 });
    expect(checkHostKey(entries, '10.0.0.2', 2222, k1).kind).toBe('known');
    expect(checkHostKey(entries, '10.0.0.2', 22, k1).kind).toBe('unknown');
    expect(checkHostKey(entries, 'a.example.org', 22, k2).kind).toBe('known');
    expect(checkHostKey(entries, 'bad.example.org', 22, k2).kind).toBe('unknown');
    expect(checkHostKey(entries, '10.0.0.9', 2222, k2).kind).toBe('known');
    expect(checkHostKey(entries, '10.0.0.1', 22, k2)).toEqual({ kind: 'changed', lines: [2] });
    expect(knownHostsName('h', 22)).toBe('h');
  });

  test('a revoked key is refused even when also listed', () => {
    const entries = parseKnownHosts(`@revoked * ssh-ed25519 ${k1.toString('base64')}\nh ssh-ed25519 ${k1.toString('base64')}\n`);
    expect(checkHostKey(entries, 'h', 22, k1)).toEqual({ kind: 'revoked', line: 1 });
  });

  test('strict mode refuses unknown and changed keys with messages about the host key; accept-new records only unknown ones', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ak-kh-'));
    const file = path.join(dir, 'known_hosts');
    const strict = new KnownHosts(file, false);
    expect(strict.verify('10.0.0.5', 2200, k1)).toMatch(/^host key of \[10\.0\.0\.5\]:2200 is not in .*--accept-new/);
    const accept = new KnownHosts(file, true);
    expect(accept.verify('10.0.0.5', 2200, k1)).toBeUndefined();
    await accept.flush();
    expect(await fsp.readFile(file, 'utf8')).toBe(`[10.0.0.5]:2200 ssh-ed25519 ${k1.toString('base64')}\n`);
    const again = new KnownHosts(file, true);
    expect(again.verify('10.0.0.5', 2200, k1)).toBeUndefined();
    expect(again.verify('10.0.0.5', 2200, k2)).toMatch(/host key of \[10\.0\.0\.5\]:2200 has CHANGED.*known_hosts:1/);
  });
});
