/**
 * Least-privilege API keys for the kit's roles. A collector can only append to
 * the kit's streams: it cannot read, update, delete, or touch templates.
 */
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, ExitCode } from '../core';
import { ALL_STREAMS_PATTERN, streamName } from '../schema';

export type KeyRole = 'collector' | 'reader' | 'admin' | 'bastion' | 'triage' | 'detector';
export const KEY_ROLES: readonly KeyRole[] = ['collector', 'reader', 'admin', 'bastion', 'triage', 'detector'];

/**
 * The bastion's users and grants (password hashes, TOTP seeds) live in indices named
 * by this pattern, deliberately outside logs-auditkit.*: the collector and reader
 * roles never name them; only admin and the bastion itself do.
 */
export const BASTION_STATE_PATTERN = 'auditkit-bastion-state*';

/**
 * The detection service's checkpoints and lease (`auditkit rules run --every`): one
 * plain index, provisioned by `setup elasticsearch` (a template with its mappings),
 * outside logs-auditkit.* so a collector's key can neither read nor move them.
 */
export const DETECT_STATE_INDEX = 'auditkit-detect-state';

export function roleDescriptors(role: KeyRole): Record<string, { cluster: string[]; indices: Array<{ names: string[]; privileges: string[]; allow_restricted_indices?: boolean }> }> {
  switch (role) {
    case 'collector':
      // create_doc: op_type=create only (no overwrite, no delete); auto_configure: first write creates the stream.
      return { 'auditkit-collector': { cluster: [], indices: [{ names: [ALL_STREAMS_PATTERN], privileges: ['create_doc', 'auto_configure'] }] } };
    case 'reader':
      return { 'auditkit-reader': { cluster: ['monitor'], indices: [{ names: [ALL_STREAMS_PATTERN], privileges: ['read', 'view_index_metadata'] }] } };
    case 'admin':
      return {
        'auditkit-admin': {
          cluster: ['monitor', 'manage_index_templates', 'manage_pipeline', 'manage_ilm', 'manage_own_api_key'],
          indices: [{ names: [ALL_STREAMS_PATTERN], privileges: ['all'] }, { names: [BASTION_STATE_PATTERN], privileges: ['all'] }, { names: [DETECT_STATE_INDEX], privileges: ['all'] }],
        },
      };
    case 'triage':
      // Analysts (`alerts ack|close`): read the alerts stream and update its documents (index = index + update,
      // no delete, no other stream, no cluster privilege). ES has no update-only privilege, so this key could
      // also write a whole alert document; it still cannot touch events, templates or keys.
      return { 'auditkit-triage': { cluster: [], indices: [{ names: [streamName('alerts', '*')], privileges: ['read', 'view_index_metadata', 'index'] }] } };
    case 'bastion':
      // Appends its documents like a collector; reads and changes (never deletes) its own state.
      return {
        'auditkit-bastion': {
          cluster: ['monitor'],
          indices: [
            { names: [ALL_STREAMS_PATTERN], privileges: ['create_doc', 'auto_configure', 'read'] },
            { names: [BASTION_STATE_PATTERN], privileges: ['read', 'write', 'create_index', 'view_index_metadata'] },
          ],
        },
      };
    case 'detector':
      // The detection service: reads the events, creates alerts, marks them notified
      // (`index` is the privilege an update needs: the service updates only
      // auditkit.alert.notification/notified_at/digest_holder), and reads and writes its own
      // checkpoints and lease; nothing else.
      return {
        'auditkit-detector': {
          cluster: ['monitor'],
          indices: [
            { names: [ALL_STREAMS_PATTERN], privileges: ['read', 'view_index_metadata'] },
            { names: ['logs-auditkit.alerts-*'], privileges: ['create_doc', 'auto_configure', 'index'] },
            { names: [DETECT_STATE_INDEX], privileges: ['read', 'write', 'create_index', 'view_index_metadata'] },
          ],
        },
      };
  }
}

export interface CreatedKey {
  readonly id: string;
  readonly name: string;
  /** base64 "id:key": what `elasticsearch.api_key` takes. Shown once. */
  readonly encoded: string;
  readonly role: KeyRole;
  readonly expiration?: number;
}

export async function createApiKey(client: Client, opts: { role: KeyRole; name?: string; expiration?: string; host?: string }): Promise<CreatedKey> {
  const name = opts.name ?? `auditkit-${opts.role}${opts.host ? `-${opts.host}` : ''}`;
  try {
    const r = await client.security.createApiKey({
      name,
      role_descriptors: roleDescriptors(opts.role),
      metadata: { managed_by: 'auditkit', role: opts.role, ...(opts.host ? { host: opts.host } : {}) },
      ...(opts.expiration ? { expiration: opts.expiration } : {}),
    });
    return { id: r.id, name: r.name, encoded: r.encoded ?? Buffer.from(`${r.id}:${r.api_key}`).toString('base64'), role: opts.role, ...(r.expiration ? { expiration: r.expiration } : {}) };
  } catch (err) {
    const meta = (err as { meta?: { statusCode?: number; body?: { error?: { reason?: string } | string } } }).meta;
    const body = meta?.body;
    const reason = typeof body === 'object' && body?.error && typeof body.error === 'object' ? (body.error.reason ?? '') : String(body?.error ?? '');
    if (/security.*(disabled|not enabled)|Incorrect HTTP method/i.test(reason) || meta?.statusCode === 405) {
      throw new AuditkitError('AK_ES_NO_SECURITY', 'the cluster has security off, so API keys cannot be created; turn on xpack.security or run without keys on a trusted network', { exitCode: ExitCode.Unavailable, cause: err });
    }
    if (meta?.statusCode === 400 || meta?.statusCode === 500) {
      throw new AuditkitError(
        'AK_ES_API_KEY',
        `the cluster refused to create an API key (${reason || meta.statusCode}). A cluster that cannot store keys (no .security index) can use a file-realm role instead: \`auditkit setup api-key --role ${opts.role} --print-role\` prints its descriptor for roles.yml`,
        { exitCode: ExitCode.Unavailable, cause: err },
      );
    }
    throw err;
  }
}
