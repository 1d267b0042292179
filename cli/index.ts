/** cli/: the `auditkit` command. Tests drive it in-process through `run`. */
export { run } from './main';
export { configSchema } from './config-schema';
