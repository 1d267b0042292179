/** cli/: the `auditkit` command. Tests drive it in-process through `run`. */
export { run } from './main';
export { configSchema, type AuditkitConfig } from './config-schema';
