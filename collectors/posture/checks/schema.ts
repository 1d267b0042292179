/**
 * Policy files: YAML parsed with positions (LineCounter, as rules/schema.ts and
 * core/config.ts do), validated with one zod schema; every problem of every file is
 * reported at once with file:line:col and the key path; unknown keys are rejected.
 *
 * A test is a mapping with exactly one key naming its kind (`file_match:`, `sysctl:` …,
 * or `all:` / `any:` over tests). It is one strict object with every kind optional plus
 * an "exactly one" refinement, rather than a zod union, so a mistake deep inside a test
 * is reported at its own key instead of as "matches no union member".
 */
import { LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { AuditkitError, ExitCode, formatLocation, keyNodeAt, nodeAt, yamlToJs, type SourceLocation } from '../../../core';
import { SEVERITIES, type Severity } from '../../../schema';

export const STATUSES = ['pass', 'fail', 'not_applicable', 'error'] as const;
export type Status = (typeof STATUSES)[number];

const missingStatus = z.enum(['pass', 'fail', 'not_applicable'], {
  error: (iss) => (iss.input === undefined ? 'required: say what a missing file or setting means (pass, fail or not_applicable)' : 'expected pass, fail or not_applicable'),
});
// Return type inferred: spelling out zod's pipe/transform generics adds nothing but noise.
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>);

const regexStr = z.string().min(1).superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});
/** Absolute host path, wildcards `*` `?` allowed in any component, no `..`. */
const hostPath = z
  .string()
  .regex(/^\/[^\0]*$/, 'expected an absolute path such as /etc/ssh/sshd_config')
  .refine((p) => !p.split('/').includes('..'), 'a path may not contain ..');
const octal = z.string().regex(/^0?[0-7]{3,4}$/, "expected an octal mode in quotes such as '0644'");
const owner = z.union([z.number().int().min(0), z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'expected a user or group name or a numeric id')]);
const scalar = z.union([z.string(), z.number()]);

export const valueMatchSchema = z
  .strictObject({
    equals: scalar.optional(),
    one_of: z.array(scalar).min(1).optional(),
    regex: regexStr.optional(),
    not_regex: regexStr.optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    /** Values compare case-insensitively unless set (sshd and login.defs values are). */
    case_sensitive: z.boolean().default(false),
  })
  .refine((v) => ['equals', 'one_of', 'regex', 'not_regex', 'min', 'max'].some((k) => k in v), { message: 'a value test needs one of equals, one_of, regex, not_regex, min, max' });
export type ValueMatchSpec = z.output<typeof valueMatchSchema>;

const fileMatch = z.strictObject({
  paths: oneOrMany(hostPath),
  regex: regexStr,
  /** match: some line of some file matches; no_match: no line of any file matches (offenders listed). */
  expect: z.enum(['match', 'no_match']),
  /** Comment marker stripped before matching (at line start or after whitespace); null keeps comments. */
  comments: z.string().min(1).nullable().default('#'),
  /** Join lines ending in a backslash (sudoers, shell) before matching. */
  continuation: z.boolean().default(false),
  case_sensitive: z.boolean().default(true),
  /** What it means when none of the paths exists. Required: there is no safe default. */
  on_missing: missingStatus,
});

const directive = z
  .strictObject({
    /** Read in this order (globs sorted); the sshd dialect also follows `Include`. */
    paths: oneOrMany(hostPath),
    dialect: z.enum(['sshd', 'space', 'equals']),
    key: z.string().min(1),
    /** Which occurrence is effective. Default: first for sshd (it honours the first), last otherwise. */
    wins: z.enum(['first', 'last']).optional(),
    value: valueMatchSchema,
    /** The program's built-in value, judged like a set one when the key is not set anywhere. */
    default: scalar.optional(),
    /** Status when the key is not set and no `default` is given. */
    on_unset: missingStatus.optional(),
    on_missing: missingStatus,
  })
  .refine((d) => d.default !== undefined || d.on_unset !== undefined, { message: 'a directive test needs `default:` (the built-in value) or `on_unset:`', path: ['on_unset'] });

const permissions = z.strictObject({
  paths: oneOrMany(hostPath),
  /** No permission bit beyond these (setuid/setgid/sticky included when given 4 digits). */
  max_mode: octal.optional(),
  /** Bits that must be set, e.g. '1000' for the sticky bit. */
  required_bits: octal.optional(),
  owner: oneOrMany(owner).optional(),
  group: oneOrMany(owner).optional(),
  type: z.enum(['file', 'dir']).optional(),
  on_missing: missingStatus,
});

