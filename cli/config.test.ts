import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configSchema } from './config-schema';
import { AuditkitError, ConfigError, envVarName, loadConfig, redactConfig } from '../core';


const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-config-'));
function write(name: string, text: string, mode = 0o600): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

describe('loadConfig', () => {
  it('gives defaults with no file', async () => {
    const { value } = await loadConfig(configSchema, { env: {} });
    expect(value.elasticsearch.namespace).toBe('default');
    expect(value.elasticsearch.tls_verify).toBe(true);
    expect(value.elasticsearch.retention.commands).toBe('365d');
    expect(Object.isFrozen(value.elasticsearch)).toBe(true);
  });

  it('reports every problem at once with file, line and key path', async () => {
    const file = write(
      'bad.yml',
      ['elasticsearch:', '  url: not a url', '  namespace: Bad-NS', '  tls_verfy: false', '  request_timeout_ms: -5', 'smtp:', '  port: "x"', 'bogus: 1', ''].join('\n'),
    );
    const err = await loadConfig(configSchema, { file, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.code).toBe('AK_CONFIG_INVALID');
    const byPath = new Map(ce.problems.map((p) => [p.path, p]));
    expect(byPath.get('elasticsearch.url')?.location).toEqual({ file, line: 2, col: 8 });
    expect(byPath.get('elasticsearch.namespace')?.location?.line).toBe(3);
    expect(byPath.get('elasticsearch.tls_verfy')?.message).toMatch(/unknown key/);
    expect(byPath.get('elasticsearch.tls_verfy')?.location?.line).toBe(4);
    expect(byPath.get('elasticsearch.request_timeout_ms')?.location?.line).toBe(5);
    expect(byPath.get('smtp.port')?.location?.line).toBe(7);
    expect(byPath.get('bogus')?.location?.line).toBe(8);
    expect(ce.message).toContain(`${file}:2:8: elasticsearch.url:`);
    expect(ce.problems.length).toBe(6);
    // In file order, a suggestion for the misspelt key, and a hint to a command that works on a broken file.
    const lines = ce.problems.map((p) => p.location?.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(byPath.get('elasticsearch.tls_verfy')?.message).toMatch(/did you mean `tls_verify`\?/);
    expect(byPath.get('bogus')?.message).not.toMatch(/did you mean/);
    expect(byPath.get('bogus')?.message).toMatch(/auditkit config reference/);
  });

  it('takes the hook login memory\'s per-account budget from collector.hook_logins, and names file, line and key of a bad one', async () => {
    const ok = write('hook-logins.yml', ['collector:', '  hook_logins:', '    per_uid: 256', ''].join('\n'));
    const { value } = await loadConfig(configSchema, { file: ok, env: {} });
    expect(value.collector.hook_logins).toEqual({ per_uid: 256, max_logins: 10_000 });
    const file = write('hook-logins-bad.yml', ['collector:', '  hook_logins:', '    per_uid: 0', '    max_logins: many', ''].join('\n'));
    const err = (await loadConfig(configSchema, { file, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.code).toBe('AK_CONFIG_INVALID');
    const byPath = new Map(err.problems.map((p) => [p.path, p]));
    expect([byPath.get('collector.hook_logins.per_uid')?.location?.line, byPath.get('collector.hook_logins.max_logins')?.location?.line]).toEqual([3, 4]);
    expect(err.message).toContain(`${file}:3:14: collector.hook_logins.per_uid:`);
  });

  it('names the line of a YAML syntax error', async () => {
    const file = write('syntax.yml', 'elasticsearch:\n  url: [unclosed\n');
    const err = (await loadConfig(configSchema, { file, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.code).toBe('AK_CONFIG_INVALID');
    expect(err.message).toMatch(/YAML syntax/);
    expect(err.problems[0]?.location?.file).toBe(file);
  });

  it('applies AUDITKIT_* environment overrides to any key, typed', async () => {
    const file = write('env.yml', 'elasticsearch:\n  url: http://a:9200\n');
    const { value, envApplied } = await loadConfig(configSchema, {
      file,
      env: { AUDITKIT_ELASTICSEARCH_URL: 'http://b:9200', AUDITKIT_ELASTICSEARCH_MAX_RETRIES: '7', AUDITKIT_ELASTICSEARCH_RETENTION_ALERTS: '30d' },
    });
    expect(value.elasticsearch.url).toBe('http://b:9200');
    expect(value.elasticsearch.max_retries).toBe(7);
    expect(value.elasticsearch.retention.alerts).toBe('30d');
    expect(envApplied).toContain('AUDITKIT_ELASTICSEARCH_URL');
    expect(envVarName(['elasticsearch', 'api_key'])).toBe('AUDITKIT_ELASTICSEARCH_API_KEY');
  });

  it('says which environment variable held a bad value', async () => {
    const err = (await loadConfig(configSchema, { env: { AUDITKIT_ELASTICSEARCH_MAX_RETRIES: 'many' } }).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems[0]?.message).toMatch(/from AUDITKIT_ELASTICSEARCH_MAX_RETRIES/);
  });

  it('refuses a group- or world-readable file that holds secrets', async () => {
    const file = write('secret.yml', 'elasticsearch:\n  url: http://a:9200\n  api_key: c2VjcmV0\n', 0o644);
    const err = (await loadConfig(configSchema, { file, env: {} }).catch((e: unknown) => e)) as AuditkitError;
    expect(err.code).toBe('AK_CONFIG_PERMISSIONS');
    expect(err.message).toMatch(/readable by group or others \(mode 644\).*chmod 600/);
    chmodSync(file, 0o600);
    await expect(loadConfig(configSchema, { file, env: {} })).resolves.toBeDefined();
  });

  it('accepts a world-readable file without secrets', async () => {
    const file = write('public.yml', 'elasticsearch:\n  url: http://a:9200\n', 0o644);
    await expect(loadConfig(configSchema, { file, env: {} })).resolves.toBeDefined();
  });

  it('rejects api_key together with a password', async () => {
    const err = (await loadConfig(configSchema, { env: { AUDITKIT_ELASTICSEARCH_API_KEY: 'k', AUDITKIT_ELASTICSEARCH_USERNAME: 'u', AUDITKIT_ELASTICSEARCH_PASSWORD: 'p' } }).catch((e: unknown) => e)) as ConfigError;
    expect(err.message).toMatch(/either api_key or username\/password/);
  });

  it('says so plainly when the file is missing', async () => {
    const err = (await loadConfig(configSchema, { file: path.join(dir, 'nope.yml'), env: {} }).catch((e: unknown) => e)) as AuditkitError;
    expect(err.code).toBe('AK_CONFIG_READ');
    expect(err.message).toMatch(/nope.yml: config file not found/);
  });

  it('redacts secrets for printing', () => {
    expect(redactConfig({ elasticsearch: { api_key: 'x', url: 'u' }, smtp: { password: 'p' } })).toEqual({ elasticsearch: { api_key: '[redacted]', url: 'u' }, smtp: { password: '[redacted]' } });
  });
});

describe('the kibana: section in auditkit.yml', () => {
  it('takes every key from AUDITKIT_KIBANA_* environment variables', async () => {
    const { value, envApplied } = await loadConfig(configSchema, { env: { AUDITKIT_KIBANA_URL: 'https://kibana.example:5601', AUDITKIT_KIBANA_SPACE: 'secops', AUDITKIT_KIBANA_TLS_VERIFY: 'false' } });
    expect(value.kibana).toMatchObject({ url: 'https://kibana.example:5601', space: 'secops', tls_verify: false });
    expect(envApplied).toEqual(expect.arrayContaining(['AUDITKIT_KIBANA_URL', 'AUDITKIT_KIBANA_SPACE', 'AUDITKIT_KIBANA_TLS_VERIFY']));
  });
});

describe('an auditkit.yml with an alias bomb', () => {
  it('is a configuration problem with the file named (exit 3), not an internal error', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const file = write('bomb.yml', lines.join('\n') + '\n');
    const err = (await loadConfig(configSchema, { file, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/bomb\.yml.*aliases may expand at most 100 times/s);
  });
});
