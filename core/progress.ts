/**
 * Progress for long operations. Draws one updating line on a TTY (stderr) and
 * stays silent otherwise, so piped output and `--json` are never polluted.
 */
import { escapeControl, escapeControlAll } from './text';
export interface Progress {
  update(done: number, detail?: string): void;
  /** Print a line above the progress bar (TTY) or plainly (no TTY). */
  log(line: string): void;
  done(summary?: string): void;
}

export function createProgress(label: string, total?: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY) && process.env['CI'] !== 'true';
  let last = 0;
  let lastDone = 0;
  let lastDetail = '';
  const draw = (force: boolean): void => {
    if (!tty) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const cols = stream.columns || 80;
    let text: string;
    if (total && total > 0) {
      const pct = Math.min(1, lastDone / total);
      const width = Math.max(10, Math.min(30, cols - label.length - 40));
      const filled = Math.round(pct * width);
      text = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(pct * 100).toFixed(0)}% ${lastDone}/${total}`;
    } else {
      text = `${label} ${lastDone}`;
    }
    if (lastDetail) text += ` ${lastDetail}`;
    stream.write(`\r\x1b[2K${escapeControlAll(text).slice(0, cols - 1)}`);
  };
  return {
    update(done, detail) {
      lastDone = done;
      if (detail !== undefined) lastDetail = detail;
      draw(false);
    },
    log(line) {
      if (tty) stream.write('\r\x1b[2K');
      stream.write(escapeControl(line) + '\n');
      draw(true);
    },
    done(summary) {
      if (tty) stream.write('\r\x1b[2K');
      if (summary) stream.write(escapeControl(summary) + '\n');
    },
  };
}
