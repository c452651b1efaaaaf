// Preloaded by benchmarks (node --require): prints this process's peak resident memory on exit.
process.on('exit', () => process.stderr.write(`peak-rss-kib ${process.resourceUsage().maxRSS}\n`));
