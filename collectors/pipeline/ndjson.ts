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

/** A value completing the line would keep (`??` replaces null and absent ones). */
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

type Stream = ReturnType<typeof eventEnvelope>['data_stream'];

/** The line's own data_stream says exactly what the parser would set. */
function sameStream(v: unknown, want: Stream): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).length === 3 && o['type'] === want.type && o['dataset'] === want.dataset && o['namespace'] === want.namespace;
}

export function createNdjsonParser(ctx: ParseContext, defaultDataset: Dataset = 'commands'): LineParser {
  const hostId = ctx.host.id ?? ctx.host.name;
  const err = (r: RawRecord, code: string, message: string): ParseOutput => ({ kind: 'error', code, message, raw: r.text, origin: r.origin });
  /** `data_stream` as JSON per dataset (the namespace is this parser's). */
  const streamJson = new Map<Dataset, string>();
  const streamJsonOf = (dataset: Dataset, ds: Stream): string => {
    let j = streamJson.get(dataset);
    if (j === undefined) streamJson.set(dataset, (j = JSON.stringify(ds)));
    return j;
  };
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
      const env = eventEnvelope(dataset, ctx.namespace);
      // Whether the line already says all that completing it would add, but data_stream: then
      // the line itself is the document's JSON (below), and the encoder need not serialise it.
      const complete = typeof given === 'object' && given !== null && !Array.isArray(given) && isSet(doc['ecs']) && isSet(doc['host']) && isSet(doc['agent']) &&
        typeof (given as Record<string, unknown>)['id'] === 'string' && (given as Record<string, unknown>)['id'] !== '' &&
        (given as Record<string, unknown>)['kind'] !== undefined && (given as Record<string, unknown>)['dataset'] === env.data_stream.dataset;
      const stream = Object.prototype.hasOwnProperty.call(doc, 'data_stream') ? (sameStream(doc['data_stream'], env.data_stream) ? 'same' : 'other') : 'none';
      const event = (typeof given === 'object' && given !== null ? (Array.isArray(given) ? { ...given } : given) : {}) as Record<string, unknown>;
      if (typeof event['id'] !== 'string' || event['id'] === '') event['id'] = fileRecordId(hostId, r.origin.fileId, r.origin.offset);
      if (event['kind'] === undefined) event['kind'] = 'event';
      event['dataset'] = datasetName(dataset);
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
      if (!complete || stream === 'other') return [{ kind: 'event', dataset, doc: out as unknown as AuditkitEvent }];
      // The line as it is, with data_stream added before its closing brace where it had none:
      // the same document as `out` (JSON.parse accepted it, so after its last '}' there is only
      // whitespace). Numbers keep their digits (a long past 2^53 is not rounded), and a line
      // with a key twice (JSON.parse kept the last) is refused by Elasticsearch, which rejects
      // duplicate keys: a dead letter with the line, never a silent choice between the two.
      const json = stream === 'same' ? t : `${t.slice(0, t.lastIndexOf('}'))},"data_stream":${streamJsonOf(dataset, env.data_stream)}}`;
      return [{ kind: 'event', dataset, doc: out as unknown as AuditkitEvent, json }];
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
