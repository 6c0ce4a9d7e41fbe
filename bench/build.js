'use strict';
/** What the benchmark scripts share: building what they run, and the median they report. */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** Runs the repository's TypeScript compiler with `args`, from the repository's root. */
function tsc(args) {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), ...args], { cwd: ROOT, stdio: 'inherit' });
}

/** Builds the module (dist/), the sample (dist-sample/) and the bench apps (dist-bench/apps/), or the `projects` given. */
function build(projects = ['tsconfig.build.json', 'sample/tsconfig.json', 'bench/tsconfig.json']) {
  for (const project of projects) {
    console.log(`[bench] tsc -p ${project}`);
    tsc(['-p', project]);
  }
}

/** The median of the finite values; NaN if there is none. */
function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

module.exports = { build, median, tsc };
