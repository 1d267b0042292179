/**
 * The collector package a deploy installs: a pinned Node runtime (this machine's
 * own `node`, the one the kit was tested with), the kit bundled by esbuild into
 * one JavaScript file, a tiny launcher, and the host artefacts other units own
 * (systemd unit, shell hook, audit rules) exactly as they are in
 * collectors/assets at build time. See README.md for why not a Node SEA.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AuditkitError, builtinRulesDir, cacheDir, ExitCode, KIT_ROOT, KIT_VERSION, shellQuote } from '../core';


export type FileRole = 'runtime' | 'bundle' | 'launcher' | 'meta' | 'config' | 'ca' | 'unit' | 'hook' | 'rules' | 'rulepack' | 'policy';

/**
 * One marked line deploy adds at the top of a shell startup file the host's package
 * owns (/etc/bash.bashrc, /etc/zsh/zshrc), to source a hook from it. Only when that
 * file exists; the marker makes the line exactly findable, so a re-run adds nothing
 * and --uninstall removes that line and nothing else.
 */
export interface SourceLine {
  /** The startup file on the host, without --root. Never a path the kit owns (uninstall edits it, never removes it). */
  readonly file: string;
  readonly line: string;
}

const SOURCE_LINE_MARK = '# added by auditkit deploy (removed by auditkit deploy --uninstall)';

/** The line that sources `hook` (a host path, the same inside a --root image). */
export function sourceLine(file: string, hook: string): SourceLine {
  return { file, line: `[ -r ${shellQuote(hook)} ] && . ${shellQuote(hook)} ${SOURCE_LINE_MARK}` };
}

/**
 * The startup files that get a source line. bash: sshd's exec requests run `bash -c`, which
 * reads no profile; Debian's bash (SSH_SOURCE_BASHRC) reads /etc/bash.bashrc first, but that
 * returns at once for non-interactive shells (`[ -z "$PS1" ] && return`): the line goes at the
 * top, above that return (collectors/shell/README.md "Exec requests"). zsh reads /etc/zsh/zshrc
 * for interactive shells only; the top keeps it ahead of any early return there too.
 */
export const SOURCE_FILES = { bashrc: '/etc/bash.bashrc', zshrc: '/etc/zsh/zshrc' } as const;

export interface PackageFile {
  /** Absolute path on the host, without --root. */
  readonly dest: string;
  readonly mode: number;
  readonly role: FileRole;
  readonly sha256: string;
  readonly size: number;
  /** A local file to upload, or the bytes themselves. */
  readonly source: { readonly file: string } | { readonly data: Buffer };
  /** Owner and group (default root). */
  readonly owner?: string;
}

export const INSTALL = {
  prefix: '/opt/auditkit',
  runtime: '/opt/auditkit/bin/node',
  launcher: '/opt/auditkit/bin/auditkit',
  bundle: '/opt/auditkit/lib/auditkit.js',
  /** `collect` alone (the launcher runs it for `auditkit collect`): a third of the full bundle, held in every collector's heap. */
  collectorBundle: '/opt/auditkit/lib/auditkit-collect.js',
  /** Modules the collector's bundle loads only on use (bundleCollector), beside it. */
  vendorDir: '/opt/auditkit/lib/vendor',
  /** The built-in detection rules, beside the bundle where `builtinRulesDir()` looks for them. */
  rulepacks: '/opt/auditkit/lib/builtin',
  /** The built-in posture policies, beside the bundle where `builtinPoliciesDir()` looks for them. */
  posturePolicies: '/opt/auditkit/lib/posture-policies',
  meta: '/opt/auditkit/package.json',
  configDir: '/etc/auditkit',
  config: '/etc/auditkit/auditkit.yml',
  ca: '/etc/auditkit/ca.pem',
  unitDir: '/etc/systemd/system',
  hook: '/etc/profile.d/auditkit.sh',
  zshHook: '/etc/zsh/auditkit.zsh',
  rules: '/etc/audit/rules.d/auditkit.rules',
  stateDir: '/var/lib/auditkit',
  manifest: '/var/lib/auditkit/deploy-manifest.json',
  logDir: '/var/log/auditkit',
  runDir: '/run/auditkit',
} as const;

