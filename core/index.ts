export * from './errors';
export * from './log';
export * from './progress';
export * from './fsutil';
export * from './config';
export * from './version';
export { sleep, parseDuration, DURATION_PATTERN } from './time';
