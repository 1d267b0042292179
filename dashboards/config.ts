import { z } from 'zod';

/**
 * Kibana space ids: lower-case letters, digits, `_` and `-` (what Kibana's spaces
 * API accepts for an id). `default` is the default space.
 */
export const SPACE_ID = /^[a-z0-9_-]+$/;

/** The `kibana:` section of auditkit.yml. Owned by dashboards/. */
export const kibanaConfigSchema = z
  .strictObject({
    url: z.url().optional().describe('Kibana base URL, e.g. https://kibana.example:5601 (with its base path if any). Unset: `setup all` skips Kibana.'),
    api_key: z.string().min(1).optional().describe('API key (base64 "id:key", the `encoded` value Elasticsearch returns); sent as `Authorization: ApiKey …`.'),
    username: z.string().min(1).optional().describe('Basic auth user (prefer api_key).'),
    password: z.string().min(1).optional().describe('Basic auth password.'),
    space: z
      .string()
      .regex(SPACE_ID, 'expected a Kibana space id: lower-case letters, digits, _ and -')
      .default('default')
      .describe('Kibana space to install the dashboards into (`--space` overrides).'),
    ca_file: z.string().min(1).optional().describe('PEM CA certificate file to verify Kibana with.'),
    tls_verify: z.boolean().default(true).describe('Verify TLS certificates. Turning this off is insecure.'),
    request_timeout_ms: z.number().int().positive().default(30_000),
  })
  .superRefine((v, ctx) => {
    if (v.api_key && (v.username || v.password)) ctx.addIssue({ code: 'custom', message: 'set either api_key or username/password, not both', path: ['api_key'] });
    if ((v.username && !v.password) || (!v.username && v.password)) ctx.addIssue({ code: 'custom', message: 'username and password go together', path: [v.username ? 'password' : 'username'] });
  });
export type KibanaConfig = z.output<typeof kibanaConfigSchema>;
