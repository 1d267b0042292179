import { getField } from '../../schema';
import { assertValidDocument } from '../../schema';
import { AuditbeatParser, convertAuditbeat } from './auditbeat';
import { linkedSessionId } from './session';

const CTX = { host: { name: 'collector-1', id: 'cid' }, agent: { type: 'auditkit' }, namespace: 'test', now: () => 0 };

// Shape of an Auditbeat 8.x auditd module event (file output), as documented in the Auditbeat
// auditd module's fields and sample event.
const AUDITD_EVENT = {
  '@timestamp': '2024-03-01T10:00:00.123Z',
  '@metadata': { beat: 'auditbeat', type: '_doc', version: '8.12.0' },
  agent: { type: 'auditbeat', version: '8.12.0', id: 'a1', name: 'web-1', ephemeral_id: 'e1' },
  ecs: { version: '8.0.0' },
  host: { name: 'web-1', id: 'h-web-1', hostname: 'web-1', architecture: 'x86_64' },
  event: { module: 'auditd', category: ['process'], type: ['start'], action: 'executed', outcome: 'success', kind: 'event' },
  service: { type: 'auditd' },
  user: {
    id: '0', name: 'root', group: { id: '0', name: 'root' },
    audit: { id: '1000', name: 'alice' },
    effective: { id: '0', name: 'root' },
    saved: { id: '0', name: 'root' },
    filesystem: { id: '0', name: 'root' },
  },
  process: { pid: 4242, parent: { pid: 4200 }, name: 'cat', executable: '/usr/bin/cat', args: ['cat', '/etc/shadow'], working_directory: '/root', title: 'cat /etc/shadow' },
  file: { path: '/usr/bin/cat', inode: '131', mode: '0755', uid: '0', gid: '0', owner: 'root', group: 'root', device: '00:00' },
  auditd: {
    message_type: 'syscall', sequence: 8972, result: 'success', session: '11',
    summary: { actor: { primary: 'alice', secondary: 'root' }, action: 'executed', object: { type: 'file', primary: '/usr/bin/cat' }, how: '/usr/bin/cat' },
    data: { syscall: 'execve', arch: 'x86_64', tty: 'pts0', a0: '1', exit: '0' },
    paths: [{ name: '/usr/bin/cat', nametype: 'NORMAL', inode: '131' }],
  },
  tags: ['exec'],
};

const SYSTEM_LOGIN = {
  '@timestamp': '2024-03-01T10:05:00.000Z',
  agent: { type: 'auditbeat', version: '8.12.0' },
  host: { name: 'web-1' },
  event: { module: 'system', dataset: 'login', kind: 'event', category: ['authentication'], type: ['start'], action: 'user_login', outcome: 'success' },
  user: { name: 'alice', id: 1000, terminal: 'pts/1' },
  source: { ip: '203.0.113.9' },
  process: { pid: '77' },
  system: { audit: { login: { type: 'user_login' } } },
};

