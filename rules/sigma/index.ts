/**
 * `auditkit rules import-sigma DIR [--out DIR]`: convert every Sigma rule file
 * under DIR, report each as converted or unsupported (with the reason), and
 * optionally write the converted rules as auditkit rule files (one per rule,
 * named after the Sigma file, attribution and licence kept).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { convertSigma, type SigmaResult } from './convert';
import type { RuleDef } from '../types';

export { convertSigma, FIELD_MAP, SIGMA_LICENSE, type SigmaResult } from './convert';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fsp.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

export interface SigmaImportReport {
  readonly total: number;
  readonly converted: number;
  readonly unsupported: number;
  readonly results: readonly SigmaResult[];
}

/** Convert every *.yml under dir (paths in results are relative to dir). */
export async function importSigmaDir(dir: string): Promise<SigmaImportReport> {
  const files = await walk(dir);
  const results: SigmaResult[] = [];
  for (const f of files) {
    const rel = path.relative(dir, f);
    results.push(convertSigma(await fsp.readFile(f, 'utf8'), rel));
  }
  const converted = results.filter((r) => r.ok).length;
  return { total: results.length, converted, unsupported: results.length - converted, results };
}

/** The YAML text of a converted rule (what `--out` writes). */
export function ruleToYaml(rule: RuleDef): string {
  const { source: _source, ...rest } = rule;
  void _source;
  const header = `# Converted from SigmaHQ rule ${rule.origin?.path ?? ''} (id ${rule.origin?.id ?? ''}).\n# Author(s): ${rule.author.join(', ')}. Licence: Detection Rule License (DRL) 1.1 — keep this attribution.\n`;
  return header + stringify(rest, { lineWidth: 0 });
}

export async function writeConverted(report: SigmaImportReport, outDir: string): Promise<number> {
  await fsp.mkdir(outDir, { recursive: true });
  let n = 0;
  for (const r of report.results) {
    if (!r.ok) continue;
    const name = path.basename(r.path).replace(/\.ya?ml$/, '') + '.yml';
    await fsp.writeFile(path.join(outDir, name), ruleToYaml(r.rule));
    n++;
  }
  return n;
}
