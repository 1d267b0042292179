/**
 * Per-host status lines on a TTY (stderr): one line per host, redrawn in place
 * at most every 100 ms. Without a TTY only finished hosts are printed, one line each,
 * so logs of CI runs stay readable; with --json nothing is printed here.
 */
export interface HostProgress {
  update(host: string, status: string, final: boolean): void;
  done(): void;
}

export function createHostProgress(hosts: readonly string[], opts: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}): HostProgress {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY) && process.env['CI'] !== 'true';
  const state = new Map<string, { status: string; final: boolean; t0: number }>(hosts.map((h) => [h, { status: 'waiting', final: false, t0: Date.now() }]));
  const width = Math.max(4, ...hosts.map((h) => h.length));
  let drawn = 0;
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const lines = (): string[] => {
    const rows = Math.max(5, (stream.rows || 24) - 2);
    const all = [...state.entries()];
    const doneN = all.filter(([, s]) => s.final).length;
    const show = all.length <= rows ? all : all.filter(([, s]) => !s.final && s.status !== 'waiting').slice(0, rows - 1);
    const out = show.map(([h, s]) => `${s.final ? (s.status.startsWith('failed') ? '✗' : '✓') : '…'} ${h.padEnd(width)}  ${s.status}`);
    out.push(`${doneN}/${all.length} hosts done`);
    return out;
  };
  const draw = (): void => {
    timer = undefined;
    last = Date.now();
    const cols = (stream.columns || 80) - 1;
    let buf = drawn > 0 ? `\x1b[${drawn}A` : '';
    const ls = lines();
    for (const l of ls) buf += `\r\x1b[2K${l.slice(0, cols)}\n`;
    // Erase leftovers when the block got shorter.
    for (let i = ls.length; i < drawn; i++) buf += '\r\x1b[2K\n';
    drawn = Math.max(ls.length, drawn);
    stream.write(buf);
  };
  return {
    update(host, status, final) {
      if (opts.quiet) return;
      const s = state.get(host);
      if (s) {
        s.status = status;
        s.final = final;
      }
      if (!tty) {
        if (final) stream.write(`${host}: ${status}\n`);
        return;
      }
      if (final || Date.now() - last > 100) draw();
      else if (!timer) timer = setTimeout(draw, 100);
    },
    done() {
      if (timer) clearTimeout(timer);
      if (tty && !opts.quiet) draw();
    },
  };
}
