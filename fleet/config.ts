import { z } from 'zod';

/**
 * The `inventory:` section of auditkit.yml (or of a separate inventory YAML given
 * with `--inventory FILE`). Owned by collectors/deploy/. Strict: an unknown key is
 * an error with its file:line (core/config.ts locates every issue by its path).
 *
 * Settings resolve most specific last: `defaults` < groups (outer group before
 * the groups nested in it) < the host itself. Secrets never live here: a password
 * is named by the environment variable that holds it (`password_env`).
 */

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a name of letters, digits, ".", "_" or "-"');

/** Connection and install settings that a host, a group or `defaults` may set. */
const settingsShape = {
  port: z.number().int().min(1).max(65535).optional().describe('SSH port (default 22).'),
  user: z.string().min(1).optional().describe('Login user (default root); sudo is used when it is not root.'),
  key: z.string().min(1).optional().describe('Private key file (~ expanded).'),
  agent: z.union([z.boolean(), z.string().min(1)]).optional().describe('Use the SSH agent: true ($SSH_AUTH_SOCK) or a socket path.'),
  password_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the NAME of an environment variable holding the password')
    .optional()
    .describe('Environment variable holding the login password (also the sudo password unless sudo_password_env is set).'),
  sudo_password_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the NAME of an environment variable holding the sudo password')
    .optional()
    .describe('Environment variable holding the sudo password of a non-root login (for key or agent logins whose sudo asks for a password).'),
  sudo: z.boolean().optional().describe('Force sudo on or off (default: on when user is not root).'),
  connect_timeout_ms: z.number().int().positive().optional(),
  collector: z.record(z.string(), z.unknown()).optional().describe('Overrides of the `collector:` section for these hosts.'),
} as const;

export const inventoryHostSchema = z.strictObject({
  address: z.string().min(1).optional().describe('Host name or IP to connect to (default: the host\'s name).'),
  tags: z.array(name).default([]),
  ...settingsShape,
});

export const inventoryGroupSchema = z.strictObject({
  hosts: z.array(name).default([]).describe('Hosts in this group.'),
  groups: z.array(name).default([]).describe('Nested groups: their hosts are members too; this group\'s settings apply to them first.'),
  ...settingsShape,
});

export const inventorySettingsSchema = z.strictObject(settingsShape);

export const inventoryConfigSchema = z
  .strictObject({
    defaults: inventorySettingsSchema.prefault({}),
    hosts: z.record(name, inventoryHostSchema).default({}),
    groups: z.record(name, inventoryGroupSchema).default({}),
  })
  .superRefine((inv, ctx) => {
    for (const [g, group] of Object.entries(inv.groups)) {
      group.hosts.forEach((h, i) => {
        if (!(h in inv.hosts)) ctx.addIssue({ code: 'custom', path: ['groups', g, 'hosts', i], message: `unknown host "${h}": declare it under inventory.hosts` });
      });
      group.groups.forEach((child, i) => {
        if (!(child in inv.groups)) ctx.addIssue({ code: 'custom', path: ['groups', g, 'groups', i], message: `unknown group "${child}": declare it under inventory.groups` });
      });
      if (g in inv.hosts) ctx.addIssue({ code: 'custom', path: ['groups', g], message: `"${g}" is both a host and a group: rename one so --host/--group stay unambiguous` });
    }
    // Cycles in nesting would make membership infinite.
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (g: string, trail: string[]): void => {
      if (state.get(g) === 'done') return;
      if (state.get(g) === 'visiting') {
        ctx.addIssue({ code: 'custom', path: ['groups', g, 'groups'], message: `groups nest in a cycle: ${[...trail, g].join(' → ')}` });
        return;
      }
      state.set(g, 'visiting');
      for (const c of inv.groups[g]?.groups ?? []) if (c in inv.groups) visit(c, [...trail, g]);
      state.set(g, 'done');
    };
    for (const g of Object.keys(inv.groups)) visit(g, []);
  });

export type InventoryConfig = z.output<typeof inventoryConfigSchema>;
export type InventoryHostConfig = z.output<typeof inventoryHostSchema>;
export type InventoryGroupConfig = z.output<typeof inventoryGroupSchema>;
