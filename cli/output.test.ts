import { PassThrough } from 'node:stream';
import { createOutput, formatTable } from './output';

describe('human output', () => {
  test('a table cell cannot hide rows or write the clipboard: its control characters are escaped', () => {
    const t = formatTable([{ host: 'web01\x1b[1A\x1b[2K', reason: 'rm -rf / \x1b]52;c;ZXZpbA==\x07' }, { host: 'db01', reason: 'ok' }], ['host', 'reason']);
    expect(t).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(t.split('\n')).toHaveLength(3);
    expect(t).toContain('web01\\x1b[1A\\x1b[2K');
  });

  test('lines and errors keep their line breaks but not their escapes', () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const o = createOutput(false, out, err);
    o.line('a\x1b[31mred\nb');
    o.error('e\x07');
    expect(out.read().toString()).toBe('a\\x1b[31mred\nb\n');
    expect(err.read().toString()).toBe('e\\x07\n');
  });
});
