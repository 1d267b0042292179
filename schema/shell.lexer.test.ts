/**
 * The lexer's char-class table (schema/shell.ts) against the per-character
 * regex/set version it replaced, kept below verbatim as the oracle: the same
 * tokens and words for any line under MAX_PARSE_CHARS. Then the parse caps:
 * what the rules see of a huge line is bounded, and a cut line is marked.
 */
import fc from 'fast-check';
import { globMatches, MAX_COMMAND_CHARS, MAX_PARSE_CHARS, MAX_TOKENS, shellTokens, shellWords, simpleCommands, simpleCommandsFromArgv, type SimpleCommand } from './shell';

// ---- oracle: the lexer as it was before the char-class table (commit 9eb295b) ----
const PLAIN_OPS = /[^\s'"\\$`<>&|;()#]/;
const PLAIN_WORDS = /[^\s'"\\]/;
const OP_START = new Set(['<', '>', '&', '|', ';', '(', ')', '\n']);
const DQ_SPECIAL = new Set(['"', '\\', '$', '`']);
const OPS = ['<<<', '&>>', '||', '&&', ';;', '|&', '>>', '>&', '&>', '>|', '<<', '<&', '<>', '|', '&', ';', '>', '<', '(', ')', '\n'];
function oldCloseParen(line: string, i: number): number {
  const n = line.length;
  let depth = 1;
  while (i < n) {
    const c = line[i] as string;
    if (c === '\\') i += 2;
    else if (c === "'") {
      const j = line.indexOf("'", i + 1);
      i = j < 0 ? n : j + 1;
    } else if (c === '"') {
      i++;
      while (i < n && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      if (--depth === 0) return i;
      i++;
    } else i++;
  }
  return n;
}

/**
 * The scan behind both views: words go to `texts`; with `ops`, `isOp` gets one
 * flag per text and `subs` the bodies of command and process substitutions.
 * Parallel arrays rather than token objects: the collector calls this once per
 * command on the ingest path and needs only the strings.
 */
function oldScan(line: string, ops: boolean, max: number, texts: string[], isOp: boolean[], subs?: string[]): number {
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  const plain = ops ? PLAIN_OPS : PLAIN_WORDS;
  const push = (): void => {
    if (inWord) {
      texts.push(cur);
      isOp.push(false);
    }
    cur = '';
    inWord = false;
  };
  // Substitution bodies count against the same cap (one word may hold thousands of `$(…)`).
  while (i < n && texts.length + (subs?.length ?? 0) < max) {
    const c = line[i] as string;
    if (c === "'") {
      const j = line.indexOf("'", i + 1);
      const end = j < 0 ? n : j;
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n && line[i] !== '"') {
        const d = line[i];
        if (d === '\\' && i + 1 < n && '"\\$`\n'.includes(line[i + 1] as string)) {
          // `\<newline>` inside double quotes is a line continuation: nothing.
          if (line[i + 1] !== '\n') cur += line[i + 1];
          i += 2;
        } else if (ops && d === '$' && line[i + 1] === '(') {
          const end = oldCloseParen(line, i + 2);
          subs?.push(line.slice(i + 2, end));
          cur += line.slice(i, Math.min(end + 1, n));
          i = end + 1;
        } else if (ops && d === '`') {
          const j = line.indexOf('`', i + 1);
          const end = j < 0 ? n : j;
          subs?.push(line.slice(i + 1, end));
          cur += line.slice(i, end + 1);
          i = end + 1;
        } else {
          // A run of ordinary characters at once: no per-character string building.
          let j = i + 1;
          while (j < n && !DQ_SPECIAL.has(line[j] as string)) j++;
          cur += line.slice(i, j);
          i = j;
        }
      }
      i++;
      inWord = true;
      continue;
    }
    if (c === '\\') {
      if (i + 1 < n && line[i + 1] !== '\n') cur += line[i + 1];
      i += 2;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || (c === '\n' && !ops)) {
      push();
      i++;
      continue;
    }
    if (ops && (c === '$' || ((c === '<' || c === '>') && !inWord)) && line[i + 1] === '(') {
      // A command substitution `$(…)` or a process substitution `<(…)`/`>(…)`:
      // kept inside its word (bash passes it as one argument), body handed back.
      const end = oldCloseParen(line, i + 2);
      subs?.push(line.slice(i + 2, end));
      cur += line.slice(i, Math.min(end + 1, n));
      i = end + 1;
      inWord = true;
      continue;
    }
    if (ops && c === '`') {
      const j = line.indexOf('`', i + 1);
      const end = j < 0 ? n : j;
      subs?.push(line.slice(i + 1, end));
      cur += line.slice(i, end + 1);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (ops && c === '#' && !inWord) {
      i = n; // a comment: the rest of the line is read, not cut
      break;
    }
    if (!ops || !OP_START.has(c)) {
      // Consume a run of plain characters at once (the common case).
      let j = i + 1;
      while (j < n && plain.test(line[j] as string)) j++;
      cur += line.slice(i, j);
      inWord = true;
      i = j;
      continue;
    }
    let op: string | undefined;
    for (const o of OPS) {
      if (line.startsWith(o, i)) {
        op = o;
        break;
      }
    }
    if (op !== undefined) {
      // `2>`, `0<&3`: a word of digits right before a redirection is its file descriptor.
      if ((op[0] === '>' || op[0] === '<') && inWord && /^\d+$/.test(cur)) {
        cur = '';
        inWord = false;
      } else {
        push();
      }
      texts.push(op);
      isOp.push(true);
      i += op.length;
      continue;
    }
    cur += c;
    inWord = true;
    i++;
  }
  if (texts.length < max) push();
  return i;
}

function oldTokens(line: string): Array<{ text: string; op: boolean }> {
  const texts: string[] = [];
  const isOp: boolean[] = [];
  oldScan(line, true, Infinity, texts, isOp);
  return texts.map((text, k) => ({ text, op: isOp[k] as boolean }));
}

function oldWords(line: string): string[] {
  const texts: string[] = [];
  oldScan(line, false, 256, texts, []);
  return texts;
}
// ---- end of oracle ----

/** Lines made of what the lexer treats specially, plus plain, non-ASCII and Unicode blank characters. */
const piece = fc.constantFrom(
  ...[' ', '\t', '\r', '\n', "'", '"', '\\', '$', '`', '#', '<', '>', '&', '|', ';', '(', ')', '$(', '<(', '>(', '2>', '&>>', '<<<', ';;', '|&', '>|'],
  ...['a', 'ls', '-rf', '/etc/shadow', '1', '23', 'x=1', 'é', '中', '😀', '\u00a0', '\u2028', '\v', '\f', '\u212a', '\u017f'],
);
const line = fc.array(piece, { maxLength: 60 }).map((a) => a.join(''));

const sizeOf = (cs: readonly SimpleCommand[]): number =>
  cs.reduce((n, c) => n + [...c.argv, ...c.assigns, ...c.writes, ...c.reads].reduce((m, w) => m + w.length, 0), 0);

describe('lexer char-class table', () => {
  it('gives the same tokens and words as the regex lexer on any line', () => {
    fc.assert(
      fc.property(fc.oneof(line, fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 })), (l) => {
        expect(shellTokens(l)).toEqual(oldTokens(l));
        expect(shellWords(l)).toEqual(oldWords(l));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parse caps (issue 14: bounded rule time on a hostile line)', () => {
  it(`lexes at most ${MAX_PARSE_CHARS} characters and marks the cut, so ak-lnx-command-line-truncated raises`, () => {
    const head = 'echo ' + 'A'.repeat(MAX_PARSE_CHARS - 20) + ' ; ';
    const cs = simpleCommands(head + 'rm -rf / ' + 'B'.repeat(MAX_PARSE_CHARS));
    expect(cs[cs.length - 1]?.truncated).toBe(true);
    expect(sizeOf(cs)).toBeLessThanOrEqual(MAX_PARSE_CHARS);
    // A single 1 MiB word: cut, not copied whole.
    const one = simpleCommands('cat ' + 'x'.repeat(1 << 20));
    expect(one).toHaveLength(1);
    expect(one[0]?.argv[1]?.length).toBe(MAX_PARSE_CHARS - 4);
    expect(one[0]?.truncated).toBe(true);
    // Just under the cap: whole, not marked.
    const under = simpleCommands('cat ' + 'x'.repeat(MAX_PARSE_CHARS - 4));
    expect(under[0]?.truncated).toBeUndefined();
    expect(under[0]?.argv[1]?.length).toBe(MAX_PARSE_CHARS - 4);
  });

  it(`keeps what all commands hold (wrappers and nested lines included) within ${MAX_COMMAND_CHARS} characters and ${MAX_TOKENS} tokens`, () => {
    const big = (unit: string): string => unit.repeat(Math.ceil((1 << 20) / unit.length));
    for (const l of [big('sudo '), big("sh -c '"), 'echo ' + big('$('), 'diff ' + big('<('), big('a|'), 'echo ' + big('"$('), "sudo sh -c '" + 'y'.repeat(60_000) + "'"]) {
      const cs = simpleCommands(l);
      expect(sizeOf(cs)).toBeLessThanOrEqual(MAX_COMMAND_CHARS);
      expect(cs.length).toBeLessThanOrEqual(MAX_TOKENS);
      expect(cs[cs.length - 1]?.truncated).toBe(true);
    }
  });

  it('cuts an EXECVE argv at the same character cap', () => {
    const cs = simpleCommandsFromArgv(['cat', 'x'.repeat(1 << 20), 'y']);
    expect(cs[0]?.argv).toEqual(['cat', 'x'.repeat(MAX_PARSE_CHARS - 3)]);
    expect(cs[0]?.truncated).toBe(true);
    expect(simpleCommandsFromArgv(['cat', 'x'.repeat(1000)])[0]?.truncated).toBeUndefined();
  });
});

describe('words that name what the parser looks up (wrappers, shells, container CLIs)', () => {
  // Object.prototype's names were taken for wrappers (`toString -x y` threw), and a line that throws
  // is a line the rules never see: `toString -x; cat /etc/shadow` hid the cat from every rule.
  // (Words with balanced quotes only: an open quote rightly runs to the end of the line.)
  const names = [...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'sudo', 'env', 'timeout', 'chroot', 'sh', 'su', 'eval', 'docker', 'kubectl', 'lxc', 'exec', 'container'];
  const word = fc.oneof(fc.constantFrom(...names), fc.constantFrom('-x', '-u', '-n', '-c', '--', '-it', '--user', '0', 'web', "'id'", '"$(id)"'), fc.stringMatching(/^[A-Za-z0-9_.=:/-]{0,8}$/));
  it('never throw, and the commands after them on the line are still parsed', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 12 }), (ws) => {
        const cs = simpleCommands(`${ws.join(' ')}\ncat /etc/shadow`);
        expect(cs.some((c) => c.name === 'cat' && c.argv[1] === '/etc/shadow' && c.depth === 0)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    for (const n of Object.getOwnPropertyNames(Object.prototype)) expect(simpleCommands(`${n} -x -u y z; cat /etc/shadow`).map((c) => c.name)).toEqual([n, 'cat']);
  });
});

describe('glob matching (sensitive paths spelled as globs)', () => {
  // The oracle: the glob as a regex, per bash's pathname expansion (no `/` inside `*`, `?` or a class).
  const oracle = (g: string, t: string): boolean => {
    let re = '^';
    for (let i = 0; i < g.length; i++) {
      const c = g[i] as string;
      const end = c === '[' ? g.indexOf(']', i + (g[i + 1] === '!' ? 3 : 2)) : -1;
      if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else if (c === '[' && end > 0) {
        const neg = g[i + 1] === '!';
        re += `(?!/)[${neg ? '^' : ''}${g.slice(i + (neg ? 2 : 1), end).replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
    return new RegExp(re + '$').test(t);
  };
  const segChar = fc.constantFrom('a', 'b', 'c', '.', '-', '_');
  const path = fc.array(fc.array(segChar, { minLength: 1, maxLength: 6 }).map((a) => a.join('')), { minLength: 1, maxLength: 3 }).map((a) => '/' + a.join('/'));
  const globPiece = fc.oneof(segChar, fc.constantFrom('*', '?', '[ab]', '[!a]', '[a-c]', '/'));
  const glob = fc.array(globPiece, { minLength: 1, maxLength: 10 }).map((a) => '/' + a.join(''));
  it('agrees with the regex reading of the glob', () => {
    fc.assert(
      fc.property(glob, path, (g, t) => {
        expect({ g, t, m: globMatches(g, t) }).toEqual({ g, t, m: oracle(g, t) });
      }),
      { numRuns: 5000 },
    );
  });
});
