/**
 * fleet/: what deploy and the bastion share: the inventory (hosts, groups, settings)
 * and the SSH connection layer (ssh2 client, strict known_hosts, auth, sudo).
 * Other units import only this file (and config.ts for the config schema).
 */
export { inventoryConfigSchema, type InventoryConfig, type InventoryHostConfig, type InventoryGroupConfig } from './config';
export { loadInventoryFile, groupMembers, resolveHosts, selectHosts, type ResolvedHost } from './inventory';
export { KnownHosts, connect, openClient, type ConnectCredentials, parseKnownHosts, knownHostsName, checkHostKey, sudoError, type ExecResult, type HostKeyVerdict, type KnownHostEntry, type SshSession } from './ssh';
export { createHostProgress, type HostProgress } from './progress';
