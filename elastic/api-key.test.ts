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

  it('let the triage role read and update alerts and nothing else', () => {
    const d = roleDescriptors('triage');
    const all = Object.values(d);
    expect(all.flatMap((x) => x.cluster)).toEqual([]);
    const names = all.flatMap((x) => x.indices.flatMap((i) => i.names));
    expect(names.every((n) => matches(n, 'logs-auditkit.alerts-prod') && !matches(n, 'logs-auditkit.commands-prod'))).toBe(true);
    const privs = all.flatMap((x) => x.indices.flatMap((i) => i.privileges));
    for (const p of ['all', 'write', 'delete', 'manage', 'delete_index', 'create_index']) expect(privs).not.toContain(p);
    expect(privs).toEqual(expect.arrayContaining(['read', 'index']));
  });
});
