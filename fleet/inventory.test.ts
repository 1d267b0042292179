import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../core';
import { loadInventoryFile } from './inventory';
import { resolveHosts, selectHosts } from './inventory';
import { inventoryConfigSchema } from './config';

async function tmpFile(name: string, text: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ak-inv-'));
  const f = path.join(dir, name);
  await fsp.writeFile(f, text, { mode: 0o600 });
  return f;
}

describe('inventory', () => {
  test('the smallest inventory of the issue validates and resolves', async () => {
    const f = await tmpFile(
      'auditkit.yml',
      'inventory:\n  hosts:\n    web01: { address: 10.0.0.21, port: 22, user: root, key: ~/.ssh/id_ed25519 }\n  groups:\n    web: { hosts: [web01] }\n',
    );
    const inv = await loadInventoryFile(f);
    const [h] = resolveHosts(inv);
    expect(h).toMatchObject({ name: 'web01', address: '10.0.0.21', port: 22, user: 'root', key: path.join(os.homedir(), '.ssh/id_ed25519'), sudo: false, groups: ['web'] });
  });

  test('every problem is reported at once with file:line and key path', async () => {
    const f = await tmpFile(
      'inv.yml',
      [
        'hosts:', //                      1
        '  web01:', //                    2
        '    address: 10.0.0.21', //      3
        '    prot: 22', //                4  unknown key
        '    password: hunter2', //       5  secrets are not allowed here
        '  db01: { port: 99999 }', //     6  out of range
        'groups:', //                     7
        '  web: { hosts: [web01, web02] }', // 8 unknown host
        '  all: { groups: [web, nope] }', //   9 unknown group
        '',
      ].join('\n'),
    );
    const err = await loadInventoryFile(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('AK_CONFIG_INVALID');
    const where = e.problems.map((p) => `${p.location?.line}:${p.path}`);
    expect(where).toEqual(expect.arrayContaining(['4:hosts.web01.prot', '5:hosts.web01.password', '6:hosts.db01.port', '8:groups.web.hosts.1', '9:groups.all.groups.1']));
    expect(e.message).toContain(`${f}:8:`);
    expect(e.message).toContain('unknown host "web02"');
  });

  test('nested groups cycle is an error naming the cycle', () => {
    const r = inventoryConfigSchema.safeParse({ hosts: { a: {} }, groups: { x: { groups: ['y'] }, y: { groups: ['x'], hosts: ['a'] } } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('groups nest in a cycle');
  });

  test('settings resolve defaults < outer group < inner group < host, and selection follows nested groups', () => {
    const inv = inventoryConfigSchema.parse({
      defaults: { user: 'deploy', port: 2222, collector: { heartbeat_interval_s: 60 } },
      hosts: { a: { port: 22 }, b: {}, c: { user: 'root' } },
      groups: { prod: { groups: ['web'], user: 'ops', collector: { poll_interval_ms: 500 } }, web: { hosts: ['a', 'b'], password_env: 'WEB_PW', collector: { heartbeat_interval_s: 10 } } },
    });
    const hs = Object.fromEntries(resolveHosts(inv).map((h) => [h.name, h]));
    expect(hs['a']).toMatchObject({ user: 'ops', port: 22, passwordEnv: 'WEB_PW', sudo: true, groups: ['prod', 'web'], collector: { heartbeat_interval_s: 10, poll_interval_ms: 500 } });
    expect(hs['b']).toMatchObject({ port: 2222 });
    expect(hs['c']).toMatchObject({ user: 'root', sudo: false, groups: [] });
    expect(selectHosts(inv, { groups: ['prod'] }).map((h) => h.name)).toEqual(['a', 'b']);
    expect(selectHosts(inv, { groups: ['web'], hosts: ['c'] }).map((h) => h.name)).toEqual(['a', 'b', 'c']);
    expect(() => selectHosts(inv, { groups: ['nope'] })).toThrow(expect.objectContaining({ code: 'AK_DEPLOY_SELECTION', message: expect.stringContaining('--group nope: no such group') }));
  });
});
