/**
 * Split a command line into words the way a POSIX shell would for simple
 * commands: blanks separate words, '…' is literal, "…" honours \" \\ \$ \`,
 * a backslash outside quotes escapes the next character. Operators (; | &&)
 * are not special: the result is for search (`process.args`), not for execution.
 * Never throws: an unbalanced quote runs to the end of the line.
 */
const MAX_ARGS = 256;

export function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        out.push(cur);
        if (out.length >= MAX_ARGS) return out;
        cur = '';
        inWord = false;
      }
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const j = line.indexOf("'", i + 1);
      if (j < 0) {
        cur += line.slice(i + 1);
        i = n;
      } else {
        cur += line.slice(i + 1, j);
        i = j + 1;
      }
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n && line[i] !== '"') {
        const d = line[i] as string;
        if (d === '\\' && i + 1 < n && '"\\$`\n'.includes(line[i + 1] as string)) {
          if (line[i + 1] !== '\n') cur += line[i + 1];
          i += 2;
        } else {
          cur += d;
          i++;
        }
      }
      i++; // closing quote (or past the end)
      continue;
    }
    if (c === '\\') {
      if (i + 1 < n && line[i + 1] !== '\n') cur += line[i + 1];
      i += 2;
      continue;
    }
    cur += c;
    i++;
  }
  if (inWord) out.push(cur);
  return out;
}
