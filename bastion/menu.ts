/**
 * The interactive menu, in-process: a small line editor over the SSH channel (no
 * local shell is ever spawned, no menu input reaches child_process). Lists the
 * user's hosts and groups, searches by name or address, and picks a target; a
 * unique partial match connects directly, as the old menus did.
 */
import type { Target } from './access';

/** Printable text only: control characters (ESC above all) shown as \xNN, never interpreted by the terminal. */
export function safeText(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Lines written to a terminal: \n → \r\n, control characters escaped. */
export function termLines(...lines: string[]): string {
  return lines.map((l) => safeText(l).replace(/\n/g, '\r\n')).join('\r\n') + '\r\n';
}

export type MenuChoice = { readonly kind: 'target'; readonly target: Target } | { readonly kind: 'quit' };

export function renderTargets(targets: readonly Target[], title: string): string {
  if (targets.length === 0) return termLines(title, '  (no hosts)');
  const rows = targets.map((t, i) => [String(i + 1), t.host.name, t.host.port === 22 ? t.host.address : `${t.host.address}:${t.host.port}`, t.account, t.host.groups.join(',')]);
  const head = ['#', 'HOST', 'ADDRESS', 'ACCOUNT', 'GROUPS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]): string => '  ' + r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return termLines(title, fmt(head), ...rows.map(fmt));
}

export function renderGroups(targets: readonly Target[]): string {
  const counts = new Map<string, Set<string>>();
  for (const t of targets) for (const g of t.host.groups) counts.set(g, (counts.get(g) ?? new Set()).add(t.host.name));
  if (counts.size === 0) return termLines('Groups: (none)');
  return termLines(`Groups: ${[...counts].map(([g, hs]) => `${g} (${hs.size})`).join(', ')}`);
}

export const MENU_HELP = termLines(
  'Type a number, a host name or address (a unique partial match connects),',
  '  /TEXT to search, g GROUP to list a group, g to list groups, l to list all, q to quit.',
);

/** What a line typed at the menu means, given the targets listed last and all targets. */
export function interpret(line: string, shown: readonly Target[], all: readonly Target[]): { readonly connect?: Target; readonly show?: { title: string; targets: Target[] }; readonly text?: string; readonly quit?: true } {
  const s = line.trim();
  if (s === '') return {};
  if (s === 'q' || s === 'quit' || s === 'exit') return { quit: true };
  if (s === 'h' || s === '?' || s === 'help') return { text: MENU_HELP };
  if (s === 'l' || s === 'p') return { show: { title: 'All your hosts:', targets: [...all] } };
  if (s === 'g') return { text: renderGroups(all) };
  if (s.startsWith('g ')) {
    const g = s.slice(2).trim();
    const ts = all.filter((t) => t.host.groups.includes(g));
    return ts.length ? { show: { title: `Group ${g}:`, targets: ts } } : { text: termLines(`No group named ${g} among your hosts.`) };
  }
  if (/^\d+$/.test(s)) {
    const t = shown[Number(s) - 1];
    return t ? { connect: t } : { text: termLines(`No entry ${s} in the list shown.`) };
  }
  const q = s.startsWith('/') ? s.slice(1).trim().toLowerCase() : s.toLowerCase();
  const exact = all.filter((t) => t.host.name.toLowerCase() === q || t.host.address.toLowerCase() === q || `${t.account}@${t.host.name}`.toLowerCase() === q);
  if (!s.startsWith('/') && exact.length === 1) return { connect: exact[0] as Target };
  const hits = all.filter((t) => t.host.name.toLowerCase().includes(q) || t.host.address.toLowerCase().includes(q) || t.host.tags.some((x) => x.toLowerCase().includes(q)));
  if (!s.startsWith('/') && hits.length === 1) return { connect: hits[0] as Target };
  if (hits.length === 0) return { text: termLines(`Nothing matches ${s}.`) };
  return { show: { title: `Matches for ${q}:`, targets: exact.length > 1 ? exact : hits } };
}

/**
 * A line editor over a channel: echo, backspace, Ctrl-U, Ctrl-C (clears),
 * Ctrl-D on an empty line (quit). Escape sequences (arrows) are ignored.
 */
export class LineReader {
  private buf = '';
  private esc = false;
  private waiting: ((line: string | null) => void) | undefined;

  constructor(private readonly echo: (s: string) => void) {}

  feed(data: Buffer): void {
    for (const ch of data.toString('utf8')) {
      const c = ch.charCodeAt(0);
      if (this.esc) {
        if (/[A-Za-z~]/.test(ch)) this.esc = false;
        continue;
      }
      if (c === 0x1b) this.esc = true;
      else if (ch === '\r' || ch === '\n') {
        this.echo('\r\n');
        const line = this.buf;
        this.buf = '';
        this.resolve(line);
      } else if (c === 0x7f || c === 0x08) {
        if (this.buf.length > 0) {
          this.buf = [...this.buf].slice(0, -1).join('');
          this.echo('\b \b');
        }
      } else if (c === 0x15) {
        this.echo('\b \b'.repeat([...this.buf].length));
        this.buf = '';
      } else if (c === 0x03) {
        this.buf = '';
        this.echo('^C\r\n');
        this.resolve('');
      } else if (c === 0x04) {
        if (this.buf === '') this.resolve(null);
      } else if (c >= 0x20 && this.buf.length < 256) {
        this.buf += ch;
        this.echo(ch);
      }
    }
  }

  private resolve(line: string | null): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.(line);
  }

  /** The next line, or null on Ctrl-D / channel end. */
  read(): Promise<string | null> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  end(): void {
    this.resolve(null);
  }
}
