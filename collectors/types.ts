/**
 * Contracts between the collector's stages. Sources yield raw records with their
 * origin; parsers turn records into ECS events (or counted errors); the pipeline
 * spools, ships and checkpoints. Everything here is shared by collectors/auditd,
 * collectors/shell and collectors/pipeline: change it only additively.
 */
import type { AgentFields, AuditkitEvent, Dataset, HostFields } from '../schema';

/** Where a raw record came from: enough to checkpoint it and to build a deterministic id. */
export interface RecordOrigin {
  /** Path as read (for messages and log.file.path). */
  readonly file: string;
  /** Stable identity of the file across renames: `<dev>:<ino>` plus a fingerprint of its first bytes. */
  readonly fileId: string;
  /** Byte offset of the first byte of this record in the file. */
  readonly offset: number;
  /** Byte offset just after this record (the checkpoint once it is durable). */
  readonly end: number;
  /** 1-based line number where known. */
  readonly line?: number;
}

export interface RawRecord {
  /** One line (without its newline), or one message for non-file sources. */
  readonly text: string;
  readonly origin: RecordOrigin;
}

export interface ParseContext {
  readonly host: HostFields;
  readonly agent: AgentFields;
  readonly namespace: string;
  /** Milliseconds since the epoch; injectable for tests and replays. */
  now(): number;
  /**
   * State a parser unit keeps across its instances (one per input) and across runs, made,
   * loaded and saved by the agent, keyed by parser kind (`hook`: the hook parser's login
   * memory, collectors/shell/hook.ts). Absent: each instance keeps its own, in memory.
   */
  readonly shared?: ReadonlyMap<string, unknown>;
}

export type ParseOutput =
  | {
      readonly kind: 'event';
      readonly dataset: Dataset;
      readonly doc: AuditkitEvent;
      /**
       * `doc` as JSON text, when the parser already has it (ndjson: the line it parsed, which
       * `doc` only completed): the encoder ships it instead of serialising `doc` again, unless
       * routing or `enrich` replaced `doc` on the way (issue 20). Same meaning as `doc`.
       */
      readonly json?: string;
    }
  /** A record that could not be parsed: counted and dead-lettered, never thrown. */
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly raw: string; readonly origin: RecordOrigin }
  /** Events the source says were lost before we saw them (e.g. auditd serial gaps). */
  | { readonly kind: 'lost'; readonly count: number; readonly reason: string };

/**
 * A parser for one input format. Stateful parsers (auditd assembles several
 * lines into one event) buffer records; `pendingOffset` tells the pipeline the
 * lowest file offset still buffered, so a checkpoint never passes a record that
 * has not become an event yet (after a crash those lines are read again, and the
 * deterministic ids make the replay harmless).
 */
export interface LineParser {
  push(record: RawRecord): ParseOutput[];
  /** Emit whatever is complete or timed out at `now`; at end of input, `final` = true flushes everything. */
  flush(now: number, final?: boolean): ParseOutput[];
  /** Lowest `origin.offset` per fileId still held in the parser's buffers (undefined: nothing buffered). */
  pendingOffset(fileId: string): number | undefined;
}

export interface ParserUnit {
  /** Format name used by `--format` and `collector.inputs[].format`. */
  readonly kind: string;
  readonly description: string;
  /** The dataset its events go to. */
  readonly dataset: Dataset;
  /** For `--format auto`: does this sample (first lines of a file) look like this format? */
  sniff(sample: readonly string[]): boolean;
  create(ctx: ParseContext): LineParser;
}
