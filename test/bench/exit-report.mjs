// Preloaded into a measured process (cli-process.ts, `node --import`): at exit, writes its own CPU
// seconds and peak RSS to the file CHT_SYNC_BENCH_EXIT_REPORT names.
import { writeFileSync } from 'node:fs';

const file = process.env.CHT_SYNC_BENCH_EXIT_REPORT;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({ cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssMb: usage.maxRSS / 1024 }),
    );
  });
}
