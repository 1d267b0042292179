/**
 * Aho-Corasick over ASCII with case folding, built as a dense DFA. Only the
 * construction lives here: the scan loop is in the runtime (runtime.ts), where
 * each match goes straight to the rule bookkeeping without a callback per hit.
 */

export interface Automaton {
  /** ASCII code → symbol class (0: any character no pattern has). */
  readonly cls: Uint8Array;
  readonly k: number;
  /**
   * Transitions: entry `state × k + symbol` holds the next state shifted left by
   * one, plus 1 when that state has outputs (one load per character; 16-bit
   * entries while there are fewer than 32,768 states, to halve the cache footprint).
   */
  readonly table: Uint16Array | Uint32Array;
  readonly outOff: Int32Array;
  readonly outData: Int32Array;
  readonly space: number;
}

export function buildAutomaton(patterns: ReadonlyArray<readonly [string, number]>): Automaton {
  const cls = new Uint8Array(128);
  let k = 1;
  const classOf = (code: number): number => {
    const c = code >= 65 && code <= 90 ? code + 32 : code;
    if (cls[c] === 0) {
      cls[c] = k++;
      if (c >= 97 && c <= 122) cls[c - 32] = cls[c] as number;
    }
    return cls[c] as number;
  };
  for (const [p] of patterns) for (let i = 0; i < p.length; i++) classOf(p.charCodeAt(i));
  const space = classOf(32);
  // Trie.
  const next: Array<Map<number, number>> = [new Map()];
  const outs: number[][] = [[]];
  for (const [p, rule] of patterns) {
    let s = 0;
    for (let i = 0; i < p.length; i++) {
      const c = cls[p.charCodeAt(i)] as number;
      let t = (next[s] as Map<number, number>).get(c);
      if (t === undefined) {
        t = next.length;
        next.push(new Map());
        outs.push([]);
        (next[s] as Map<number, number>).set(c, t);
      }
      s = t;
    }
    (outs[s] as number[]).push(rule);
  }
  // BFS: fail links, full transition table, outputs merged along fail links.
  const n = next.length;
  const delta = new Int32Array(n * k);
  const fail = new Int32Array(n);
  const order: number[] = [];
  for (let c = 0; c < k; c++) {
    const t = (next[0] as Map<number, number>).get(c);
    if (t !== undefined) {
      delta[c] = t;
      fail[t] = 0;
      order.push(t);
    }
  }
  for (let h = 0; h < order.length; h++) {
    const s = order[h] as number;
    const f = fail[s] as number;
    const merged = new Set([...(outs[s] as number[]), ...(outs[f] as number[])]);
    outs[s] = [...merged];
    for (let c = 0; c < k; c++) {
      const t = (next[s] as Map<number, number>).get(c);
      if (t !== undefined) {
        delta[s * k + c] = t;
        fail[t] = delta[f * k + c] as number;
        order.push(t);
      } else delta[s * k + c] = delta[f * k + c] as number;
    }
  }
  // Renumber states breadth-first: the shallow states, where a scan spends most of
  // its time, then share a few cache lines at the start of the table.
  const nid = new Int32Array(n);
  const old = new Int32Array(n);
  order.forEach((st, h) => {
    nid[st] = h + 1;
    old[h + 1] = st;
  });
  const outOff = new Int32Array(n + 1);
  const data: number[] = [];
  for (let ns = 0; ns < n; ns++) {
    outOff[ns] = data.length;
    for (const r of (outs[old[ns] as number] as number[]).sort((a, b) => a - b)) data.push(r);
  }
  outOff[n] = data.length;
  const table = n < 32_768 ? new Uint16Array(n * k) : new Uint32Array(n * k);
  for (let ns = 0; ns < n; ns++) {
    const os = old[ns] as number;
    for (let c = 0; c < k; c++) {
      const t = nid[delta[os * k + c] as number] as number;
      table[ns * k + c] = (t << 1) | ((outOff[t + 1] as number) > (outOff[t] as number) ? 1 : 0);
    }
  }
  return { cls, k, table, outOff, outData: Int32Array.from(data), space };
}
