/**
 * SMTP: the `smtp:` config section and the transport options built from it. Both the
 * report mailer (reports/) and alert mail (rules/ notifiers) send through them, so the
 * TLS floor, certificate verification, CA file and timeouts are decided once, here.
 */
import { readFileSync } from 'node:fs';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { z } from 'zod';
import { AuditkitError, ExitCode } from './errors';

const email = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'expected an e-mail address like ops@example.com');

/** The `smtp:` section of auditkit.yml. */
export const smtpConfigSchema = z
  .strictObject({
    host: z.string().min(1).optional().describe('SMTP server. Required for --send and the scheduler.'),
    port: z.number().int().positive().max(65535).optional().describe('Default: 465 with secure, else 587.'),
    secure: z.boolean().default(false).describe('TLS from the first byte (port 465); false: STARTTLS.'),
    require_tls: z.boolean().default(true).describe('Refuse to send unless STARTTLS succeeds (ignored with secure: true).'),
    tls_verify: z.boolean().default(true).describe('Verify the server certificate. Turning this off is insecure.'),
    ca_file: z.string().min(1).optional().describe('PEM CA file to verify the server with (private CAs).'),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    from: email.or(z.string().regex(/^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/, 'expected "Name <addr@example.com>" or an address')).optional().describe('From: address.'),
    retries: z.number().int().min(0).max(10).default(3).describe('Retries after a temporary failure (4xx reply or connection error).'),
    retry_delay_ms: z.number().int().min(0).default(2000).describe('First backoff delay; doubles on every retry.'),
    timeout_ms: z.number().int().positive().default(30_000),
  })
  .superRefine((v, ctx) => {
    if ((v.username && !v.password) || (!v.username && v.password)) ctx.addIssue({ code: 'custom', message: 'username and password go together', path: [v.username ? 'password' : 'username'] });
  });
export type SmtpConfig = z.output<typeof smtpConfigSchema>;

export function transportOptions(cfg: SmtpConfig): SMTPTransport.Options {
  if (!cfg.host) throw new AuditkitError('AK_SMTP_CONFIG', 'smtp.host is not set: add an smtp: section to auditkit.yml (host, port, username, password, from)', { exitCode: ExitCode.Config });
  const port = cfg.port ?? (cfg.secure ? 465 : 587);
  return {
    host: cfg.host,
    port,
    secure: cfg.secure,
    requireTLS: !cfg.secure && cfg.require_tls,
    ...(cfg.username && cfg.password ? { auth: { user: cfg.username, pass: cfg.password } } : {}),
    tls: { minVersion: 'TLSv1.2', rejectUnauthorized: cfg.tls_verify, ...(cfg.ca_file ? { ca: readFileSync(cfg.ca_file) } : {}), servername: cfg.host },
    connectionTimeout: cfg.timeout_ms,
    greetingTimeout: cfg.timeout_ms,
    socketTimeout: cfg.timeout_ms,
  };
}

/** A 4xx reply or a network-level failure: worth another try. */
export function isTemporary(err: unknown): boolean {
  const e = err as { responseCode?: number; code?: string; command?: string; message?: string };
  // A certificate that does not verify will not verify on the next try either.
  if (/certificate|self[- ]signed/i.test(e.message ?? '')) return false;
  if (typeof e.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  return ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'ECONNREFUSED', 'ECONNRESET', 'EDNS', 'EHOSTUNREACH', 'EPIPE'].includes(e.code ?? '') || e.code === undefined;
}
