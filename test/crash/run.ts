/**
 * `npm run crash -- --kills 500 [--seed N] [--workers 4] [--keep]`: a long crash run. Prints the
 * seed first, so a failure reproduces with `--seed`.
 */
import { parseArgs } from "node:util";
import { runCrash } from "./harness.ts";
import { randomSeed } from "./rng.ts";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "500" },
    seed: { type: "string" },
    workers: { type: "string", default: "4" },
    keep: { type: "boolean", default: false },
  },
});
const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
const report = await runCrash({
  kills: Number(values.kills),
  seed,
  workers: Number(values.workers),
  keepData: values.keep,
  log: (line) => process.stdout.write(`${line}\n`),
});
const { walk, counters } = report;
process.stdout.write(
  `${JSON.stringify({ ...report, problems: report.problems.slice(0, 50), walk, counters }, null, 2)}\n`,
);
if (report.problems.length > 0) {
  process.stdout.write(`FAILED with seed ${seed}; data kept in ${report.dataDir}\n`);
  process.exit(1);
}
process.stdout.write(
  `passed: ${report.kills} kills in ${Math.round(report.durationMs / 1000)} s, seed ${seed}\n`,
);