/** Where the artefacts of the other collector units live in the repository. */
export const ASSETS = {
  unit: 'collectors/assets/systemd/auditkit-collector.service',
  hook: 'collectors/assets/shell/auditkit.sh',
  zshHook: 'collectors/assets/shell/auditkit.zsh',
  rules: 'collectors/assets/audit/auditkit.rules',
  /** The built-in posture policies (collectors/posture/checks: `builtinPoliciesDir()`). */
  posturePolicies: 'collectors/posture/checks/policies',
} as const;

export interface CollectorPackage {
  readonly version: string;
  readonly nodeVersion: string;
  /** Files common to every host (the per-host config is added by the installer). */
  readonly files: readonly PackageFile[];
  /** The unit's name when a systemd unit is packaged. */
  readonly unitName?: string;
  /** `User=` of the unit: under systemd the collector runs as this system user (created if missing) and owns its config. */
  readonly serviceUser?: string;
  /** Lines that source the packaged hooks from the host's shell startup files (where those exist). */
  readonly lines: readonly SourceLine[];
  /** Artefacts that were not in the tree at build time (said in the plan). */
  readonly missing: readonly string[];
  readonly buildMs: number;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export function dataFile(dest: string, mode: number, role: FileRole, data: Buffer): PackageFile {
  return { dest, mode, role, sha256: sha256(data), size: data.length, source: { data } };
}

/**
 * V8 flags the installed kit runs with. A small young generation and a capped old
 * one: at 1,000 events/s the collector's RSS fell from 181 to 110 MB with no change
 * in latency (`npm run bench -- pipeline`). 128 MB of old space is far above its
 * steady heap (~30 MB) and within the unit's MemoryMax.
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=128'];

/**
 * Environment the installed kit runs with (launcher and unit). glibc gives each thread
 * that mallocs its own arena (Node's libuv pool and V8's platform workers: up to 8), and
 * freed memory stays in them: two arenas cut the collector's RSS by ~10 MB at 1,000
 * events/s with no measurable CPU change (issue 20; `npm run bench -- pipeline`).
 * Fixed 64 KiB trim and mmap thresholds: blocks of 64 KiB and more (bulk bodies, spool
 * reads, read buffers) are mmap'd and go back to the kernel when freed, and a free top of
 * the heap is trimmed past 64 KiB, where glibc's dynamic threshold (raised to the largest
 * block freed, up to 32 MiB) kept them: 5-8 MB less RSS at 1,000 events/s, CPU within
 * noise (3 alternating rounds each, collectors/pipeline/README.md "Fifth pass").
 */
export const COLLECTOR_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '65536', MALLOC_MMAP_THRESHOLD_: '65536' };

/**
 * The global options that take a separate value (`--config FILE`): the launcher skips the
 * value when it looks for the command. cli/commands/index.test.ts checks this is every
 * string option of cli/options.ts GLOBAL_OPTIONS (deploy cannot import cli). A command it
 * cannot find runs on the full CLI, which runs `collect` too: only heavier.
 */
export const LAUNCHER_VALUE_OPTIONS: readonly string[] = ['--config', '--es-url', '--namespace'];

export const LAUNCHER = `#!/bin/sh
# Installed by auditkit deploy: runs the bundled kit on its pinned Node runtime,
# relative to this script so an install under another root works too.
# \`collect\` (the unit's ExecStart) runs the collector's own bundle, a third of the full CLI's.
d=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
${Object.entries(COLLECTOR_ENV).map(([k, v]) => `${k}=${v}; export ${k}\n`).join('')}b=auditkit.js
# The command is the first word that is not a global option (\`auditkit --verbose collect\`).
s=
for a in "$@"; do
  [ -n "$s" ] && { s=; continue; }
  case $a in
    ${LAUNCHER_VALUE_OPTIONS.join('|')}) s=1 ;;
    -*) ;;
    collect) b=${path.posix.basename(INSTALL.collectorBundle)}; break ;;
    *) break ;;
  esac
done
exec "$d/node" ${COLLECTOR_NODE_FLAGS.map((f) => `${f} `).join('')}"$d/../lib/$b" "$@"
`;

