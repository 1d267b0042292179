#!/usr/bin/env node
'use strict';
// The built CLI lives in dist/; `npm run build` (or `npm test`) produces it.
try {
  require('../dist/cli/main.js').main(process.argv.slice(2));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main')) {
    process.stderr.write('auditkit: not built yet; run `npm run build` first\n');
    process.exit(70);
  }
  throw err;
}
