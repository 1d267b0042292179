/**
 * Stage 2, parse and normalise: what a source read → parse outputs (ECS events,
 * errors, lost counts), handed straight to the next stage. The parser units do
 * the parsing and normalising (collectors/parsers.ts); this stage picks the unit,
 * turns what no unit can read (over-long lines, files of an unknown format) into
 * error outputs, so they are dead-lettered like any unreadable record, and says
 * which dataset a record was meant for.
 */
import type { Dataset } from '../../schema';
import type { ParseOutput } from '../types';
import type { Counters } from './counters';
import type { InputSource } from './sources';
import type { TailItem } from './tailer';

/** The next stage: `dataset` is where the records of `outs` were meant to go (for dead letters). */
export type ParsedSink = (src: InputSource, outs: readonly ParseOutput[], dataset: Dataset) => void;

/** Parse one item a source read. */
export function parseItem(src: InputSource, item: TailItem, counters: Counters, next: ParsedSink): void {
  counters.received++;
  const origin = item.kind === 'record' ? item.record.origin : item.origin;
  const p = src.parserOf(origin.fileId, origin.file);
  const dataset = p?.unit.dataset ?? src.input.dataset ?? 'commands';
  if (item.kind === 'oversize') {
    next(src, [{ kind: 'error', code: 'AK_LINE_TOO_LONG', message: `line of ${item.bytes} bytes is longer than max_line_bytes (${src.input.maxLineBytes}); its first bytes are kept`, raw: item.head, origin }], dataset);
  } else if (!p) {
    next(src, [{ kind: 'error', code: 'AK_FORMAT_UNKNOWN', message: `no parser recognises ${origin.file} (format auto); set the input's format`, raw: item.record.text, origin }], dataset);
  } else {
    next(src, p.parser.push(item.record), p.unit.dataset);
  }
}

/** What a source's parsers complete or time out at `now` (`final`: end of input, everything). */
export function flushParsers(src: InputSource, now: number, final: boolean, next: ParsedSink): void {
  for (const p of src.parsers.values()) next(src, p.parser.flush(now, final), p.unit.dataset);
}
