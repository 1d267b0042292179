/**
 * One-time terminal tokens (`auditkit bastion token alice --host web01`): a URL that
 * opens that user's terminal on that host once, before it expires.
 *
 * The token itself (32 random bytes, base64url) is printed once and never stored: the
 * state index keeps its SHA-256 (`token:<sha>`), so reading the index does not give a
 * usable token. Using it is a create of `token-used:<sha>` with op_type create: of two
 * bastion instances that receive the same token at the same moment, exactly one create
 * succeeds and the other gets a 409 ("used"). The grant is checked again at use (a token
 * for a grant revoked since is refused by the door, not here).
 *
 * Backend `file` (one instance): `<state_dir>/tokens.json` (mode 600), changed under an
 * in-process lock.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { AuditkitError, ExitCode, writeFileAtomic } from '../core';

export interface TerminalToken {
  readonly user: string;
  readonly host: string;
  readonly account?: string;
  readonly created: string;
  readonly expires: string;
}

export type TokenUse = { readonly ok: true; readonly token: TerminalToken } | { readonly ok: false; readonly reason: 'unknown' | 'used' | 'expired'; readonly token?: TerminalToken };

export interface TokenStore {
  /** Store a new token; returns the secret value (shown once). */
  issue(t: Omit<TerminalToken, 'created'>, now?: number): Promise<string>;
  /** Use it: succeeds once, ever, across instances sharing the store. */
  consume(value: string, now?: number): Promise<TokenUse>;
}

export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function tokenDigest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

const newValue = (): string => randomBytes(32).toString('base64url');

export function esTokenStore(client: Client, index: string): TokenStore {
  const unreachable = (err: unknown): AuditkitError =>
    new AuditkitError('AK_BASTION_STATE', `the bastion state index ${index} cannot be used for tokens: ${(err as Error).message}`, { exitCode: ExitCode.Unavailable, cause: err });
  return {
    async issue(t, now = Date.now()) {
      const value = newValue();
      const token: TerminalToken = { ...t, created: new Date(now).toISOString() };
      try {
        await client.index({ index, id: `token:${tokenDigest(value)}`, op_type: 'create', refresh: 'wait_for', document: { kind: 'token', token } });
      } catch (err) {
        throw unreachable(err);
      }
      return value;
    },
    async consume(value, now = Date.now()) {
      if (!TOKEN_RE.test(value)) return { ok: false, reason: 'unknown' };
      const sha = tokenDigest(value);
      let token: TerminalToken | undefined;
      try {
        const g = await client.get<{ token?: TerminalToken }>({ index, id: `token:${sha}` }, { ignore: [404] });
        token = g.found ? g._source?.token : undefined;
      } catch (err) {
        throw unreachable(err);
      }
      if (!token) return { ok: false, reason: 'unknown' };
      if (Date.parse(token.expires) <= now) return { ok: false, reason: 'expired', token };
      try {
        // The one decision point shared by every instance: the first create wins.
        await client.index({ index, id: `token-used:${sha}`, op_type: 'create', refresh: 'wait_for', document: { kind: 'token-used', used: { at: new Date(now).toISOString() } } });
      } catch (err) {
        if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 409) return { ok: false, reason: 'used', token };
        throw unreachable(err);
      }
      return { ok: true, token };
    },
  };
}

interface TokenFile {
  tokens: Record<string, TerminalToken & { used?: string }>;
}

export function fileTokenStore(stateDir: string): TokenStore {
  const file = path.join(stateDir, 'tokens.json');
  let chain: Promise<unknown> = Promise.resolve();
  const locked = <T>(fn: (f: TokenFile) => { out: T; write: boolean }): Promise<T> => {
    const run = chain.then(async () => {
      let f: TokenFile = { tokens: {} };
      try {
        f = JSON.parse(await fsp.readFile(file, 'utf8')) as TokenFile;
      } catch {
        /* none yet */
      }
      const r = fn(f);
      if (r.write) await writeFileAtomic(file, JSON.stringify(f), 0o600);
      return r.out;
    });
    chain = run.catch(() => undefined);
    return run;
  };
  return {
    issue(t, now = Date.now()) {
      const value = newValue();
      return locked((f) => {
        // Drop tokens expired for a day: the file does not grow forever.
        for (const [k, v] of Object.entries(f.tokens)) if (Date.parse(v.expires) < now - 86_400_000) delete f.tokens[k];
        f.tokens[tokenDigest(value)] = { ...t, created: new Date(now).toISOString() };
        return { out: value, write: true };
      });
    },
    consume(value, now = Date.now()) {
      if (!TOKEN_RE.test(value)) return Promise.resolve({ ok: false, reason: 'unknown' } as const);
      return locked<TokenUse>((f) => {
        const t = f.tokens[tokenDigest(value)];
        if (!t) return { out: { ok: false, reason: 'unknown' }, write: false };
        const { used, ...token } = t;
        if (used) return { out: { ok: false, reason: 'used', token }, write: false };
        if (Date.parse(t.expires) <= now) return { out: { ok: false, reason: 'expired', token }, write: false };
        t.used = new Date(now).toISOString();
        return { out: { ok: true, token }, write: true };
      });
    },
  };
}
