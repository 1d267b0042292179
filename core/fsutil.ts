import { promises as fsp, constants as fsc } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as os from 'node:os';
import { AuditkitError, ExitCode } from './errors';

/** Write a file atomically: temp file in the same directory, fsync, rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await fsp.open(tmp, fsc.O_CREAT | fsc.O_WRONLY | fsc.O_TRUNC, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  // fsync the directory so the rename itself survives a crash.
  const dh = await fsp.open(dir, 'r').catch(() => undefined);
  if (dh) {
    await dh.sync().catch(() => undefined);
    await dh.close();
  }
}

/**
 * Refuse a file holding secrets when other users can read it (mode & 0o077 != 0 for
 * group/other read or write). Like ssh refusing a world-readable private key.
 */
export async function assertPrivateFile(file: string, what: string): Promise<void> {
  const st = await fsp.stat(file);
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new AuditkitError(
      'AK_CONFIG_PERMISSIONS',
      `${what} holds secrets but is readable by group or others (mode ${mode}); run \`chmod 600 ${file}\``,
      { location: { file }, exitCode: ExitCode.Config },
    );
  }
}

/** A free TCP port on the loopback interface. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

/** The kit's cache directory: $AUDITKIT_CACHE_DIR, else $XDG_CACHE_HOME/auditkit, else ~/.cache/auditkit. */
export function cacheDir(): string {
  const env = process.env['AUDITKIT_CACHE_DIR'];
  if (env) return path.resolve(env);
  const xdg = process.env['XDG_CACHE_HOME'];
  return path.join(xdg ? xdg : path.join(os.homedir(), '.cache'), 'auditkit');
}
