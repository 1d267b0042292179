/**
 * Sending a report: nodemailer over SMTP with STARTTLS (secure:false +
 * requireTLS) or implicit TLS (secure:true), auth, several recipients. Nodemailer
 * does not re-queue, so temporary failures (4xx replies, connection errors,
 * timeouts) are retried here with exponential backoff; permanent ones (5xx,
 * auth refused) fail at once. Certificate verification stays on unless the
 * config turns it off explicitly.
 */
import nodemailer from 'nodemailer';
import { AuditkitError, ExitCode, isTemporary, sleep, transportOptions, type Logger, type SmtpConfig, silentLogger } from '../core';
import type { RenderedReport } from './render';

export interface MailAttachment {
  readonly filename: string;
  readonly content: Buffer | string;
  readonly contentType: string;
  readonly cid?: string;
}

export interface ReportMail {
  readonly to: readonly string[];
  readonly cc?: readonly string[];
  readonly report: RenderedReport;
  readonly attachments?: readonly MailAttachment[];
  /** Stable Message-ID part (report name + period), so a resend is recognisable. */
  readonly idempotencyKey?: string;
}

export interface SendResult {
  readonly messageId: string;
  readonly accepted: readonly string[];
  readonly rejected: readonly string[];
  readonly attempts: number;
}

export async function sendReport(cfg: SmtpConfig, mail: ReportMail, opts: { log?: Logger; sleepFn?: (ms: number) => Promise<void> } = {}): Promise<SendResult> {
  const log = opts.log ?? silentLogger;
  const wait = opts.sleepFn ?? ((ms: number) => sleep(ms));
  const transport = nodemailer.createTransport(transportOptions(cfg));
  const from = cfg.from ?? (cfg.username && cfg.username.includes('@') ? cfg.username : `auditkit@${cfg.host ?? 'localhost'}`);
  const message = {
    from,
    to: [...mail.to],
    ...(mail.cc && mail.cc.length > 0 ? { cc: [...mail.cc] } : {}),
    subject: mail.report.subject,
    text: mail.report.text,
    html: mail.report.html,
    ...(mail.idempotencyKey ? { messageId: `<${mail.idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '.')}@auditkit>` } : {}),
    attachments: [
      ...mail.report.charts.map((c) => ({ filename: c.filename, content: c.png, contentType: 'image/png', cid: c.cid, contentDisposition: 'inline' as const })),
      ...(mail.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType, ...(a.cid ? { cid: a.cid } : {}) })),
    ],
  };
  let attempt = 0;
  try {
    for (;;) {
      attempt++;
      try {
        const info = await transport.sendMail(message);
        log.info({ smtp: { host: cfg.host, attempts: attempt }, email: { message_id: info.messageId } }, 'report mail sent');
        return { messageId: info.messageId, accepted: info.accepted.map(String), rejected: info.rejected.map(String), attempts: attempt };
      } catch (err) {
        const temporary = isTemporary(err);
        if (!temporary || attempt > cfg.retries) {
          const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
          const what = e.responseCode ? `the server replied ${e.response ?? e.responseCode}` : `${e.code ?? 'error'}: ${e.message ?? String(err)}`;
          throw new AuditkitError(
            e.code === 'EAUTH' ? 'AK_SMTP_AUTH' : 'AK_SMTP_SEND',
            `could not send the report to ${mail.to.join(', ')} through ${cfg.host ?? '?'}:${cfg.port ?? ''} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${what}; ${temporary ? 'check that the server is reachable' : 'check smtp.username/password, smtp.from and the recipients'}`,
            { cause: err, exitCode: e.code === 'EAUTH' ? ExitCode.Auth : ExitCode.Unavailable },
          );
        }
        const delay = cfg.retry_delay_ms * 2 ** (attempt - 1);
        log.warn({ err, smtp: { host: cfg.host, attempt, retry_in_ms: delay } }, 'report mail failed, retrying');
        await wait(delay);
      }
    }
  } finally {
    transport.close();
  }
}