describe('Auditbeat JSON input', () => {
  it('accepts an auditd module event, moves user.audit to the login user and routes it to the auditd dataset', () => {
    const r = convertAuditbeat(JSON.stringify(AUDITD_EVENT), CTX);
    if (!r.ok) throw new Error(r.message);
    const d = r.doc;
    assertValidDocument(d);
    expect(getField(d, 'event.dataset')).toBe('auditkit.auditd');
    expect(getField(d, 'data_stream.dataset')).toBe('auditkit.auditd');
    expect(getField(d, 'agent.type')).toBe('auditkit');
    expect(getField(d, 'auditd.auditbeat.agent.type')).toBe('auditbeat');
    expect(getField(d, 'process.entry_leader.user.name')).toBe('alice');
    expect(getField(d, 'process.entry_leader.user.id')).toBe('1000');
    expect(getField(d, 'user.audit')).toBeUndefined();
    expect(getField(d, 'process.saved_user.id')).toBe('0');
    expect(getField(d, 'auditd.user.filesystem.id')).toBe('0');
    expect(getField(d, 'host.name')).toBe('web-1');
    expect(getField(d, 'auditkit.source.format')).toBe('auditbeat');
    expect(getField(d, 'auditkit.session.id')).toBe(linkedSessionId('cid', '1000', '11'));
    expect(getField(d, 'service.type')).toBe('auditd');
    expect(getField(d, 'auditd.auditbeat.@metadata.beat')).toBe('auditbeat');
    expect(getField(d, 'event.id')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const again = convertAuditbeat(JSON.stringify(AUDITD_EVENT), CTX);
    expect(again.ok && getField(again.doc, 'event.id')).toBe(getField(d, 'event.id'));
  });

  it('accepts a system module login event, fixing types and moving non-ECS fields to auditd.auditbeat', () => {
    const r = convertAuditbeat(JSON.stringify(SYSTEM_LOGIN), CTX);
    if (!r.ok) throw new Error(r.message);
    assertValidDocument(r.doc);
    expect(getField(r.doc, 'user.id')).toBe('1000');
    expect(getField(r.doc, 'process.pid')).toBe(77);
    expect(getField(r.doc, 'auditkit.tty')).toBe('pts/1');
    expect(getField(r.doc, 'auditd.auditbeat.system.audit.login.type')).toBe('user_login');
    expect(getField(r.doc, 'auditd.auditbeat.event.dataset')).toBe('login');
  });

  it('unwraps an Elasticsearch export (_source)', () => {
    const r = convertAuditbeat(JSON.stringify({ _index: 'auditbeat-8', _id: 'x', _source: AUDITD_EVENT }), CTX);
    expect(r.ok).toBe(true);
  });

  it('refuses what is not an Auditbeat event with a coded, located error', () => {
    const p = new AuditbeatParser(CTX);
    const origin = { file: 'beat.ndjson', fileId: 'b', offset: 10, end: 20, line: 2 };
    expect(p.push({ text: '{not json', origin })[0]).toMatchObject({ kind: 'error', code: 'AUDITBEAT_BAD_JSON' });
    const other = p.push({ text: '{"@timestamp":"2024-01-01T00:00:00Z","event":{"module":"nginx"}}', origin })[0];
    expect(other).toMatchObject({ kind: 'error', code: 'AUDITBEAT_NOT_AUDITBEAT' });
    expect(other?.kind === 'error' && other.message).toBe('beat.ndjson:2 (offset 10): expected an Auditbeat event (event.module "auditd" or "system"), got a JSON value without it; the line was skipped');
    expect(p.push({ text: '{"event":{"module":"auditd"}}', origin })[0]).toMatchObject({ kind: 'error', code: 'AUDITBEAT_NO_TIMESTAMP' });
    expect(p.push({ text: '   ', origin })).toEqual([]);
  });
});

describe('Auditbeat keys that name object internals', () => {
  test('__proto__, constructor and prototype keys never reach Object.prototype', () => {
    const line = JSON.stringify({ '@timestamp': '2026-01-01T00:00:00Z', event: { module: 'auditd', action: 'executed' }, auditd: { data: { syscall: 'execve' } }, host: { name: 'h' } })
      .replace(/}$/, ',"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted2":"yes"}},"x":{"__proto__":{"polluted3":"yes"}}}');
    const base = JSON.stringify(AUDITD_EVENT).replace(/}$/, ',"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted2":"yes"}},"x":{"__proto__":{"polluted3":"yes"}}}');
    for (const text of [line, base]) {
      const r = convertAuditbeat(text, CTX);
      if (r.ok) assertValidDocument(r.doc);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['polluted2']).toBeUndefined();
    expect(({} as Record<string, unknown>)['polluted3']).toBeUndefined();
  });
  test('a top-level key named like an Object.prototype member is a field like any other, not a rename', () => {
    const r = convertAuditbeat(JSON.stringify({ ...AUDITD_EVENT, toString: 'x', valueOf: 'y' }), CTX);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    assertValidDocument(r.doc);
    expect([getField(r.doc, 'auditd.auditbeat.toString'), getField(r.doc, 'auditd.auditbeat.valueOf')]).toEqual(['x', 'y']);
  });
});
