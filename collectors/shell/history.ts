/**
 * Shell history files.
 *
 * bash with HISTTIMEFORMAT set writes `#<epoch seconds>` before each entry; an
 * entry runs until the next such line (so multi-line entries saved with
 * `lithist` stay whole). Without timestamps every line is one command, and the
 * time is unknown (the read time is used and the event tagged).
 *
 * zsh EXTENDED_HISTORY writes `: <start>:<elapsed>;<command>`; a newline inside
 * a command is written as `\` + newline. zsh "metafies" bytes 0x83–0xA2 (most
 * non-ASCII UTF-8): when the text reaches us byte-transparently (latin1), we
 * unmetafy; after a UTF-8 decode those bytes are already lost (README limit).
 *
 * History files carry no user: it comes from the option `user`, else the path
 * (/home/<user>/…, /root/…), else the file's owner. The id is the file position of the entry's first line.
 *
 * Entries span lines, so the parser buffers the open entry per file and reports
 * its first offset through `pendingOffset` (the checkpoint never passes it).
 */
import { readFileSync, statSync } from 'node:fs';
import { commandEvent, fileRecordId, type CommandFacts } from '../../schema';
import type { LineParser, ParseContext, ParseOutput, ParserUnit, RawRecord } from '../types';
import { sessionLinkId } from './session';
import { fileFacts, parseError } from './common';

export interface HistoryOptions {
  /** The account whose history this is (default: from the file path). */
  readonly user?: string;
  /** Emit a buffered entry once no line arrived for this long (live tailing). Default 2000 ms. */
  readonly idleFlushMs?: number;
}

const BASH_TS = /^#(\d{9,11})\s*$/;
const ZSH_HEAD = /^: {0,2}(\d{9,11}):(\d{1,10});(.*)$/s;
/** Largest entry we assemble: a runaway continuation must not eat memory. */
const MAX_ENTRY = 1 << 20;

export function userFromPath(file: string): string | undefined {
  let m = /(?:^|\/)(?:home|Users|export\/home)\/([^/]+)\/[^/]*(?:history|hist)[^/]*$/i.exec(file);
  if (m) return m[1];
  if (/^\/root\/[^/]*(?:history|hist)[^/]*$/i.test(file)) return 'root';
  m = /(?:^|\/)([^/]+)\/\.(?:bash|zsh)_history$/.exec(file);
  if (m && m[1] !== 'tmp' && m[1] !== '.') return m[1];
  return undefined;
}

/** The owner of a history file, by name (local /etc/passwd), when the path does not say. */
export function userFromOwner(file: string, passwd = '/etc/passwd'): string | undefined {
  let uid: number;
  try {
    uid = statSync(file).uid;
  } catch {
    return undefined;
  }
  try {
    for (const line of readFileSync(passwd, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(uid) && f[0]) return f[0];
    }
  } catch {
    /* no passwd: fall through */
  }
  return undefined;
}

