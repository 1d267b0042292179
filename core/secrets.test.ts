import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { loadConfig } from './config';
import { containsSecret, redactConfig, redactUrl } from './secrets';

const SECRETS = ['pw-in-url', 'T000/B000/slacktoken', 'ding-token', 'wecom-key', 'Bearer abc', 'xapikey'];
const config = {
  elasticsearch: { url: 'https://elastic:pw-in-url@es.example.com:9200', namespace: 'prod' },
  rules: {
    notify: {
      webhooks: [
        { name: 'slack', url: 'https://hooks.slack.com/services/T000/B000/slacktoken', headers: {} },
        { name: 'ding', url: 'https://oapi.dingtalk.com/robot/send?access_token=ding-token', headers: { Authorization: 'Bearer abc', 'X-Api-Key': 'xapikey' } },
        { name: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key', headers: {} },
      ],
    },
  },
};

describe('secrets beyond keys named password', () => {
  test('config print shows none of: URL credentials, webhook URL tokens, webhook headers', () => {
    const printed = JSON.stringify(redactConfig(config));
    for (const s of SECRETS) expect(printed).not.toContain(s);
    expect(printed).toContain('https://elastic:[redacted]@es.example.com:9200');
    expect(printed).toContain('https://hooks.slack.com/[redacted]');
  });

  test('each of them alone makes the file a secret-holding file', () => {
    expect(containsSecret({ elasticsearch: { url: 'https://u:p@h:9200' } })).toBe(true);
    expect(containsSecret({ rules: { notify: { webhooks: [{ url: 'https://hooks.slack.com/services/a/b/c' }] } } })).toBe(true);
    expect(containsSecret({ x: { headers: { Authorization: 'Bearer y' } } })).toBe(true);
    expect(containsSecret({ elasticsearch: { url: 'https://es:9200', namespace: 'n' } })).toBe(false);
  });

  test('a group-readable file holding only a URL with a password is refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ak-secrets-'));
    try {
      const file = path.join(dir, 'auditkit.yml');
      writeFileSync(file, 'elasticsearch:\n  url: https://elastic:pw@es:9200\n');
      chmodSync(file, 0o644);
      const schema = z.object({ elasticsearch: z.object({ url: z.string() }) });
      await expect(loadConfig(schema, { file, env: {} })).rejects.toMatchObject({ code: 'AK_CONFIG_PERMISSIONS' });
      chmodSync(file, 0o600);
      await expect(loadConfig(schema, { file, env: {} })).resolves.toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('redactUrl leaves plain URLs alone', () => {
    expect(redactUrl('https://es.example.com:9200/')).toBe('https://es.example.com:9200/');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
