/**
 * What integration tests use to reach the run's shared Elasticsearch node.
 * Each test file takes its own namespace and removes its indices afterwards.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { sleep } from '../../core';

export function testEsUrl(): string {
  const url = process.env['AUDITKIT_TEST_ES_URL'];
  if (!url) throw new Error('AUDITKIT_TEST_ES_URL is not set: integration tests run under the jest global setup (npm run test:int or test:e2e)');
  return url;
}

export function testClient(): Client {
  return new Client({ node: testEsUrl(), requestTimeout: 60_000 });
}

/** A namespace no other test uses: `t<prefix><random>`, valid for data streams. */
export function uniqueNamespace(prefix = ''): string {
  return `t${prefix.toLowerCase().replace(/[^a-z0-9]/g, '')}${randomBytes(4).toString('hex')}`;
}

/**
 * A kit config file for one case: `<dir>/<name>.yml` (mode 600) pointing at the test
 * node under a namespace of its own (pushed onto `namespaces`, for the file's cleanup),
 * followed by `lines` (the rest of the YAML, from column 0).
 */
export function writeTestConfig(dir: string, name: string, namespaces: string[], lines: readonly string[]): { ns: string; cfg: string } {
  const ns = uniqueNamespace(name);
  namespaces.push(ns);
  const cfg = path.join(dir, `${name}.yml`);
  writeFileSync(cfg, ['elasticsearch:', `  url: ${testEsUrl()}`, `  namespace: ${ns}`, ...lines, ''].join('\n'), { mode: 0o600 });
  return { ns, cfg };
}

/** Delete every kit index of a namespace (index mode and data-stream backing indices). */
export async function deleteNamespace(client: Client, namespace: string): Promise<void> {
  await client.indices.delete({ index: `logs-auditkit.*-${namespace}`, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'all' }).catch(() => undefined);
}

/** The `_source` of the documents of `index` matching `query`, after a refresh; [] while the index does not exist. */
export async function searchSources(client: Client, index: string, query: Record<string, unknown>, size = 500): Promise<Record<string, unknown>[]> {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  const r = await client.search({ index, size, query, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  return (r?.hits.hits ?? []).map((h) => h._source as Record<string, unknown>);
}

/** Polls `fn` every 200 ms until it gives a value; throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
