export default async function globalTeardown(): Promise<void> {
  const node = globalThis.__AUDITKIT_ES__;
  if (node) await node.stop();
}