/** Undo zsh's metafication (Meta 0x83 + byte^0x20) on a byte-transparent string, then decode UTF-8. */
export function unmetafy(text: string): string {
  if (!text.includes('\u0083')) return text;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return text; // not latin1: leave it
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x83 && i + 1 < text.length) {
      bytes.push(text.charCodeAt(++i) ^ 0x20);
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

interface Entry {
  readonly origin: RawRecord['origin'];
  readonly timeMs: number | undefined;
  readonly startMs?: number;
  lines: string[];
  size: number;
  /** zsh: the last line ended with a backslash, more follows. */
  open: boolean;
  lastPush: number;
}

type Flavour = 'bash' | 'zsh';

function historyParser(flavour: Flavour, ctx: ParseContext, opts: HistoryOptions): LineParser {
  const idle = opts.idleFlushMs ?? 2000;
  const open = new Map<string, Entry>();
  // The user of each file: the option, else the path, else the file's owner (looked up once per file).
  const users = new Map<string, string | undefined>();
  const userOf = (file: string): string | undefined => {
    if (opts.user !== undefined) return opts.user;
    if (!users.has(file)) users.set(file, userFromPath(file) ?? userFromOwner(file));
    return users.get(file);
  };

  function emit(e: Entry): ParseOutput {
    const raw: RawRecord = { text: e.lines.join('\n'), origin: e.origin };
    try {
      const user = userOf(e.origin.file);
      const command = flavour === 'zsh' ? unmetafy(e.lines.join('\n')) : e.lines.join('\n');
      const hostId = ctx.host.id ?? ctx.host.name;
      const facts: CommandFacts = {
        format: flavour,
        id: fileRecordId(hostId, e.origin.fileId, e.origin.offset),
        timeMs: e.timeMs ?? ctx.now(),
        ...(e.startMs !== undefined ? { startMs: e.startMs } : {}),
        command,
        ...(user !== undefined ? { user } : {}),
        shell: flavour,
        file: fileFacts(e.origin),
        ...(e.timeMs === undefined ? { tags: ['auditkit_time_unknown'] } : {}),
      };
      return { kind: 'event', dataset: 'commands', doc: commandEvent(ctx, facts, sessionLinkId) };
    } catch (err) {
      return parseError('SHELL_PARSER_BUG', `parser failed unexpectedly: ${(err as Error).message}`, raw);
    }
  }

  function start(record: RawRecord, timeMs: number | undefined, first: string | undefined, extra: Partial<Entry> = {}): Entry {
    const e: Entry = { origin: record.origin, timeMs, lines: first === undefined ? [] : [first], size: first?.length ?? 0, open: false, lastPush: ctx.now(), ...extra };
    return e;
  }

  function pushBash(record: RawRecord, text: string, out: ParseOutput[]): void {
    const fileId = record.origin.fileId;
    const cur = open.get(fileId);
    const ts = BASH_TS.exec(text);
    if (ts) {
      if (cur) out.push(cur.lines.length ? emit(cur) : parseError('SHELL_BASH_EMPTY', 'timestamp line without a command', { text: `#${cur.timeMs === undefined ? '' : cur.timeMs / 1000}`, origin: cur.origin }));
      open.set(fileId, start(record, Number(ts[1]) * 1000, undefined));
      return;
    }
    if (cur && cur.timeMs !== undefined) {
      // Inside a timestamped entry: every line up to the next "#epoch" belongs to it.
      if (cur.size + text.length > MAX_ENTRY) {
        out.push(parseError('SHELL_ENTRY_TOO_LONG', `history entry longer than ${MAX_ENTRY} characters: dropped`, { text: cur.lines.join('\n'), origin: cur.origin }));
        open.delete(fileId);
        return;
      }
      cur.lines.push(text);
      cur.size += text.length + 1;
      cur.lastPush = ctx.now();
      return;
    }
    if (text === '') return;
    // No timestamps in this file: one line, one command.
    out.push(emit(start(record, undefined, text)));
  }

  function pushZsh(record: RawRecord, text: string, out: ParseOutput[]): void {
    const fileId = record.origin.fileId;
    const cur = open.get(fileId);
    if (cur && cur.open) {
      if (cur.size + text.length > MAX_ENTRY) {
        out.push(parseError('SHELL_ENTRY_TOO_LONG', `history entry longer than ${MAX_ENTRY} characters: dropped`, { text: cur.lines.join('\n'), origin: cur.origin }));
        open.delete(fileId);
        return;
      }
      const cont = continues(text);
      cur.lines.push(cont ? text.slice(0, -1) : text);
      cur.size += text.length + 1;
      cur.lastPush = ctx.now();
      if (!cont) {
        open.delete(fileId);
        out.push(emit(cur));
      } else cur.open = true;
      return;
    }
    const m = ZSH_HEAD.exec(text);
    let e: Entry;
    if (m) {
      const startMs = Number(m[1]) * 1000;
      const elapsed = Number(m[2]) * 1000;
      const body = m[3] as string;
      e = start(record, startMs + elapsed, body, { startMs });
    } else {
      if (text === '') return;
      e = start(record, undefined, text);
    }
    const last = e.lines[0] as string;
    if (continues(last)) {
      e.lines[0] = last.slice(0, -1);
      e.open = true;
      open.set(fileId, e);
      return;
    }
    out.push(emit(e));
  }

  return {
    push(record) {
      const out: ParseOutput[] = [];
      try {
        const text = record.text.endsWith('\r') ? record.text.slice(0, -1) : record.text;
        if (flavour === 'bash') pushBash(record, text, out);
        else pushZsh(record, text, out);
      } catch (err) {
        out.push(parseError('SHELL_PARSER_BUG', `parser failed unexpectedly: ${(err as Error).message}`, record));
      }
      return out;
    },
    flush(now, final = false) {
      const out: ParseOutput[] = [];
      for (const [fileId, e] of open) {
        if (final || now - e.lastPush >= idle) {
          open.delete(fileId);
          if (e.lines.length) out.push(emit(e));
          else out.push(parseError('SHELL_BASH_EMPTY', 'timestamp line without a command', { text: '', origin: e.origin }));
        }
      }
      return out;
    },
    pendingOffset(fileId) {
      return open.get(fileId)?.origin.offset;
    },
  };
}

/** zsh writes a newline inside a command as backslash-newline: an odd run of trailing backslashes continues. */
function continues(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

export function bashParserUnit(opts: HistoryOptions = {}): ParserUnit {
  return {
    kind: 'bash',
    description: 'bash history files (HISTTIMEFORMAT "#epoch" lines; the user from the option or the path)',
    dataset: 'commands',
    sniff(sample) {
      const lines = sample.filter((l) => l !== '');
      const ts = lines.filter((l) => BASH_TS.test(l)).length;
      return ts > 0 && ts * 4 >= lines.length && !lines.some((l) => ZSH_HEAD.test(l));
    },
    create(ctx) {
      return historyParser('bash', ctx, opts);
    },
  };
}

export function zshParserUnit(opts: HistoryOptions = {}): ParserUnit {
  return {
    kind: 'zsh',
    description: 'zsh extended history (": start:elapsed;command", backslash continuations)',
    dataset: 'commands',
    sniff(sample) {
      const lines = sample.filter((l) => l !== '');
      return lines.length > 0 && lines.filter((l) => ZSH_HEAD.test(l)).length * 2 >= lines.length;
    },
    create(ctx) {
      return historyParser('zsh', ctx, opts);
    },
  };
}

export const bashParser: ParserUnit = bashParserUnit();
export const zshParser: ParserUnit = zshParserUnit();
