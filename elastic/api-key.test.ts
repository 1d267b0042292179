import { BASTION_STATE_PATTERN, KEY_ROLES, roleDescriptors } from './api-key';

/** Elasticsearch index-name wildcards (only `*` is used in these patterns). */
const matches = (pattern: string, name: string): boolean => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(name);

describe('API key roles', () => {
  it('keep the bastion state (password hashes, TOTP seeds) away from the collector and reader roles', () => {
    for (const role of KEY_ROLES) {
      const names = Object.values(roleDescriptors(role)).flatMap((d) => d.indices.flatMap((i) => i.names));
      const reaches = names.some((n) => matches(n, 'auditkit-bastion-state') || matches(n, 'auditkit-bastion-state-prod'));
      expect([role, reaches]).toEqual([role, role === 'admin' || role === 'bastion']);
    }
    expect(matches(BASTION_STATE_PATTERN, 'logs-auditkit.sessions-default')).toBe(false);
  });
});
