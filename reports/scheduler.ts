/**
 * `auditkit report schedule`: one node-cron task per enabled definition, each in
 * its own IANA zone (node-cron computes the next local match, so 07:30 stays
 * 07:30 across DST). A run computes the last complete period in that zone,
 * builds the report and mails it (with the mailer's retries). Any failure is
 * logged and counted; it never stops the scheduler or the other definitions.
 */
import * as cron from 'node-cron';
import type { Logger } from '../core';
import type { ReportDefinition, ReportsConfig } from './config';
import { periodWindow, type ReportPeriod } from './time';

export interface ScheduledRun {
  readonly definition: string;
  readonly firedAt: number;
  readonly period: ReportPeriod;
  readonly ok: boolean;
  readonly error?: string;
  readonly skipped?: boolean;
}

export interface SchedulerOptions {
  readonly reports: ReportsConfig;
  readonly log: Logger;
  /** Build and send one report; throws on failure. Returns false when it was already sent (send log). */
  readonly run: (def: ReportDefinition, period: ReportPeriod, tz: string) => Promise<boolean | void>;
  readonly onRun?: (r: ScheduledRun) => void;
  readonly now?: () => number;
}

export interface Scheduler {
  readonly definitions: readonly string[];
  readonly runs: ScheduledRun[];
  nextRuns(name: string, count: number): Date[];
  stop(): Promise<void>;
}

export function definitionTimezone(def: ReportDefinition, reports: ReportsConfig): string {
  return def.timezone ?? reports.timezone;
}

export function startScheduler(opts: SchedulerOptions): Scheduler {
  const runs: ScheduledRun[] = [];
  const tasks = new Map<string, cron.ScheduledTask>();
  const now = opts.now ?? Date.now;
  for (const def of opts.reports.definitions) {
    if (!def.enabled) continue;
    const tz = definitionTimezone(def, opts.reports);
    const task = cron.schedule(
      def.cron,
      async () => {
        const firedAt = now();
        const period = periodWindow(def.period, firedAt, tz);
        let record: ScheduledRun;
        try {
          const sent = await opts.run(def, period, tz);
          record = { definition: def.name, firedAt, period, ok: true, ...(sent === false ? { skipped: true } : {}) };
          opts.log.info({ report: { name: def.name, from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() } }, sent === false ? 'report already sent for this period' : 'report sent');
        } catch (err) {
          record = { definition: def.name, firedAt, period, ok: false, error: (err as Error).message };
          opts.log.error({ err, report: { name: def.name } }, 'scheduled report failed; the scheduler keeps running');
        }
        runs.push(record);
        opts.onRun?.(record);
      },
      { timezone: tz, name: def.name, noOverlap: true },
    );
    tasks.set(def.name, task);
  }
  return {
    definitions: [...tasks.keys()],
    runs,
    nextRuns: (name, count) => tasks.get(name)?.getNextRuns(count) ?? [],
    async stop() {
      for (const t of tasks.values()) await t.destroy();
      tasks.clear();
    },
  };
}
