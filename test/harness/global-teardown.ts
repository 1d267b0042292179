import { readFileSync, rmdirSync, unlinkSync } from 'node:fs';

/**
 * The collectors the tests start (`collect` with the default
 * `collector.listeners.hook.alive_file`) stamp /run/auditkit/hook.alive; one
 * stopped cleanly removes it, one killed with SIGKILL leaves it behind. A stamp
 * nobody refreshed for 5 s belongs to no running collector: remove it, and the
 * directory when it is empty (systemd recreates a real install's RuntimeDirectory).
 */
function removeStaleAliveStamp(file = '/run/auditkit/hook.alive'): void {
  try {
    const at = Number(readFileSync(file, 'latin1').split(' ')[0]);
    if (Number.isFinite(at) && Date.now() - at < 5000) return;
    unlinkSync(file);
  } catch {
    // none, or not ours to remove
  }
  try {
    rmdirSync('/run/auditkit');
  } catch {
    // not empty, or absent
  }
}

export default async function globalTeardown(): Promise<void> {
  const node = globalThis.__AUDITKIT_ES__;
  if (node) await node.stop();
  removeStaleAliveStamp();
}
