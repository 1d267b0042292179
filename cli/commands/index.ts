import type { AuditkitCommand } from '../context';
import { configCommand, validateCommand } from './config';
import { dashboardsCommand } from './dashboards';
import { deployCommand } from './deploy';
import { devCommand } from './dev';
import { reportCommand } from './report';
import { setupCommand } from './setup';
import { rulesCommand } from './rules';
import { alertsCommand } from './alerts';
import { collectCommand } from './collect';
import { ingestCommand } from './ingest';
import { demoCommand } from './demo';

/** Every command of the CLI, in --help order. One literal array. */
export const COMMANDS: readonly AuditkitCommand[] = [
  setupCommand,
  devCommand,
  collectCommand,
  ingestCommand,
  rulesCommand,
  alertsCommand,
  reportCommand,
  dashboardsCommand,
  deployCommand,
  demoCommand,
  validateCommand,
  configCommand,
];
