/**
 * Shell command sources: the hook's own records, the legacy PROMPT_COMMAND log,
 * bash and zsh history files, the OMAudit legacy agent. All produce the same
 * ECS command event (event.ts). See README.md for the hook and its limits.
 */
export { hookParser, parseHookRecord, HOOK_TAG, HOOK_JOURNAL_NAME, SessionAddresses, BASTION_SESSION_RE } from './hook';
export { legacyParser, legacyParserUnit, parseLegacyLine, type LegacyOptions } from './legacy';
export { bashParser, zshParser, bashParserUnit, zshParserUnit, userFromPath, userFromOwner, unmetafy, type HistoryOptions } from './history';
export { omauditParser, omauditParserUnit, parseOmauditRecord, startOmauditReceiver, OMAUDIT_PATH, type OmauditOptions, type OmauditReceiver } from './omaudit';
export { startHookReceiver, peerUid, DEFAULT_HOOK_PORT, type HookReceiver, type HookReceiverOptions } from './receiver';
export { sessionLinkId } from './session';
export const SHELL_HOOK_ASSET = 'collectors/assets/shell/auditkit.sh';
