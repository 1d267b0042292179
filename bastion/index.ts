/**
 * bastion/: the SSH bastion. The access model (users, grants over the inventory's
 * hosts and groups), its state store, the ssh2 door and proxy, recordings, and the
 * documents it emits. Other units import only this file (and config.ts).
 */
export { bastionConfigSchema, type BastionConfig } from './config';
export {
  hashPassword,
  verifyPassword,
  passwordProblem,
  newTotpSecret,
  totpUri,
  totpCode,
  verifyTotp,
  normalisePublicKey,
  cidrProblem,
  parseTimeWindow,
  resolveTargets,
  grantActive,
  NAME_RE,
  type BastionUser,
  type Grant,
  type BastionState,
  type Target,
} from './access';
export { esStateStore, fileStateStore, type StateStore, type StateSnapshot } from './state';
export { startBastion, liveDir, recordingsDir, loadHostKey, type Bastion, type BastionOptions, type DoorApi, type EventSink, type LiveSession, type SessionPeer } from './server';
export { startWebPortal, loadWebCertificate, taskView, type PastSession, type TaskView, type WebPortal } from './web';
export { esTokenStore, fileTokenStore, type TokenStore, type TerminalToken } from './tokens';
export { playCast, readCast, findRecording, type CastEvent, type CastHeader } from './recording';
export { safeText } from './menu';
export type { BastionDataset } from './events';
export { taskStartDoc, taskResultDoc, taskEventContext } from './events';
export { createTaskRunner, serveControl, askControl, TaskError, type TaskRunner, type TaskState } from './batch';
export { ALLOW_ALL, type CommandExtractor, type ExtractedCommand, type ExtractorFactory, type Guard, type GuardVerdict } from './seams';
export { addUser, setUserDisabled, setPassword, enrollTotp, addGrant, revokeGrant, type NewUser, type NewGrant } from './admin';
export { createGuard, DEFAULT_GUARD_POLICY, type GuardPolicyConfig } from './guard';
export { createCommandExtractor } from './extract';
export { portalBaseUrl } from './web';
