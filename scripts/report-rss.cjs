// Preloaded by benchmarks (node --require): prints this process's peak resident memory and CPU time (user + system) on exit.
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(`peak-rss-kib ${u.maxRSS}\ncpu-ms ${Math.round((u.userCPUTime + u.systemCPUTime) / 1000)}\n`);
});
