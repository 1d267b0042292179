import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ERROR_CODES } from '../core';
import { errorEntries, errorsReference, findErrorEntry, formatErrorEntry } from './errors-reference';

describe('the error reference', () => {
  it('in docs/errors.md is the one generated from the catalogue (run `auditkit errors > docs/errors.md`)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../docs/errors.md'), 'utf8');
    expect(committed).toBe(errorsReference() + '\n');
  });

  it('lists every catalogued code once, with its exit code', () => {
    const ref = errorsReference();
    for (const code of Object.keys(ERROR_CODES)) expect(ref.split(`| \`${code}\` |`).length - 1).toBe(1);
    expect(ref).toContain('| `AK_ES_AUTH` | 5 auth |');
    expect(ref).toContain('| `AK_NDJSON_SYNTAX` | dead letter |');
    expect(errorEntries()).toHaveLength(Object.keys(ERROR_CODES).length);
  });

  it('finds a code as a user types it: any case, with or without AK_', () => {
    expect(findErrorEntry('AK_ES_AUTH')?.code).toBe('AK_ES_AUTH');
    expect(findErrorEntry('es_auth')?.code).toBe('AK_ES_AUTH');
    expect(findErrorEntry('shell_hook_listen')?.code).toBe('SHELL_HOOK_LISTEN');
    expect(findErrorEntry('AK_NOPE')).toBeUndefined();
  });

  it('prints one entry with its exit code, meaning and next step', () => {
    const e = findErrorEntry('AK_KIBANA_SPACE');
    expect(e && formatErrorEntry(e)).toBe(
      'AK_KIBANA_SPACE (exit 3 config)\n  The Kibana space to import into does not exist.\n  Next: Create it in Stack Management → Spaces (or POST /api/spaces/space), or pass another `--space`.',
    );
  });
});
