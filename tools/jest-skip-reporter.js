'use strict';
/**
 * Jest prints nothing for a test file whose tests were all skipped, and drops the console lines
 * that say why (a missing sshd, bash, zsh, docker...). This reporter collects every skipped test
 * and the warnings its file printed, and lists them at the very end, where a person reads.
 * Under CI=true a skipped test fails the run: on CI every prerequisite must be installed.
 */
class SkipReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.skipped = [];
    this.error = undefined;
  }

  onTestResult(_test, result) {
    const pending = result.testResults.filter((t) => t.status === 'pending' || t.status === 'skipped' || t.status === 'todo');
    if (pending.length === 0 && !result.skipped) return;
    const reasons = (result.console || [])
      .filter((c) => c.type === 'warn' || /skip/i.test(String(c.message)))
      .map((c) => String(c.message).split('\n')[0]);
    this.skipped.push({
      file: result.testFilePath.replace(`${this.globalConfig.rootDir}/`, ''),
      whole: result.numPassingTests === 0 && result.numFailingTests === 0,
      tests: pending.map((t) => t.fullName),
      reasons: [...new Set(reasons)],
    });
  }

  onRunComplete() {
    if (this.skipped.length === 0) return;
    const out = ['', `Skipped (${this.skipped.length} file${this.skipped.length === 1 ? '' : 's'}):`];
    for (const s of this.skipped) {
      out.push(`  ${s.file}: ${s.whole ? 'the whole file' : `${s.tests.length} test${s.tests.length === 1 ? '' : 's'}`} skipped`);
      for (const r of s.reasons) out.push(`      why: ${r}`);
      if (s.reasons.length === 0) out.push('      why: (the file printed no reason)');
      if (!s.whole) for (const t of s.tests.slice(0, 5)) out.push(`      - ${t}`);
    }
    if (process.env.CI === 'true') {
      out.push('CI=true: a skipped test fails the run (install what the reasons above name).');
      this.error = new Error(`${this.skipped.length} test file(s) skipped tests under CI=true`);
    }
    process.stderr.write(`${out.join('\n')}\n`);
  }

  getLastError() {
    return this.error;
  }
}

module.exports = SkipReporter;