const sysctl = z.strictObject({
  key: z.string().regex(/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/, 'expected a dotted sysctl key such as net.ipv4.ip_forward'),
  value: valueMatchSchema,
  /**
   * runtime: <root>/proc/sys; persisted: sysctl.conf and sysctl.d as applied at boot;
   * both: each must hold (the runtime side is skipped when the tree has no /proc/sys).
   */
  source: z.enum(['runtime', 'persisted', 'both']),
  /** When the kernel has no such key (a module not loaded, IPv6 off). */
  on_runtime_missing: missingStatus.default('not_applicable'),
});

const unitName = z.string().regex(/^[A-Za-z0-9:_.@-]+\.(service|socket|target|timer|mount|path)$/, 'expected a unit name such as ssh.service');
const serviceState = z.enum(['enabled', 'disabled', 'masked', 'absent']);
const service = z.strictObject({
  /** Names of the same service across distributions (ssh.service, sshd.service). */
  units: oneOrMany(unitName),
  expect: z.array(serviceState).min(1),
});

const pkg = z.strictObject({
  names: oneOrMany(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/, 'expected a package name')),
  expect: z.enum(['installed', 'absent']),
});

const pathExists = z.strictObject({
  paths: oneOrMany(hostPath),
  expect: z.enum(['present', 'absent']),
  type: z.enum(['file', 'dir', 'any']).default('any'),
});

const mount = z.strictObject({
  path: hostPath,
  /** Options the mount must carry; none = only "is a separate mount". */
  options: z.array(z.string().min(1)).default([]),
  on_missing: missingStatus,
});

const fileScan = z.strictObject({
  paths: z.array(hostPath).min(1),
  find: z.enum(['world_writable', 'unowned', 'world_writable_dir_without_sticky']),
  exclude: z.array(hostPath).default([]),
  max_depth: z.number().int().min(1).max(64).default(12),
  max_entries: z.number().int().min(1).max(2_000_000).default(200_000),
});

const accounts = z.strictObject({
  rule: z.enum(['unique_uids', 'unique_gids', 'unique_user_names', 'unique_group_names', 'groups_exist', 'shadowed_passwords', 'system_accounts_no_login']),
});

const command = z.strictObject({
  /** argv, no shell. Runs only when root is `/`; against an image the test is not applicable. */
  argv: z.array(z.string().min(1)).min(1),
  timeout_ms: z.number().int().min(100).max(60_000).default(5_000),
  max_output: z.number().int().min(256).max(1_048_576).default(65_536),
  exit_code: z.number().int().default(0),
  stdout: valueMatchSchema.optional(),
});

export type FileMatchSpec = z.output<typeof fileMatch>;
export type DirectiveSpec = z.output<typeof directive>;
export type PermissionsSpec = z.output<typeof permissions>;
export type SysctlSpec = z.output<typeof sysctl>;
export type ServiceSpec = z.output<typeof service>;
export type ServiceState = z.output<typeof serviceState>;
export type PackageSpec = z.output<typeof pkg>;
export type PathExistsSpec = z.output<typeof pathExists>;
export type MountSpec = z.output<typeof mount>;
export type FileScanSpec = z.output<typeof fileScan>;
export type AccountsSpec = z.output<typeof accounts>;
export type CommandSpec = z.output<typeof command>;

/** What the schema yields: exactly one key set (checked by the refinement). */
interface TestObject {
  all?: TestObject[] | undefined;
  any?: TestObject[] | undefined;
  file_match?: FileMatchSpec | undefined;
  directive?: DirectiveSpec | undefined;
  permissions?: PermissionsSpec | undefined;
  sysctl?: SysctlSpec | undefined;
  service?: ServiceSpec | undefined;
  package?: PackageSpec | undefined;
  path_exists?: PathExistsSpec | undefined;
  mount?: MountSpec | undefined;
  file_scan?: FileScanSpec | undefined;
  accounts?: AccountsSpec | undefined;
  command?: CommandSpec | undefined;
}

export const TEST_KINDS = ['all', 'any', 'file_match', 'directive', 'permissions', 'sysctl', 'service', 'package', 'path_exists', 'mount', 'file_scan', 'accounts', 'command'] as const;

