'use strict';
/**
 * The servers the benchmarks run, by name: what each is and the script that serves it (from the
 * repository's root, after the build). `only`: the workloads a server without a database answers.
 */
const SERVERS = {
  module: { label: 'module (Express)', script: 'dist-sample/main.js', env: {} },
  'module-fastify': { label: 'module (Fastify)', script: 'dist-bench/apps/module-app.js', env: { ADAPTER: 'fastify' } },
  baseline: { label: 'baseline (Express)', script: 'dist-bench/apps/baseline/main.js', env: {} },
  'baseline-fastify': { label: 'baseline (Fastify)', script: 'dist-bench/apps/baseline/main.js', env: { ADAPTER: 'fastify' } },
  floor: { label: 'floor (node:http)', script: 'bench/floor.js', env: {} },
  // No database: a constant object, what the framework alone costs.
  'ceiling-express': { label: 'ceiling (Express)', script: 'dist-bench/apps/ceiling.js', env: { ADAPTER: 'express' }, only: ['retrieve'] },
  'ceiling-fastify': { label: 'ceiling (Fastify)', script: 'dist-bench/apps/ceiling.js', env: { ADAPTER: 'fastify' }, only: ['retrieve'] },
  // The floor's server without a database: node:http's own work, which leaves the floor's database work.
  http: { label: 'node:http (constant)', script: 'bench/floor.js', env: { DATABASE_URL: '' }, only: ['retrieve'] },
};

module.exports = { SERVERS };
