import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { configReference } from './config-reference';

describe('the configuration reference', () => {
  it('in docs/configuration.md is the one generated from the schemas (run `auditkit config reference > docs/configuration.md`)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../docs/configuration.md'), 'utf8');
    expect(committed).toBe(configReference() + '\n');
  });

  it('names every section and an environment variable for plain keys', () => {
    const ref = configReference();
    for (const s of ['elasticsearch', 'kibana', 'collector', 'rules', 'reports', 'smtp', 'inventory']) expect(ref).toContain(`## ${s}`);
    expect(ref).toContain('`AUDITKIT_ELASTICSEARCH_API_KEY`');
  });
});