const testSchema: z.ZodType<TestObject> = z.lazy(() =>
  z
    .strictObject({
      all: z.array(testSchema).min(1).optional(),
      any: z.array(testSchema).min(1).optional(),
      file_match: fileMatch.optional(),
      directive: directive.optional(),
      permissions: permissions.optional(),
      sysctl: sysctl.optional(),
      service: service.optional(),
      package: pkg.optional(),
      path_exists: pathExists.optional(),
      mount: mount.optional(),
      file_scan: fileScan.optional(),
      accounts: accounts.optional(),
      command: command.optional(),
    })
    .superRefine((t, ctx) => {
      const kinds = Object.keys(t).filter((k) => (t as Record<string, unknown>)[k] !== undefined);
      if (kinds.length !== 1) ctx.addIssue({ code: 'custom', message: `a test has exactly one of ${TEST_KINDS.join(', ')}; got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}` });
    }),
) as z.ZodType<TestObject>;

/** A value test with its regexes compiled once, at load. */
export interface ValueTest {
  readonly spec: ValueMatchSpec;
  readonly re: RegExp | undefined;
  readonly notRe: RegExp | undefined;
}

function compileValue(spec: ValueMatchSpec): ValueTest {
  const flags = spec.case_sensitive ? '' : 'i';
  return { spec, re: spec.regex !== undefined ? new RegExp(spec.regex, flags) : undefined, notRe: spec.not_regex !== undefined ? new RegExp(spec.not_regex, flags) : undefined };
}

/** A test as the engine sees it: a discriminated union, regexes compiled. */
export type TestSpec =
  | { readonly kind: 'all'; readonly tests: readonly TestSpec[] }
  | { readonly kind: 'any'; readonly tests: readonly TestSpec[] }
  | { readonly kind: 'file_match'; readonly spec: FileMatchSpec; readonly re: RegExp }
  | { readonly kind: 'directive'; readonly spec: DirectiveSpec; readonly value: ValueTest }
  | { readonly kind: 'permissions'; readonly spec: PermissionsSpec }
  | { readonly kind: 'sysctl'; readonly spec: SysctlSpec; readonly value: ValueTest }
  | { readonly kind: 'service'; readonly spec: ServiceSpec }
  | { readonly kind: 'package'; readonly spec: PackageSpec }
  | { readonly kind: 'path_exists'; readonly spec: PathExistsSpec }
  | { readonly kind: 'mount'; readonly spec: MountSpec }
  | { readonly kind: 'file_scan'; readonly spec: FileScanSpec }
  | { readonly kind: 'accounts'; readonly spec: AccountsSpec }
  | { readonly kind: 'command'; readonly spec: CommandSpec; readonly stdout: ValueTest | undefined };

function toTest(t: TestObject): TestSpec {
  if (t.all) return { kind: 'all', tests: t.all.map(toTest) };
  if (t.any) return { kind: 'any', tests: t.any.map(toTest) };
  if (t.file_match) return { kind: 'file_match', spec: t.file_match, re: new RegExp(t.file_match.regex, t.file_match.case_sensitive ? '' : 'i') };
  if (t.directive) return { kind: 'directive', spec: t.directive, value: compileValue(t.directive.value) };
  if (t.permissions) return { kind: 'permissions', spec: t.permissions };
  if (t.sysctl) return { kind: 'sysctl', spec: t.sysctl, value: compileValue(t.sysctl.value) };
  if (t.service) return { kind: 'service', spec: t.service };
  if (t.package) return { kind: 'package', spec: t.package };
  if (t.path_exists) return { kind: 'path_exists', spec: t.path_exists };
  if (t.mount) return { kind: 'mount', spec: t.mount };
  if (t.file_scan) return { kind: 'file_scan', spec: t.file_scan };
  if (t.accounts) return { kind: 'accounts', spec: t.accounts };
  if (t.command) return { kind: 'command', spec: t.command, stdout: t.command.stdout ? compileValue(t.command.stdout) : undefined };
  // The refinement guarantees one key; reaching here is a bug in this file.
  throw new AuditkitError('AK_INTERNAL', 'policy test with no kind passed validation');
}

const checkSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{2,100}$/, 'expected a stable lower-case id of letters, digits, dots, dashes (3–100 chars)'),
  title: z.string().min(5),
  rationale: z.string().min(10),
  severity: z.enum(SEVERITIES),
  remediation: z.strictObject({ en: z.string().min(10), 'zh-CN': z.string().min(4) }),
  /** `framework: reference`, e.g. `cis-debian-12: 5.1.20` or a generic `cis: ssh`. */
  compliance: z.array(z.string().regex(/^[a-z0-9][a-z0-9_.-]*: \S.*$/, "expected 'framework: reference' such as 'cis: ssh'")).default([]),
  applies_when: testSchema.optional(),
  test: testSchema,
});

