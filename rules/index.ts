/**
 * rules/: the rule format, built-in packs, the streaming and scheduled engines,
 * Sigma import, alert documents and notifiers. Other units import only this file.
 */
export * from './types';
export { parseRuleText, loadRuleFile, loadRules, RuleFileError, ruleSchema, type RuleProblem } from './schema';
export { compileCondition, commandsOf, EvalContext, type Doc, type Predicate } from './condition';
export { configuredRules, createConfiguredEngine, streamingRules, configuredNotificationHub, createDetector, type Detector } from './configured';
export { createStreamingEngine, compileRule, type CompiledRule, type EngineOptions, type EngineStats, type StreamingEngine, type ExtraException } from './engine';
export { buildAlert, type AlertDoc } from './alerts';
export { compileQuery, compileRuleQuery, toLuceneRegex, type CompiledQuery } from './es-query';
export { runScheduled, listAlerts, type ScheduledOptions, type ScheduledReport } from './scheduled';
export { setAlertStatus, statusFilter, triageActor, missingAlertsError, type TriageReport, type TriageResult } from './triage';
export { DetectionService, readLease, readRuleStates, resolveTimeField, type LeaseState, type PassSummary, type RuleState, type ServiceOptions } from './service';
export { runRuleTests, testEventDoc, type RuleTestReport } from './testing';
export { commandEvent } from './events';
export { genericHostileEvents, ruleHostileEvents, type HostileEvent } from './adversarial';
export { readCorpus, scoreCorpus, type CorpusScore } from './corpus';
export { importSigmaDir, writeConverted, convertSigma, ruleToYaml, type SigmaImportReport, type SigmaResult } from './sigma';
export { rulesConfigSchema, type RulesConfig } from './config';
export { createNotificationHub, emailTarget, webhookTarget, webhookBody, dingtalkSignedUrl, DeliveryError, type NotificationHub, type NotifyTarget, type HubOptions } from './notify';
export { webhookConfigSchema, type WebhookConfig } from './config';
