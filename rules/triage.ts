/**
 * Alert triage (`auditkit alerts ack|close ID… [--note]`, `alerts list --status`):
 * the status, who set it, when, and the note are written onto the alert document
 * itself (auditkit.alert.status, auditkit.alert.triage.{by,at,note}); an alert
 * without a status is open.
 *
 * Each alert is found by its id (event.id, which is also its _id) in the
 * namespace's alerts stream, then updated in its own backing index with the
 * sequence number it was read at (if_seq_no/if_primary_term), so two analysts
 * acting at once cannot silently overwrite each other (the loser re-reads and
 * retries once). Only the triage fields change: the detection stays as the engine wrote it.
 *
 * Writing needs the `triage` key role (elastic/api-key.ts): read and update the
 * alerts stream, nothing else. The collector's append-only key gets a 403.
 */
import * as os from 'node:os';
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, ExitCode } from '../core';
import { streamName, type AlertStatus } from '../schema';
import type { Query } from './es-query';

/** Query clause selecting alerts of one triage status (no status = open). */
export function statusFilter(status: AlertStatus): Query {
  if (status === 'open') return { bool: { should: [{ term: { 'auditkit.alert.status': 'open' } }, { bool: { must_not: [{ exists: { field: 'auditkit.alert.status' } }] } }], minimum_should_match: 1 } };
  return { term: { 'auditkit.alert.status': status } };
}

/**
 * Who is acting: the Elasticsearch principal (user, or user/API key name) when the
 * cluster authenticates, else the local account (a cluster without security
 * knows no users).
 */
export async function triageActor(client: Client): Promise<string> {
  try {
    const me = await client.security.authenticate();
    const key = (me as { api_key?: { name?: string } }).api_key?.name;
    return key ? `${me.username}/${key}` : me.username;
  } catch {
    return `${os.userInfo().username}@${os.hostname()}`;
  }
}

export interface TriageResult {
  readonly id: string;
  readonly index: string;
  readonly previous: AlertStatus;
  readonly status: AlertStatus;
}

export interface TriageReport {
  readonly updated: readonly TriageResult[];
  readonly missing: readonly string[];
  readonly by: string;
  readonly at: string;
}

export async function setAlertStatus(
  client: Client,
  ids: readonly string[],
  opts: { readonly status: Exclude<AlertStatus, 'open'> | 'open'; readonly note?: string; readonly namespace?: string; readonly by?: string; readonly now?: Date },
): Promise<TriageReport> {
  const by = opts.by ?? (await triageActor(client));
  const at = (opts.now ?? new Date()).toISOString();
  const index = streamName('alerts', opts.namespace ?? 'default');
  const updated: TriageResult[] = [];
  const missing: string[] = [];
  const uniq = [...new Set(ids)];
  const triage = { by, at, ...(opts.note !== undefined ? { note: opts.note } : {}) };
  for (let attempt = 0; attempt < 2 && uniq.length > 0; attempt++) {
    const res = await client.search<{ auditkit?: { alert?: { status?: AlertStatus } } }>({
      index, query: { ids: { values: uniq } }, size: uniq.length, seq_no_primary_term: true, _source: ['auditkit.alert.status'],
      ignore_unavailable: true, allow_no_indices: true,
    });
    const retry: string[] = [];
    const found = new Set<string>();
    for (const h of res.hits.hits) {
      if (h._id === undefined) continue;
      found.add(h._id);
      const previous = h._source?.auditkit?.alert?.status ?? 'open';
      try {
        await client.update({
          index: h._index, id: h._id, if_seq_no: h._seq_no as number, if_primary_term: h._primary_term as number, refresh: 'wait_for',
          // A partial document (no script language needed); an earlier note is cleared (null) by a change without one.
          doc: { auditkit: { alert: { status: opts.status, triage: { note: null, ...triage } } } },
        });
        updated.push({ id: h._id, index: h._index, previous, status: opts.status });
      } catch (err) {
        if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 409 && attempt === 0) retry.push(h._id);
        else throw err;
      }
    }
    if (attempt === 0) for (const id of uniq) if (!found.has(id)) missing.push(id);
    uniq.length = 0;
    uniq.push(...retry);
  }
  return { updated, missing, by, at };
}

/** The kit error for ids that matched no alert (after the others were updated). */
export function missingAlertsError(missing: readonly string[], namespace: string): AuditkitError {
  return new AuditkitError('AK_RULE_ALERT_NOT_FOUND', `no alert with id ${missing.join(', ')} in ${streamName('alerts', namespace)}`, { exitCode: ExitCode.Failure });
}
