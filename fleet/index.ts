/**
 * fleet/: what deploy and the bastion share: the inventory (hosts, groups, settings)
 * and the SSH connection layer (ssh2 client, strict known_hosts, auth, sudo).
 * Other units import only this file (and config.ts for the config schema).
 */
export { inventoryConfigSchema, type InventoryConfig } from './config';
export { loadInventoryFile, groupMembers, resolveHosts, selectHosts, type ResolvedHost } from './inventory';
export { KnownHosts, connect, openClient, type ExecResult, type SshSession } from './ssh';
export { createHostProgress } from './progress';
