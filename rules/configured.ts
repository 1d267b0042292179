/**
 * The rule set and streaming engine a configuration asks for, in one call: what
 * `auditkit rules run --follow` and the collector pipeline both use, so they agree.
 */
import type { RulesConfig } from './config';
import { createStreamingEngine, type StreamingEngine } from './engine';
import { builtinRulesDir, loadRules } from './schema';
import type { RuleDef } from './types';

/** Built-in packs (unless `builtin: false`) plus `paths`, without the `disabled` ids. */
export async function configuredRules(cfg: Pick<RulesConfig, 'builtin' | 'paths' | 'disabled'>): Promise<RuleDef[]> {
  const paths = [...(cfg.builtin ? [builtinRulesDir()] : []), ...cfg.paths];
  const disabled = new Set(cfg.disabled);
  return (await loadRules(paths)).filter((r) => !disabled.has(r.id));
}

/**
 * A streaming engine for `cfg`, writing alerts for namespace `namespace`: call
 * `.process(event)` per ECS event; each returned alert goes to
 * `streamName('alerts', namespace)` with `_id = alert.event.id`, indexed (not
 * created): a suppressed repeat returns the SAME id with a higher count.
 */
export async function createConfiguredEngine(cfg: RulesConfig, namespace: string): Promise<StreamingEngine> {
  return createStreamingEngine(await configuredRules(cfg), { namespace, maxKeys: cfg.max_keys, exceptions: cfg.exceptions });
}
