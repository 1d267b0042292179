/**
 * `ndjson`: one already-normalised ECS document per line (backfills, exports of
 * another kit, tests of the pipeline). The line is checked, never trusted:
 * required fields are filled from the collector where the document has none,
 * `event.id` is kept (or made deterministic from file identity + offset), and a
 * document that is not valid ECS is a counted, dead-lettered parse error.
 */
import { datasetName, eventEnvelope, fileRecordId, isDataset, validateDocument, type AuditkitEvent, type Dataset } from '../../schema';
import type { LineParser, ParseContext, ParseOutput, ParserUnit, RawRecord } from '../types';

function datasetOf(doc: Record<string, unknown>): Dataset | undefined {
  const ev = doc['event'];
  const ds = typeof ev === 'object' && ev !== null ? (ev as Record<string, unknown>)['dataset'] : undefined;
  if (typeof ds === 'string' && ds.startsWith('auditkit.')) {
    const d = ds.slice('auditkit.'.length);
    if (isDataset(d)) return d;
  }
  return undefined;
}

export function createNdjsonParser(ctx: ParseContext, defaultDataset: Dataset = 'commands'): LineParser {
  const hostId = ctx.host.id ?? ctx.host.name;
  const err = (r: RawRecord, code: string, message: string): ParseOutput => ({ kind: 'error', code, message, raw: r.text, origin: r.origin });
  return {
    push(r) {
      const t = r.text;
      if (t.length === 0 || t.trim().length === 0) return [];
      if (t.charCodeAt(0) !== 123 /* { */) return [err(r, 'AK_NDJSON_NOT_OBJECT', `expected a JSON object, got text starting with ${JSON.stringify(t.slice(0, 20))}`)];
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch (e) {
        return [err(r, 'AK_NDJSON_SYNTAX', `not valid JSON: ${(e as Error).message}`)];
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [err(r, 'AK_NDJSON_NOT_OBJECT', 'expected a JSON object')];
      const doc = parsed as Record<string, unknown>;
      const dataset = datasetOf(doc) ?? defaultDataset;
      // The parsed line is this parser's own: it is completed in place rather than copied
      // twice (issue 20: the two spreads were a third of this function's allocation). The
      // keys end up in the order the copies gave: the line's own, then ecs, event, host,
      // agent, data_stream where it had none.
      const given = doc['event'];
      const event = (typeof given === 'object' && given !== null ? (Array.isArray(given) ? { ...given } : given) : {}) as Record<string, unknown>;
      if (typeof event['id'] !== 'string' || event['id'] === '') event['id'] = fileRecordId(hostId, r.origin.fileId, r.origin.offset);
      if (event['kind'] === undefined) event['kind'] = 'event';
      event['dataset'] = datasetName(dataset);
      const env = eventEnvelope(dataset, ctx.namespace);
      const out = doc;
      out['ecs'] = doc['ecs'] ?? env.ecs;
      out['event'] = event;
      out['host'] = doc['host'] ?? ctx.host;
      out['agent'] = doc['agent'] ?? ctx.agent;
      out['data_stream'] = env.data_stream;
      const v = validateDocument(out);
      if (!v.valid) {
        return [err(r, 'AK_NDJSON_INVALID', `not a valid ECS event: ${v.problems.slice(0, 5).map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`)];
      }
      return [{ kind: 'event', dataset, doc: out as unknown as AuditkitEvent }];
    },
    flush() {
      return [];
    },
    pendingOffset() {
      return undefined;
    },
  };
}

export const ndjsonParser: ParserUnit = {
  kind: 'ndjson',
  description: 'One already-normalised ECS document per line (JSON lines); dataset from event.dataset, else the input\'s `dataset`',
  dataset: 'commands',
  sniff(sample) {
    // The first line must be an ECS-looking object; later junk lines are the parser's business.
    const lines = sample.filter((l) => l.trim() !== '');
    const first = lines[0];
    if (first === undefined || !first.startsWith('{')) return false;
    try {
      const o = JSON.parse(first) as Record<string, unknown>;
      if (typeof o !== 'object' || o === null || !('@timestamp' in o) || typeof o['event'] !== 'object') return false;
    } catch {
      return false;
    }
    return lines.filter((l) => l.startsWith('{')).length * 2 >= lines.length;
  },
  create(ctx) {
    return createNdjsonParser(ctx);
  },
};