/** esbuild options both bundles share. */
const BUNDLE_EXTERNAL = ['@resvg/resvg-js', 'playwright-core', 'node-pty', 'cpu-features', 'esbuild', 'mailparser', 'smtp-server'];

// Native addons (ssh2's optional sshcrypto.node) stay out: their JS falls back without them.
// (Only file paths: `apache-arrow/Arrow.node` is a JS module name that must be bundled.)
const nativeAddonsExternal = { name: 'native-addons-external', setup: (b: import('esbuild').PluginBuild): void => void b.onResolve({ filter: /^[./].*\.node$/ }, (a) => ({ path: a.path, external: true })) };

async function bundleEntry(entryJs: string, outFile: string, plugins: readonly import('esbuild').Plugin[] = []): Promise<void> {
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({
      stdin: { contents: entryJs, resolveDir: KIT_ROOT, loader: 'js', sourcefile: 'auditkit-host-entry.js' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: outFile,
      external: BUNDLE_EXTERNAL,
      plugins: [...plugins, nativeAddonsExternal],
      logLevel: 'silent',
      legalComments: 'none',
      // ESM dependencies (node-cron) read import.meta.url, which a CJS bundle does not have.
      define: { 'import.meta.url': '__auditkitImportMetaUrl' },
      banner: { js: "var __auditkitImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
      // Whitespace only (names kept, so error names and stacks still read): no comments, and
      // the file shrinks from 12.4 to 9.1 MB. V8 keeps a script's whole source in the heap for
      // as long as one of its functions lives, i.e. for the collector's life.
      minifyWhitespace: true,
    });
  } catch (err) {
    throw new AuditkitError('AK_DEPLOY_PACKAGE', `cannot bundle the collector with esbuild: ${(err as Error).message.split('\n').slice(0, 4).join(' | ')}`, { cause: err, exitCode: ExitCode.Failure });
  }
  await fsp.writeFile(outFile, asciiOnly(await fsp.readFile(outFile, 'utf8')));
}

/** `require(<entry>).main(argv)`, from the sources when they are there, else from dist/. */
function entryOf(name: string): string {
  const fromSource = existsSync(path.join(KIT_ROOT, 'cli', `${name}.ts`));
  return `require(${JSON.stringify(fromSource ? `./cli/${name}` : `./dist/cli/${name}.js`)}).main(process.argv.slice(2));`;
}

/**
 * Bundle the kit's CLI (every command) into one file: what the launcher runs for
 * everything but `collect`. Native or browser-only modules of other commands stay
 * external: those commands are not for collector hosts and fail clearly there if
 * someone runs them.
 */
export async function bundleKit(outFile: string): Promise<void> {
  await bundleEntry(entryOf('main'), outFile);
}

/**
 * Packages the collector's code reaches but calls only on use, each bundled into a file
 * of its own under vendor/ beside the collector's bundle, so their source is read (and
 * held in the heap) only by a collector that calls them:
 * - nodemailer: required by rules/notify.ts when an email notifier is configured;
 * - @elastic/elasticsearch (and its Arrow reader): required by createClient, which
 *   `collect` never calls (it ships through the transport-only client);
 * - undici: @elastic/transport's connection index requires it at load, but only its
 *   UndiciConnection uses it, and the collector's pool runs HttpConnection
 *   (elastic/transport-client.ts); `lazy` makes that require a proxy that loads the
 *   file at the first property read;
 * - @opentelemetry/core (and the 177 KB of semantic-conventions it brings): required at
 *   load by @elastic/transport's Transport, used only for `suppressInternalInstrumentation`,
 *   which the collector does not set (lazy, like undici).
 */
const COLLECTOR_VENDOR: ReadonlyArray<{ readonly module: string; readonly file: string; readonly lazy: boolean }> = [
  { module: 'nodemailer', file: 'nodemailer.js', lazy: false },
  { module: '@elastic/elasticsearch', file: 'elasticsearch.js', lazy: false },
  { module: 'undici', file: 'undici.js', lazy: true },
  { module: '@opentelemetry/core', file: 'opentelemetry-core.js', lazy: true },
];

/**
 * Bundle `collect` alone (cli/collect-main.ts) into `outFile`, and the packages of
 * COLLECTOR_VENDOR into `vendor/` beside it. Returns the files written (the bundle first).
 */
export async function bundleCollector(outFile: string): Promise<string[]> {
  const vendorDir = path.join(path.dirname(outFile), path.posix.basename(INSTALL.vendorDir));
  await fsp.mkdir(vendorDir, { recursive: true });
  const rel = (file: string): string => `./${path.posix.basename(INSTALL.vendorDir)}/${file}`;
  const byModule = new Map(COLLECTOR_VENDOR.map((v) => [v.module, v]));
  const vendorPlugin: import('esbuild').Plugin = {
    name: 'collector-vendor',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${COLLECTOR_VENDOR.map((v) => v.module.replace(/[/.]/g, '\\$&')).join('|')})$`) }, (a) => {
        const v = byModule.get(a.path);
        if (!v) return undefined;
        return v.lazy ? { path: v.module, namespace: 'collector-lazy' } : { path: rel(v.file), external: true };
      });
      b.onResolve({ filter: /^\.\/vendor\// }, (a) => (a.namespace === 'collector-lazy' ? { path: a.path, external: true } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'collector-lazy' }, (a) => {
        const v = byModule.get(a.path) as (typeof COLLECTOR_VENDOR)[number];
        return {
          loader: 'js',
          contents: `let m; const load = () => (m ??= require(${JSON.stringify(rel(v.file))}));
module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, k) => { const d = Object.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; } });`,
        };
      });
    },
  };
  await bundleEntry(entryOf('collect-main'), outFile, [vendorPlugin]);
  const out = [outFile];
  for (const v of COLLECTOR_VENDOR) {
    const f = path.join(vendorDir, v.file);
    await bundleEntry(`module.exports = require(${JSON.stringify(v.module)});`, f);
    out.push(f);
  }
  return out;
}

/**
 * The bundle as pure ASCII. One non-ASCII character anywhere makes V8 hold the whole
 * source as a two-byte string: 25 MB of heap for a 12 MB bundle, in every collector.
 * esbuild escapes strings, templates and identifiers but leaves regular expression
 * literals as written (a `密码` in a prompt pattern); `\uXXXX` of each UTF-16 unit means
 * the same there (and in strings, templates and identifiers, `u` flag or not).
 */
export function asciiOnly(js: string): string {
  // After a backslash (an identity escape such as `\密`) it is left as it is: correct, only heavier.
  return js.replace(/[^\x00-\x7f]/g, (c, at: number) => (js[at - 1] === '\\' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Build the package once per deploy run. */
export async function buildPackage(opts: { workDir?: string; runtime?: string } = {}): Promise<CollectorPackage> {
  const t0 = Date.now();
  const work = opts.workDir ?? path.join(cacheDir(), 'deploy');
  await fsp.mkdir(work, { recursive: true });
  const bundle = path.join(work, 'auditkit.js');
  const collector = path.join(work, path.posix.basename(INSTALL.collectorBundle));
  const [, collectorFiles] = await Promise.all([bundleKit(bundle), bundleCollector(collector)]);
  const runtime = opts.runtime ?? process.execPath;
  const files: PackageFile[] = [];
  const [rt, bd] = await Promise.all([sha256File(runtime), sha256File(bundle)]);
  files.push({ dest: INSTALL.runtime, mode: 0o755, role: 'runtime', ...rt, source: { file: runtime } });
  files.push({ dest: INSTALL.bundle, mode: 0o644, role: 'bundle', ...bd, source: { file: bundle } });
  for (const f of collectorFiles) {
    const dest = f === collector ? INSTALL.collectorBundle : path.posix.join(INSTALL.vendorDir, path.basename(f));
    files.push({ dest, mode: 0o644, role: 'bundle', ...(await sha256File(f)), source: { file: f } });
  }
  files.push(dataFile(INSTALL.launcher, 0o755, 'launcher', Buffer.from(LAUNCHER)));
  files.push(dataFile(INSTALL.meta, 0o644, 'meta', Buffer.from(JSON.stringify({ name: 'auditkit', version: KIT_VERSION, node: process.version, private: true }, null, 2) + '\n')));
  const missing: string[] = [];
  // The collector's streaming rules engine loads the built-in packs at start.
  const packs = builtinRulesDir();
  const packFiles = existsSync(packs) ? (await fsp.readdir(packs)).filter((n) => n.endsWith('.yml')).sort() : [];
  if (packFiles.length === 0) missing.push('rules/builtin');
  for (const name of packFiles) {
    const src = path.join(packs, name);
    files.push({ dest: path.posix.join(INSTALL.rulepacks, name), mode: 0o644, role: 'rulepack', ...(await sha256File(src)), source: { file: src } });
  }
  // The collector's posture module (and `posture scan` on the host) runs the built-in baseline checks.
  const policies = path.join(KIT_ROOT, ASSETS.posturePolicies);
  const policyFiles = existsSync(policies) ? (await fsp.readdir(policies)).filter((n) => n.endsWith('.yml')).sort() : [];
  if (policyFiles.length === 0) missing.push(ASSETS.posturePolicies);
  for (const name of policyFiles) {
    const src = path.join(policies, name);
    files.push({ dest: path.posix.join(INSTALL.posturePolicies, name), mode: 0o644, role: 'policy', ...(await sha256File(src)), source: { file: src } });
  }
  let unitName: string | undefined;
  let serviceUser: string | undefined;
  const assets: Array<[string, string, number, FileRole]> = [
    [ASSETS.unit, path.posix.join(INSTALL.unitDir, path.basename(ASSETS.unit)), 0o644, 'unit'],
    [ASSETS.hook, INSTALL.hook, 0o644, 'hook'],
    [ASSETS.zshHook, INSTALL.zshHook, 0o644, 'hook'],
    // rules.d files are root-only readable, as auditd's own packaging installs them.
    [ASSETS.rules, INSTALL.rules, 0o640, 'rules'],
  ];
  for (const [rel, dest, mode, role] of assets) {
    const src = path.join(KIT_ROOT, rel);
    if (!existsSync(src)) {
      missing.push(rel);
      continue;
    }
    if (role === 'unit') {
      // The unit is installed as written except for ExecStart, which must run the packaged
      // runtime through the launcher (hosts have no /usr/bin/node).
      const text = await fsp.readFile(src, 'utf8');
      const rewritten = text.replace(/^ExecStart=.*$/m, `ExecStart=${INSTALL.launcher} collect --config ${INSTALL.config}`);
      files.push(dataFile(dest, mode, role, Buffer.from(rewritten)));
      unitName = path.basename(rel);
      const user = /^User=(\S+)\s*$/m.exec(text)?.[1];
      if (user && user !== 'root') serviceUser = user;
      continue;
    }
    const h = await sha256File(src);
    files.push({ dest, mode, role, ...h, source: { file: src } });
  }
  const has = (dest: string): boolean => files.some((f) => f.dest === dest);
  const lines = [
    ...(has(INSTALL.hook) ? [sourceLine(SOURCE_FILES.bashrc, INSTALL.hook)] : []),
    ...(has(INSTALL.zshHook) ? [sourceLine(SOURCE_FILES.zshrc, INSTALL.zshHook)] : []),
  ];
  return { version: KIT_VERSION, nodeVersion: process.version, files, lines, ...(unitName ? { unitName } : {}), ...(serviceUser ? { serviceUser } : {}), missing, buildMs: Date.now() - t0 };
}
