#!/usr/bin/env node
// The `discretion` CLI: a thin launcher for the bundled build (`npm run build`, which `npm ci` runs).
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