const policyFileSchema = z.strictObject({
  policy: z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{2,100}$/, 'expected a stable lower-case id'),
    name: z.string().min(3),
    description: z.string().min(3),
    references: z.array(z.string().min(1)).default([]),
  }),
  /** Applies to every check of the policy (e.g. the SSH policy needs an sshd_config). */
  applies_when: testSchema.optional(),
  checks: z.array(checkSchema).min(1),
});

export interface Check {
  readonly id: string;
  readonly title: string;
  readonly rationale: string;
  readonly severity: Severity;
  readonly remediation: { readonly en: string; readonly 'zh-CN': string };
  readonly compliance: readonly string[];
  readonly appliesWhen: TestSpec | undefined;
  readonly test: TestSpec;
  readonly source: SourceLocation;
}

export interface Policy {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly references: readonly string[];
  readonly appliesWhen: TestSpec | undefined;
  readonly checks: readonly Check[];
  readonly source: SourceLocation;
}

export interface PolicyProblem {
  readonly path: string;
  readonly message: string;
  readonly location?: SourceLocation;
}

export class PolicyFileError extends AuditkitError {
  readonly problems: readonly PolicyProblem[];
  constructor(what: string, problems: readonly PolicyProblem[]) {
    const lines = problems.map((p) => `  ${p.location ? formatLocation(p.location) + ': ' : ''}${p.path ? p.path + ': ' : ''}${p.message}`);
    super(
      'AK_POLICY_INVALID',
      `${what}: ${problems.length} policy problem${problems.length === 1 ? '' : 's'}; fix them (format: collectors/posture/README.md, "Baseline checks"):\n${lines.join('\n')}`,
      { exitCode: ExitCode.Config },
    );
    this.name = 'PolicyFileError';
    this.problems = problems;
  }
}

function loc(file: string, lc: LineCounter, node: YamlNode | undefined): SourceLocation {
  if (!node?.range) return { file };
  const pos = lc.linePos(node.range[0]);
  return { file, line: pos.line, col: pos.col };
}

/** Parse and validate one policy file's text. Throws PolicyFileError listing every problem. */
export function parsePolicyText(text: string, file: string): Policy {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyFileError(
      file,
      doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { path: '', message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`, location: { file, line: pos.line, col: pos.col } };
      }),
    );
  }
  // Bounded alias expansion (core yamlToJs): a policy is a file someone else may have written.
  const conv = yamlToJs(doc, file);
  if (!conv.ok) throw new PolicyFileError(file, [conv.problem]);
  const js = conv.value;
  const parsed = policyFileSchema.safeParse(js);
  const problems: PolicyProblem[] = [];
  // Duplicate ids are looked for in the raw document, so they are reported with the schema's problems.
  const rawChecks = js !== null && typeof js === 'object' && 'checks' in js && Array.isArray(js.checks) ? (js.checks as unknown[]) : [];
  const seen = new Map<string, number>();
  rawChecks.forEach((c, i) => {
    const id = c !== null && typeof c === 'object' && 'id' in c && typeof c.id === 'string' ? c.id : undefined;
    if (id === undefined) return;
    const line = loc(file, lc, nodeAt(doc, ['checks', i])).line ?? 0;
    const first = seen.get(id);
    if (first !== undefined) problems.push({ path: `checks.${i}.id`, message: `duplicate check id ${id} (first at line ${first})`, location: loc(file, lc, nodeAt(doc, ['checks', i, 'id'])) });
    else seen.set(id, line);
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const full = issue.path;
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push({ path: [...full, k].join('.'), message: 'unknown key', location: loc(file, lc, keyNodeAt(doc, full, k)) });
        continue;
      }
      problems.push({ path: full.join('.'), message: issue.message, location: loc(file, lc, nodeAt(doc, full)) });
    }
  }
  // Report in file order, as an editor would walk them.
  problems.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.col ?? 0) - (b.location?.col ?? 0));
  if (!parsed.success || problems.length > 0) throw new PolicyFileError(file, problems);
  const d = parsed.data;
  const checks: Check[] = d.checks.map((c, i) => ({
    id: c.id,
    title: c.title,
    rationale: c.rationale,
    severity: c.severity,
    remediation: c.remediation,
    compliance: c.compliance,
    appliesWhen: c.applies_when ? toTest(c.applies_when) : undefined,
    test: toTest(c.test),
    source: loc(file, lc, nodeAt(doc, ['checks', i])),
  }));
  return {
    id: d.policy.id,
    name: d.policy.name,
    description: d.policy.description,
    references: d.policy.references,
    appliesWhen: d.applies_when ? toTest(d.applies_when) : undefined,
    checks,
    source: { file, line: 1 },
  };
}
