import { z } from 'zod';

/** The `reports:` and `smtp:` sections of auditkit.yml. Owned by reports/. */
export const reportsConfigSchema = z.strictObject({}).loose();
export type ReportsConfig = z.output<typeof reportsConfigSchema>;

export const smtpConfigSchema = z
  .strictObject({
    host: z.string().min(1).optional(),
    port: z.number().int().positive().optional(),
    secure: z.boolean().default(false).describe('TLS from the first byte (port 465); false: STARTTLS when offered.'),
    require_tls: z.boolean().default(true).describe('Refuse to send without STARTTLS/TLS.'),
    tls_verify: z.boolean().default(true),
    username: z.string().optional(),
    password: z.string().optional(),
    from: z.string().optional(),
  })
  .loose();
export type SmtpConfig = z.output<typeof smtpConfigSchema>;
