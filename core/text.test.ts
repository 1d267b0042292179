import fc from 'fast-check';
import { escapeControl, escapeControlAll } from './text';

describe('control characters in text for a person', () => {
  test('ESC sequences (clear screen, OSC 52 clipboard write, cursor moves) are shown, not run', () => {
    const evil = 'ls \x1b[2J\x1b]52;c;ZXZpbA==\x07\x1b[1A\u202Etxt.exe';
    expect(escapeControlAll(evil)).toBe('ls \\x1b[2J\\x1b]52;c;ZXZpbA==\\x07\\x1b[1A\\u202etxt.exe');
    expect(escapeControl('two\nlines\tand \x9b C1')).toBe('two\nlines\tand \\x9b C1');
  });

  test('no control character survives, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        expect(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(escapeControlAll(s))).toBe(false);
        expect(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(escapeControl(s))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
