/**
 * Starts ONE real Elasticsearch node for the whole integration run (unless
 * AUDITKIT_TEST_ES_URL points at one already) and hands its URL to the test
 * workers through the environment. The node is started with a parent-death
 * signal, so even a killed jest leaves no JVM behind; the teardown stops it.
 */
import { Client } from '@elastic/elasticsearch';
import { startDevNode, type DevNode } from '../../elastic';
import { applySetup, detectCapabilities, elasticsearchConfigSchema, planSetup } from '../../elastic';

declare global {
  var __AUDITKIT_ES__: DevNode | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env['AUDITKIT_TEST_ES_URL']) return;
  const node = await startDevNode({
    dieWithParent: true,
    heapMb: 768,
    onProgress: (m) => process.stderr.write(`[es] ${m}\n`),
  });
  process.stderr.write(`[es] Elasticsearch ${node.version} ready at ${node.url} in ${node.startMs} ms\n`);
  globalThis.__AUDITKIT_ES__ = node;
  process.env['AUDITKIT_TEST_ES_URL'] = node.url;
  process.env['AUDITKIT_TEST_ES_VERSION'] = node.version;
  // Provision the kit's templates once, as `auditkit setup elasticsearch` would, so every
  // integration test writes into correctly mapped streams.
  const client = new Client({ node: node.url });
  await applySetup(client, planSetup(elasticsearchConfigSchema.parse({}), await detectCapabilities(client)));
  await client.close();
}
