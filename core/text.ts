/**
 * Control characters in text meant for a person. A command line, a host name or a user
 * name is the audited user's word: printed raw, an ESC sequence in it can hide rows of
 * a table, rewrite the screen, change the window title or write the analyst's clipboard
 * (OSC 52). Every text output (tables, lines, progress, alert reasons, the report's
 * text part) shows such characters as visible escapes instead.
 *
 * Escaped: C0 controls (except the line breaks and tabs a caller keeps), DEL, C1
 * controls, and the bidirectional overrides that make text read differently from how
 * it is stored.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  const n = c.codePointAt(0) ?? 0;
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** Escapes control characters; line feeds and tabs are kept (multi-line text). */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, visible);
}

/** Escapes every control character, line feeds and tabs included (one table cell, one field). */
export function escapeControlAll(s: string): string {
  return s.replace(CONTROL_ALL, visible);
}
