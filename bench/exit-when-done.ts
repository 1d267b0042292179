/**
 * How a benchmark script (or a worker it forks) ends when run directly: exit 0 when its job
 * is done, else the error on stderr and exit 1. The exit is explicit because a bench may
 * leave handles open (watchers, sockets) that would otherwise keep the process alive.
 */
export function exitWhenDone(job: Promise<unknown>): void {
  job.then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(String(err) + '\n');
      process.exit(1);
    },
  );
}
