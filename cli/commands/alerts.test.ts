import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dashedAlertIds } from './alerts';
import { run } from '../main';

// Alert ids are 22 characters of base64url: one in 64 starts with `-` (this one came from a CI run).
const DASHED = '-fdxUSX3rQbbl5q9F0hXu7';

describe('alert ids that start with "-"', () => {
  it('are moved after `--` for ack, close and reopen; option values and other commands are left as they are', () => {
    expect(dashedAlertIds(['alerts', 'close', DASHED, 'abc', '--note', '-a-note-of-22-chars-xx'])).toEqual(['alerts', 'close', 'abc', '--note', '-a-note-of-22-chars-xx', '--', DASHED]);
    expect(dashedAlertIds(['--json', 'alerts', 'ack', DASHED])).toEqual(['--json', 'alerts', 'ack', '--', DASHED]);
    expect(dashedAlertIds(['alerts', 'list', '--status', 'open'])).toEqual(['alerts', 'list', '--status', 'open']);
    expect(dashedAlertIds(['rules', 'test', DASHED])).toEqual(['rules', 'test', DASHED]);
    expect(dashedAlertIds(['alerts', 'close', '--', DASHED])).toEqual(['alerts', 'close', '--', DASHED]);
  });

  it('reach the command as ids, and an unreachable cluster is AK_ES_UNREACHABLE (exit 4), not a usage error or an internal one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-alerts-cli-'));
    const cwd = process.cwd();
    const write = process.stderr.write.bind(process.stderr);
    let stderr = '';
    process.stderr.write = ((s: string | Uint8Array): boolean => {
      stderr += String(s);
      return true;
    }) as typeof process.stderr.write;
    try {
      process.chdir(dir);
      const code = await run(['alerts', 'close', DASHED, '--es-url', 'http://127.0.0.1:1']);
      expect(stderr).toContain('[AK_ES_UNREACHABLE]');
      expect(code).toBe(4);
    } finally {
      process.stderr.write = write;
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
