import { validateDocument, assertValidDocument } from './validate';
import { documentId } from './ids';
import { streamName, namespaceProblem } from './streams';

const good = {
  '@timestamp': '2026-11-22T10:00:00.000Z',
  ecs: { version: '8.17.0' },
  event: { kind: 'event', category: ['process'], type: ['start'], action: 'executed', dataset: 'auditkit.commands', id: 'abc' },
  host: { name: 'web01', ip: ['10.0.0.21', '192.168.1.7'] },
  agent: { type: 'auditkit' },
  user: { name: 'alice', id: '1000' },
  process: { command_line: 'rm -rf /tmp/x', args: ['rm', '-rf', '/tmp/x'], pid: 42, exit_code: 0, entry_leader: { user: { name: 'bob' } } },
  source: { ip: '10.0.0.5', port: 50022 },
  auditkit: { tty: 'pts/0', session: { id: 's1', seq: 3 } },
  auditd: { anything: { goes: ['here'] } },
};

describe('validateDocument', () => {
  it('accepts a well-formed command event', () => {
    expect(validateDocument(good).problems).toEqual([]);
  });

  it('names every wrong field with what was expected and what was got', () => {
    const bad = {
      ...good,
      event: { ...good.event, category: ['proces'], outcome: 'ok' },
      source: { ip: 'not-an-ip' },
      process: { ...good.process, pid: '42', args: 'rm -rf' },
      user: { name: ['a', 'b'] },
      nonsense: 1,
      auditkit: { undeclared: true },
    };
    const r = validateDocument(bad);
    const byPath = Object.fromEntries(r.problems.map((p) => [p.path, p.message]));
    expect(r.valid).toBe(false);
    expect(byPath['event.category']).toMatch(/"proces" is not an allowed value/);
    expect(byPath['event.outcome']).toMatch(/"ok" is not an allowed value/);
    expect(byPath['source.ip']).toMatch(/expected an IP address/);
    expect(byPath['process.pid']).toMatch(/expected an integer, got string/);
    expect(byPath['user.name']).toMatch(/expected a single value, got an array/);
    expect(byPath['nonsense']).toMatch(/not an ECS field/);
    expect(byPath['auditkit.undeclared']).toMatch(/unknown kit field/);
    // process.args is an ECS array field, a plain string is still a string: accepted.
    expect(byPath['process.args']).toBeUndefined();
  });

  it('reports missing required fields', () => {
    const r = validateDocument({ '@timestamp': '2026-01-01T00:00:00Z' });
    expect(r.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['event.kind', 'event.id', 'host.name', 'agent.type', 'ecs.version']));
  });

  it('throws with every problem listed from assertValidDocument', () => {
    expect(() => assertValidDocument({ ...good, source: { ip: 'x' } })).toThrow(/source.ip: expected an IP address/);
  });
});

describe('document ids', () => {
  it('are deterministic and sensitive to every part', () => {
    expect(documentId('h', 'f', 1)).toBe(documentId('h', 'f', 1));
    expect(documentId('h', 'f', 1)).not.toBe(documentId('h', 'f', 2));
    expect(documentId('a|b', 'c')).not.toBe(documentId('a', 'b|c'));
    expect(documentId('a\u001fb')).not.toBe(documentId('a', 'b'));
    expect(documentId('x')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('stream names', () => {
  it('follow logs-<dataset>-<namespace>', () => {
    expect(streamName('commands')).toBe('logs-auditkit.commands-default');
    expect(streamName('alerts', 'prod')).toBe('logs-auditkit.alerts-prod');
  });
  it('reject namespaces Elasticsearch would refuse', () => {
    expect(namespaceProblem('prod')).toBeUndefined();
    expect(namespaceProblem('Prod')).toMatch(/lower case/);
    expect(namespaceProblem('a-b')).toMatch(/must not contain "-"/);
    expect(namespaceProblem('')).toMatch(/empty/);
  });
});
