/**
 * rules/: the rule format, built-in packs, the streaming and scheduled engines,
 * Sigma import, alert documents and notifiers. Other units import only this file.
 */
export { type RuleDef, SEVERITIES, type Severity } from './types';
export { parseRuleText, loadRules } from './schema';
export { commandsOf } from './condition';
export { configuredRules, configuredNotificationHub, createDetector, streamingRules } from './configured';
export { createStreamingEngine, compileRule, type StreamingEngine, type ExtraException } from './engine';
export { type AlertDoc } from './alerts';
export { compileRuleQuery } from './es-query';
export { runScheduled, listAlerts } from './scheduled';
export { setAlertStatus, missingAlertsError } from './triage';
export { DetectionService, readLease, readRuleStates, type PassSummary } from './service';
export { runRuleTests, testEventDoc } from './testing';
export { commandEvent } from './events';
export { genericHostileEvents, ruleHostileEvents } from './adversarial';
export { readCorpus } from './corpus';
export { importSigmaDir, writeConverted } from './sigma';
export { rulesConfigSchema, type RulesConfig } from './config';
