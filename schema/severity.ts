/**
 * Alert severities: one list, lowest first, for rules, alerts, reports and the
 * CLI. Comparisons ("high and above") use this order; ECS `event.severity` is
 * its 1-based rank.
 */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Most severe first: the order people read reports and summaries in. */
export const SEVERITIES_DESC: readonly Severity[] = [...SEVERITIES].reverse();

/** ECS event.severity is numeric: 1 low … 4 critical. */
export const SEVERITY_NUMBER: Readonly<Record<Severity, number>> = { low: 1, medium: 2, high: 3, critical: 4 };

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** `min` and every severity above it (`high` → high, critical). */
export function severitiesFrom(min: Severity): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(min));
}
