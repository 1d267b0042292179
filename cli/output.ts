/**
 * Command output: human text by default, one JSON document with `--json`.
 * Logs and progress go to stderr, so stdout is always the command's result.
 * Human text never carries a raw control character (core/text.ts): table cells escape
 * every one, lines keep only their line breaks and tabs. JSON is escaped by JSON itself.
 */
import { escapeControl, escapeControlAll } from '../core';

export interface Output {
  readonly json: boolean;
  line(text?: string): void;
  /** Print a value as JSON (always, regardless of mode). */
  printJson(value: unknown): void;
  table(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, columns: readonly string[]): void;
  error(text: string): void;
}

export function formatTable(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, columns: readonly string[]): string {
  const cell = (v: unknown): string => escapeControlAll(v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const fmt = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [fmt(columns.map((c) => c.toUpperCase())), ...rows.map((r) => fmt(columns.map((c) => cell(r[c]))))].join('\n');
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    line(text = '') {
      if (!json) stdout.write(escapeControl(text) + '\n');
    },
    printJson(value) {
      stdout.write(JSON.stringify(value, null, 2) + '\n');
    },
    table(rows, columns) {
      if (!json) stdout.write(formatTable(rows, columns) + '\n');
    },
    error(text) {
      stderr.write(escapeControl(text) + '\n');
    },
  };
}
