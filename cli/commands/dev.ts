import { createProgress, ExitCode } from '../../core';
import { devNodeStart, devNodeStatus, devNodeStop } from '../../elastic';
import type { AuditkitCommand } from '../context';

export const devCommand: AuditkitCommand = {
  command: 'dev <target> <action>',
  describe: 'Embedded local Elasticsearch for trying the kit: dev es start|stop|status',
  builder: (y) =>
    y
      .positional('target', { choices: ['es'] as const, describe: 'what to manage' })
      .positional('action', { choices: ['start', 'stop', 'status'] as const })
      .option('port', { type: 'number', describe: 'HTTP port (default 9200 if free, else any free port)' })
      .option('security', { type: 'boolean', default: false, describe: 'start with security on (prints the elastic password once)' })
      .option('clean', { type: 'boolean', default: false, describe: 'with stop: also delete the node\'s data' }),
  async run(ctx, argv) {
    const action = argv['action'] as 'start' | 'stop' | 'status';
    if (action === 'start') {
      const p = createProgress('elasticsearch');
      const port = argv['port'] as number | undefined;
      const { state, alreadyRunning } = await devNodeStart({ ...(port ? { port } : {}), security: Boolean(argv['security']), onProgress: (m) => p.log(m) });
      p.done();
      if (ctx.out.json) ctx.out.printJson({ url: state.url, version: state.version, pid: state.pid, already_running: alreadyRunning, start_ms: state.startMs, security: state.security });
      else {
        ctx.out.line(alreadyRunning ? `Elasticsearch ${state.version} already running at ${state.url}` : `Elasticsearch ${state.version} running at ${state.url} (started in ${(state.startMs / 1000).toFixed(1)} s)`);
        if (state.password && !alreadyRunning) ctx.out.line(`user elastic, password ${state.password} (shown once; also in the dev state file, mode 600)`);
        ctx.out.line('Next: auditkit setup elasticsearch');
      }
      return ExitCode.Ok;
    }
    if (action === 'stop') {
      const r = await devNodeStop({ clean: Boolean(argv['clean']) });
      if (ctx.out.json) ctx.out.printJson({ was_running: r.wasRunning });
      else ctx.out.line(r.wasRunning ? 'Elasticsearch stopped' : 'Elasticsearch was not running');
      return ExitCode.Ok;
    }
    const s = await devNodeStatus();
    if (ctx.out.json) ctx.out.printJson({ running: s.running, healthy: s.healthy, url: s.state?.url, version: s.state?.version, pid: s.state?.pid, health: s.health });
    else ctx.out.line(s.running ? `running at ${s.state?.url} (Elasticsearch ${s.state?.version}, pid ${s.state?.pid}, ${s.healthy ? 'healthy' : 'not answering'})` : 'not running (start it with `auditkit dev es start`)');
    return s.running && s.healthy ? ExitCode.Ok : ExitCode.Unavailable;
  },
};
