/**
 * Stage 1, sources: one file tailer per configured input, each seeing only its own
 * checkpoints, and the parser each file is read with (its input's format, or the
 * one `--format auto` sniffs from its first lines).
 *
 * A source never commits a checkpoint: `safePositions()` says how far each file
 * may be checkpointed, held back to the lowest offset a parser still buffers, and
 * the write-ahead stage (write-ahead.ts) commits it once the events are durable.
 */
import * as fs from 'node:fs';
import type { Logger } from '../../core';
import type { Dataset } from '../../schema';
import { PARSERS } from '../parsers';
import type { LineParser, ParseContext, ParserUnit } from '../types';
import { inputKey, ownerOf, type CheckpointStore, type FileCheckpoint } from './checkpoints';
import { FileTailer } from './tailer';

export interface PipelineInput {
  readonly paths: readonly string[];
  /** A parser kind, or 'auto'. */
  readonly format: string;
  readonly dataset?: Dataset;
  readonly namespace: string;
  readonly startAt: 'beginning' | 'end';
  readonly maxLineBytes: number;
}

export interface SourceOptions {
  readonly rotatedGraceMs: number;
  readonly oneShot: boolean;
  readonly parseContext: Omit<ParseContext, 'namespace'>;
  readonly log?: Logger;
}

/** Sniff a file's first lines for `--format auto`; undefined when no parser claims it. */
export function sniffFormat(file: string, parsers: readonly ParserUnit[] = PARSERS): ParserUnit | undefined {
  let sample: string[] = [];
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(16 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const lines = buf.toString('utf8', 0, n).split('\n');
      if (n === buf.length) lines.pop();
      sample = lines.filter((l) => l.trim() !== '').slice(0, 20);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (sample.length === 0) return undefined;
  return parsers.find((p) => p.sniff(sample));
}

export interface FileParser {
  readonly unit: ParserUnit;
  readonly parser: LineParser;
}

/** One configured input: its tailer and the parsers its files are read with. */
export class InputSource {
  /** Parser per kind (auto: files may differ). */
  readonly parsers = new Map<string, FileParser>();
  /** fileId → parser kind (null: no parser recognises the file). */
  private readonly fileKinds = new Map<string, string | null>();

  constructor(
    readonly input: PipelineInput,
    readonly tailer: FileTailer,
    private readonly o: SourceOptions,
  ) {}

  /** The parser of file `fileId` (created on first use); undefined when none recognises it. */
  parserOf(fileId: string, file: string): FileParser | undefined {
    let kind = this.fileKinds.get(fileId);
    if (kind === undefined) {
      kind = this.input.format !== 'auto' ? this.input.format : (sniffFormat(file)?.kind ?? null);
      this.fileKinds.set(fileId, kind);
      if (kind === null) this.o.log?.warn({ 'file.path': file }, 'no parser recognises this file (format auto); its lines are dead-lettered');
    }
    if (kind === null) return undefined;
    let p = this.parsers.get(kind);
    if (!p) {
      const unit = PARSERS.find((u) => u.kind === kind);
      if (!unit) return undefined;
      p = { unit, parser: unit.create({ ...this.o.parseContext, namespace: this.input.namespace }) };
      this.parsers.set(kind, p);
    }
    return p;
  }

  /**
   * How far each file may be checkpointed now: the tailer's position, held back to
   * the lowest offset a parser still buffers (a crash then re-reads those lines).
   */
  *safePositions(): Generator<[string, FileCheckpoint]> {
    for (const [id, cp] of this.tailer.positions()) {
      let offset = cp.offset;
      for (const p of this.parsers.values()) {
        const pend = p.parser.pendingOffset(id);
        if (pend !== undefined && pend < offset) offset = pend;
      }
      yield [id, offset === cp.offset ? cp : { ...cp, offset }];
    }
  }
}

/**
 * A source per input. Each tailer gets the checkpoints of the files its input reads
 * (see FileCheckpoint.input); checkpoints no input owns any more are forgotten.
 */
export function openSources(inputs: readonly PipelineInput[], checkpoints: CheckpointStore | undefined, o: SourceOptions): InputSource[] {
  const keyed = inputs.map((input) => ({ input, key: inputKey(input.paths), paths: input.paths }));
  const owned = new Map<string, Map<string, FileCheckpoint>>(keyed.map((k) => [k.key, new Map()]));
  const orphans: string[] = [];
  for (const [id, cp] of checkpoints?.all() ?? []) {
    const owner = ownerOf(cp, keyed);
    if (owner === undefined) orphans.push(id);
    else owned.get(owner)?.set(id, cp);
  }
  if (orphans.length > 0 && checkpoints) {
    o.log?.info({ count: orphans.length }, 'forgetting checkpoints of files no configured input reads any more');
    checkpoints.forget(orphans);
  }
  return keyed.map(
    ({ input, key }) =>
      new InputSource(
        input,
        new FileTailer({
          paths: input.paths,
          startAt: input.startAt,
          maxLineBytes: input.maxLineBytes,
          rotatedGraceMs: o.rotatedGraceMs,
          oneShot: o.oneShot,
          // A copy: the tailer must see the checkpoints of the previous run, not the ones this run commits.
          checkpoints: owned.get(key) ?? new Map(),
          input: key,
          ...(o.log ? { log: o.log } : {}),
        }),
        o,
      ),
  );
}
