/**
 * Shell history files.
 *
 * bash with HISTTIMEFORMAT set writes `#<epoch seconds>` before each entry; an
 * entry continues on the next lines only while it is syntactically open (a
 * `for … do` without `done`, an open quote, a trailing `\` or `|`: multi-line
 * entries saved with `lithist` stay whole). A complete line with no `#epoch` of
 * its own (history appended without HISTTIMEFORMAT, an edited file) is its own
 * record: it takes the time of the entry before it and is flagged
 * (`auditkit.history.untimed`, tag `auditkit_time_inferred`). Without any
 * timestamps every line is one command, and the time is unknown (the read time
 * is used and the event tagged).
 *
 * zsh EXTENDED_HISTORY writes `: <start>:<elapsed>;<command>`; a newline inside
 * a command is written as `\` + newline. zsh "metafies" bytes 0x83–0xA2 (most
 * non-ASCII UTF-8): when the text reaches us byte-transparently (latin1), we
 * unmetafy; after a UTF-8 decode those bytes are already lost (README limit).
 *
 * History files carry no user: it comes from the option `user`, else the file's
 * owner (looked up in /etc/passwd), else the path (/home/<user>/…, /root/…);
 * `auditkit.history.user_from` says which. The id is the file position of the entry's first line.
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
  /** bash: a line with no `#epoch` of its own, timed by the entry before it. */
  readonly untimed?: boolean;
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
  const users = new Map<string, { name: string; from: 'option' | 'owner' | 'path' } | undefined>();
  const userOf = (file: string): { name: string; from: 'option' | 'owner' | 'path' } | undefined => {
    if (opts.user !== undefined) return { name: opts.user, from: 'option' };
    if (!users.has(file)) {
      // The owner is a fact about this file; the path is a guess (a copied /home/x/.bash_history).
      const owner = userFromOwner(file);
      const fromPath = owner === undefined ? userFromPath(file) : undefined;
      users.set(file, owner !== undefined ? { name: owner, from: 'owner' } : fromPath !== undefined ? { name: fromPath, from: 'path' } : undefined);
    }
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
        ...(user !== undefined ? { user: user.name } : {}),
        shell: flavour,
        file: fileFacts(e.origin),
        ...(e.timeMs === undefined ? { tags: ['auditkit_time_unknown'] } : e.untimed ? { tags: ['auditkit_time_inferred'] } : {}),
      };
      const doc = commandEvent(ctx, facts, sessionLinkId);
      const history: Record<string, unknown> = {};
      if (user !== undefined) history['user_from'] = user.from;
      if (e.untimed) history['untimed'] = true;
      if (Object.keys(history).length > 0) {
        const kit = ((doc as unknown as Record<string, unknown>)['auditkit'] ??= {}) as Record<string, unknown>;
        kit['history'] = { ...((kit['history'] as Record<string, unknown> | undefined) ?? {}), ...history };
      }
      return { kind: 'event', dataset: 'commands', doc };
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
    if (cur && cur.timeMs !== undefined && cur.lines.length > 0 && !bashOpen(cur.lines.join('\n'))) {
      // The entry is complete and this line has no "#epoch" of its own: a record of its own, timed by the one before.
      out.push(emit(cur));
      if (text === '') {
        open.delete(fileId);
        return;
      }
      open.set(fileId, start(record, cur.timeMs, text, { untimed: true }));
      return;
    }
    if (cur && cur.timeMs !== undefined) {
      // Inside an open timestamped entry (or its first line): the line belongs to it.
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

/**
 * Is this bash text an unfinished command that the next line continues? An open quote, a
 * trailing backslash or pipe/and/or, or more compound openers (do, then, case, `{`, `(`)
 * than closers. A heuristic over the words, enough for what lithist writes.
 */
export function bashOpen(text: string): boolean {
  let quote = '';
  let depth = 0;
  let word = '';
  let atCommand = true;
  const endWord = (): void => {
    if (word === '') return;
    if (atCommand && /^(do|then|case|\{)$/.test(word)) depth++;
    else if (atCommand && /^(done|fi|esac|\})$/.test(word)) depth--;
    atCommand = /^(do|then|else|elif|if|while|until|!|\{|time)$/.test(word) && atCommand;
    word = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '\\') {
      if (i === text.length - 1) return true;
      word += text[++i] ?? '';
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      word += 'q';
      continue;
    }
    if (c === '#' && word === '') {
      while (i < text.length && text[i] !== '\n') i++;
      endWord();
      atCommand = true;
      continue;
    }
    if (c === ' ' || c === '\t') {
      endWord();
      continue;
    }
    if (c === '\n' || c === ';' || c === '&' || c === '|') {
      endWord();
      atCommand = true;
      continue;
    }
    if (c === '(') {
      endWord();
      depth++;
      atCommand = true;
      continue;
    }
    if (c === ')') {
      endWord();
      depth--;
      continue;
    }
    word += c;
  }
  endWord();
  if (quote) return true;
  if (/(\|\||&&|\|)\s*$/.test(text)) return true;
  return depth > 0;
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
