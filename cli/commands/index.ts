import type { AuditkitCommand } from '../context';
import { configCommand, validateCommand } from './config';
import { dashboardsCommand } from './dashboards';
import { deployCommand } from './deploy';
import { devCommand } from './dev';
import { setupCommand } from './setup';
import { notBuilt } from './stubs';

/**
 * Every command of the CLI, in --help order. One literal array: replace a
 * `notBuilt(...)` line with the real command when it lands.
 */
export const COMMANDS: readonly AuditkitCommand[] = [
  setupCommand,
  devCommand,
  notBuilt('collect', 'Run the host agent (collector)'),
  notBuilt('ingest <files..>', 'Backfill files through the collector pipeline, with progress'),
  notBuilt('rules <action>', 'Detection rules: list|validate|test|import-sigma|run'),
  notBuilt('alerts <action>', 'Alerts: list [--since 24h] [--severity high]'),
  notBuilt('report <action>', 'Security reports: run|preview|schedule'),
  dashboardsCommand,
  deployCommand,
  notBuilt('demo', 'The whole pipeline on the embedded local Elasticsearch'),
  validateCommand,
  configCommand,
];
