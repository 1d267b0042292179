import { z } from 'zod';

/** The `kibana:` section of auditkit.yml. Owned by dashboards/. */
export const kibanaConfigSchema = z
  .strictObject({
    url: z.url().optional(),
    api_key: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    space: z.string().optional(),
    ca_file: z.string().optional(),
    tls_verify: z.boolean().default(true),
  })
  .loose();
export type KibanaConfig = z.output<typeof kibanaConfigSchema>;
