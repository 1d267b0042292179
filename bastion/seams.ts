/**
 * The two seams the proxy calls per keystroke: the command extractor (a headless
 * terminal reading the echoed line at Enter) and the guard rail (rules → allow,
 * warn, block). Their real implementations are `extract.ts` and `guard.ts`, built
 * on their own branch with exactly these interfaces; until it lands the door runs
 * with the stand-ins below, and `serve` takes both as factories so the CLI wires
 * the real ones in one place.
 */
export interface ExtractedCommand {
  readonly command: string;
  /** ms epoch of Enter. */
  readonly at: number;
  readonly kind: 'line' | 'paste-line';
}

export interface CommandExtractor {
  input(data: Buffer, at: number): ExtractedCommand[];
  output(data: Buffer, at: number): void;
  resize(cols: number, rows: number): void;
  dispose(): void;
}

export type ExtractorFactory = (opts: { cols: number; rows: number }) => CommandExtractor;

export type GuardVerdict =
  | { readonly action: 'allow' }
  | { readonly action: 'warn' | 'block'; readonly rules: readonly { id: string; name: string; severity: string }[]; readonly message: string };

export interface Guard {
  check(command: string, ctx: { user: string; host: string; account: string }): GuardVerdict;
}

/** Lets everything through (until guard.ts lands, or when the policy is off). */
export const ALLOW_ALL: Guard = { check: () => ({ action: 'allow' }) };

/**
 * Stand-in extractor: the typed bytes of a line, with backspace and Ctrl-U applied,
 * reset by Ctrl-C; no tab completion, history recall or full-screen detection (the
 * real one reads the echoed line from a virtual screen). Enough for the door's
 * wiring and its tests; replaced by createCommandExtractor from extract.ts.
 */
export function createLineExtractor(): CommandExtractor {
  let line = '';
  let esc = false;
  return {
    input(data, at) {
      const out: ExtractedCommand[] = [];
      for (const ch of data.toString('utf8')) {
        const c = ch.charCodeAt(0);
        if (esc) {
          // Skip an escape sequence (arrows, function keys): letters or ~ end it.
          if (/[A-Za-z~]/.test(ch)) esc = false;
          continue;
        }
        if (c === 0x1b) esc = true;
        else if (ch === '\r' || ch === '\n') {
          if (line.trim() !== '') out.push({ command: line.trim(), at, kind: 'line' });
          line = '';
        } else if (c === 0x7f || c === 0x08) line = line.slice(0, -1);
        else if (c === 0x15 || c === 0x03) line = '';
        else if (c >= 0x20) line += ch;
      }
      return out;
    },
    output() {
      /* the stand-in does not read the screen */
    },
    resize() {
      /* nothing to resize */
    },
    dispose() {
      line = '';
    },
  };
}
