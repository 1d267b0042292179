/**
 * reports/: security reports by mail on a schedule. Aggregation queries
 * (data.ts), vega-lite charts as PNG (charts.ts), Handlebars HTML/text (render.ts),
 * nodemailer with retries (mailer.ts), node-cron scheduler (scheduler.ts).
 */
export * from './config';
export * from './time';
export * from './data';
export * from './charts';
export * from './render';
export * from './mailer';
export * from './report';
export * from './scheduler';
export { translator, MESSAGES } from './i18n';
export { queryPostureData, type PostureReport, type PostureFailingCheck, type PostureEvent, type PostureHostScore } from './posture';
