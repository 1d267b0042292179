/**
 * deploy/: packaging the collector and installing, upgrading, checking and removing
 * it on hosts over fleet/'s SSH layer. Other units import only this file.
 */
export { runDeploy, detectSecurity, hostRoot, type DeployMode, type DeployOptions, type HostResult } from './deploy';
export { buildPackage, COLLECTOR_NODE_FLAGS, INSTALL, type CollectorPackage } from './package';
export { COLLECTOR_ENV, LAUNCHER_VALUE_OPTIONS } from './package';
export { hostConfigFiles } from './install';
