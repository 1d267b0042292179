/**
 * node-pty for the tests that drive a real shell or ssh client under a pseudo-terminal,
 * loaded once here. It is an optional native module: `ptyModule` is undefined where it is
 * not installed, and each test says so in its skip reason (never under CI=true).
 */

/** The part of node-pty's IPty the tests use. */
export interface Pty {
  readonly pid: number;
  write(d: string): void;
  onData(cb: (d: string) => void): void;
  onExit(cb: (e: { exitCode: number }) => void): void;
  kill(): void;
}

export interface PtyModule {
  spawn(file: string, args: string[], opts: Record<string, unknown>): Pty;
}

const load = (): PtyModule | undefined => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node-pty') as PtyModule;
  } catch {
    return undefined;
  }
};

export const ptyModule: PtyModule | undefined = load();

/**
 * Type a line into a shell under the pty (a newline in it is Enter, as a person types a
 * multi-line command) and wait until `seen` finds what it produced (its record, say); on a
 * timeout the error shows the end of the terminal's output.
 */
export async function typeLine<T>(term: Pty, line: string, seen: () => T | undefined, screen: () => string, ms = 20_000): Promise<T> {
  term.write(line.replace(/\n/g, '\r') + '\r');
  const end = Date.now() + ms;
  for (;;) {
    const v = seen();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for what ${JSON.stringify(line)} produces; terminal said:\n${screen().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
