#!/usr/bin/env node
'use strict';
/**
 * `node bench/galera.js`: what Galera's causal reads cost the module. Starts a 3-node MariaDB
 * Galera cluster (test/clusters/clusters.ts, on its own ports), builds the schema with the
 * shipped migrations, seeds it, and runs two module apps (Fastify) on node 2: one as shipped,
 * one with causal reads switched off (BENCH_CAUSAL_READS=off). Each round measures `retrieve`
 * (a random seeded id) and `list` (first page) on both, back to back, first on an idle cluster,
 * then while a third app creates objects through node 1 (the writes node 2 must wait for).
 * Prints medians over rounds and the ratio off/on.
 *
 *   node bench/galera.js [--rounds=5] [--duration=5] [--connections=10] [--no-build]
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const autocannon = require('autocannon');
const { connect, migrate } = require('./db');
const { build, median, tsc } = require('./build');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist-bench');
const API_PATH = '/api/crm/opportunity-lost-reason';
const KEY = 'sk_test_bench';
const ROWS = 10000;
const argv = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const rounds = Number(argv.rounds ?? 5);
const duration = Number(argv.duration ?? 5);
const connections = Number(argv.connections ?? 10);

function buildAll() {
  if (!('no-build' in argv)) build(['tsconfig.build.json', 'bench/tsconfig.json']);
  // The cluster helpers are the test suite's (TypeScript): compiled on their own, as test/clusters/try-clusters.sh does.
  tsc(
    ['--outDir', path.join(OUT, 'clusters'), '--rootDir', 'test/clusters', '--module', 'commonjs', '--target', 'ES2022'].concat([
      '--lib',
      'ES2024',
      '--strict',
      '--esModuleInterop',
      '--skipLibCheck',
      '--types',
      'node',
      'test/clusters/clusters.ts',
    ]),
  );
}

/** A module app on `url`, listening on `port`; resolves once it answers. */
async function startApp(url, port, env = {}) {
  const child = spawn(process.execPath, [path.join(OUT, 'apps', 'module-app.js')], {
    env: { ...process.env, ...env, DATABASE_URL: url, PORT: String(port), ADAPTER: 'fastify', API_KEYS: KEY },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    const answer = await fetch(`http://127.0.0.1:${port}${API_PATH}?limit=1`, { headers: { authorization: `Bearer ${KEY}` } }).catch(
      () => undefined,
    );
    if (answer?.ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`app on port ${port} did not start`);
}

async function measure(port, workload, ids) {
  const next =
    workload === 'retrieve'
      ? (request) => ({ ...request, path: `${API_PATH}/${ids[Math.floor(Math.random() * ids.length)]}` })
      : (request) => ({ ...request, path: `${API_PATH}?limit=20` });
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    headers: { authorization: `Bearer ${KEY}` },
    requests: [{ setupRequest: next }],
  });
  if (result.non2xx || result.errors) throw new Error(`${workload} on ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50 };
}

async function main() {
  buildAll();
  const { startGalera } = require(path.join(OUT, 'clusters', 'clusters.js'));
  const cluster = await startGalera();
  const apps = [];
  try {
    const [node1, node2] = cluster.nodes.map((node) => node.url);
    await migrate(node1);
    const seeder = await connect(node1);
    const ids = Array.from({ length: ROWS }, (_, i) => `opportunity-lost-reason_${String(i).padStart(32, '0')}`);
    await seeder.seed(ids);
    const version = await seeder.version();
    await seeder.close();
    const ports = { on: 3591, off: 3592, writer: 3593 };
    apps.push(await startApp(node2, ports.on), await startApp(node2, ports.off, { BENCH_CAUSAL_READS: 'off' }));
    apps.push(await startApp(node1, ports.writer));
    const results = {}; // results[load][workload][variant] = [{ rps, p50 }]
    for (let round = 0; round < rounds; round++) {
      for (const load of ['idle', 'writes through node 1']) {
        const writer =
          load === 'idle'
            ? undefined
            : autocannon({
                url: `http://127.0.0.1:${ports.writer}${API_PATH}`,
                connections: 4,
                duration: 4 * duration + 2,
                method: 'POST',
                headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
                body: JSON.stringify({ lost_reason: 'written elsewhere' }),
              });
        for (const workload of ['retrieve', 'list']) {
          // Alternate which variant goes first, round by round.
          for (const variant of round % 2 ? ['off', 'on'] : ['on', 'off']) {
            const value = await measure(ports[variant], workload, ids);
            (((results[load] ??= {})[workload] ??= {})[variant] ??= []).push(value);
          }
        }
        await writer; // it runs a little longer than the four measurements
      }
      console.log(`[galera] round ${round + 1}/${rounds} done`);
    }
    console.log(
      `\nGalera (3 nodes, ${version}), module on Fastify through node 2, ${connections} connections, ${duration} s x ${rounds} rounds, medians:`,
    );
    console.log('| cluster | workload | req/s with causal reads | req/s without | with / without | p50 with | p50 without |');
    console.log('|---|---|---:|---:|---:|---:|---:|');
    for (const [load, workloads] of Object.entries(results)) {
      for (const [workload, { on, off }] of Object.entries(workloads)) {
        const ratio = median(on.map((value, i) => value.rps / off[i].rps));
        const cells = [median(on.map((v) => v.rps)), median(off.map((v) => v.rps))].map((rps) => rps.toFixed(0));
        console.log(
          `| ${load} | ${workload} | ${cells[0]} | ${cells[1]} | ${ratio.toFixed(2)} | ${median(on.map((v) => v.p50))} ms | ${median(off.map((v) => v.p50))} ms |`,
        );
      }
    }
  } finally {
    for (const app of apps) app.kill();
    await cluster.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
