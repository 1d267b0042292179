/**
 * bastion/: the SSH bastion. The access model (users, grants over the inventory's
 * hosts and groups), its state store, the ssh2 door and proxy, recordings, and the
 * documents it emits. Other units import only this file (and config.ts).
 */
export { totpCode, resolveTargets } from './access';
export { esStateStore, fileStateStore, type StateStore } from './state';
export { startBastion, liveDir, recordingsDir, type EventSink, type LiveSession } from './server';
export { startWebPortal, type PastSession, type TaskView, type WebPortal } from './web';
export { esTokenStore, fileTokenStore, type TokenStore } from './tokens';
export { playCast, findRecording } from './recording';
export { safeText } from './menu';
export type { BastionDataset } from './events';
export { taskStartDoc, taskResultDoc, taskEventContext } from './events';
export { createTaskRunner, serveControl, askControl } from './batch';
export { addUser, setUserDisabled, setPassword, enrollTotp, addGrant, revokeGrant } from './admin';
export { createGuard } from './guard';
export { portalBaseUrl } from './web';
