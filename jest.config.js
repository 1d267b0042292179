'use strict';
// Three projects, each test file in exactly one (tools/jest-projects.test.ts checks):
// - unit: beside the code, no services;
// - int: test/**, against real services the harness starts (one shared Elasticsearch
//   node from the global setup, see test/harness/es.ts; SMTP, a Kibana contract server);
// - e2e: test/** files that drive the built `auditkit` binary (so they need
//   `npm run build`) or real shells and sshd end to end.
// `npm test` builds and runs all three; `npm run test:unit|test:int|test:e2e` one.
const path = require('node:path');

const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] };
// Every file's /tmp/ak-* directories are removed when it ends, pass or fail (test/harness/tmp-cleanup.ts).
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'], setupFilesAfterEnv: ['<rootDir>/test/harness/tmp-cleanup.ts'] };
const services = { globalSetup: '<rootDir>/test/harness/global-setup.ts', globalTeardown: '<rootDir>/test/harness/global-teardown.ts' };

/** The end-to-end tests: the built binary (runCli, bin/auditkit.js) or real shells/sshd. */
const E2E = [
  'test/demo/compose.test.ts', // `auditkit validate` (the binary) on the stack's configs
  'test/demo/demo.test.ts',
  'test/bastion/bastion.test.ts', // the built binary, the real ssh client in a pty, real sshd
  'test/bastion/sftp.test.ts', // the built binary, the real sftp and scp clients, real sshd
  'test/bastion/web.test.ts', // the built binary, real Chromium (playwright-core), real sshd
  'test/deploy/deploy.test.ts', // real sshd
  'test/foundation/cli.test.ts',
  'test/foundation/setup-private.test.ts',
  'test/pipeline/detect.test.ts',
  'test/posture/cli.test.ts', // `auditkit posture scan` (the built binary)
  'test/pipeline/kill.test.ts',
  'test/pipeline/listeners.test.ts',
  'test/reports/cli.test.ts',
  'test/rules/cli.test.ts',
  'test/rules/triage.test.ts', // `alerts ack|close|list --status` through the binary on a secured node
  'test/rules/service.test.ts', // the detection service and ingest detection through the built binary
  'test/shell/hook.e2e.test.ts', // real bash in a pty
  'test/shell/zsh-hook.e2e.test.ts', // real zsh in a pty
  'test/trust/hostile-user.test.ts', // the built collector attacked as uid nobody
  'test/trust/prompt.e2e.test.ts', // real bash in a pty against the built receiver
];
const escape = (p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

module.exports = {
  testTimeout: 60000,
  // Why each skipped test skipped, at the end of the run; under CI=true a skip fails it.
  reporters: ['default', '<rootDir>/tools/jest-skip-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{cli,core,schema,elastic,collectors,fleet,deploy,bastion,demo,rules,reports,dashboards,tools}/**/*.test.ts'] },
    {
      ...common,
      ...services,
      displayName: 'int',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...E2E.map((f) => `^${escape(path.join(__dirname, f))}$`)],
    },
    { ...common, ...services, displayName: 'e2e', testMatch: E2E.map((f) => `<rootDir>/${f}`) },
  ],
};
