#!/usr/bin/env node
'use strict';
/**
 * CPU profile of one server under one workload (run `npm run bench` once first, for the builds):
 *
 *   node bench/profile.js module postgres retrieve 5
 *
 * Starts the server with a V8 profiler preloaded, seeds the table, warms up for 2 s, profiles
 * `seconds` of autocannon load, writes dist-bench/profiles/<server>-<db>-<workload>.cpuprofile
 * (open in Chrome DevTools) and prints self time by package and the top functions.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const autocannon = require('autocannon');
const { connect } = require('./db');

const [server = 'module', db = 'postgres', workload = 'retrieve', seconds = '5'] = process.argv.slice(2);
const ROOT = path.resolve(__dirname, '..');
const SCRIPTS = {
  module: ['dist-sample/main.js', {}],
  'module-fastify': ['dist-bench/apps/module-app.js', { ADAPTER: 'fastify' }],
  baseline: ['dist-bench/apps/baseline/main.js', {}],
  floor: ['bench/floor.js', {}],
};
const URLS = {
  sqlite: `sqlite:${path.join(ROOT, 'dist-bench', 'data', 'bench.sqlite')}`,
  postgres: process.env.POSTGRES_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/bench',
  mariadb: process.env.MARIADB_BENCH_URL ?? 'mysql://root@127.0.0.1:3306/bench',
};
const PORT = Number(process.env.BENCH_PROFILE_PORT ?? 3590);
const KEY = 'sk_test_bench';
const P = '/api/crm/opportunity-lost-reason';
const OUT = path.join(ROOT, 'dist-bench', 'profiles');
const FILE = path.join(OUT, `${server}-${db}-${workload}.cpuprofile`);
const PRELOAD = path.join(OUT, 'preload.js');

const auth = (body) => (body ? { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } : { authorization: `Bearer ${KEY}` });
const pick = (a) => a[Math.floor(Math.random() * a.length)];
// delete needs a fresh id per request: enough for the warm-up and the profiled seconds.
const ids = Array.from(
  { length: workload === 'delete' ? 60000 : 10000 },
  () => 'opportunity-lost-reason_' + randomBytes(16).toString('hex'),
);
let nextDelete = 0;
const REQUESTS = {
  create: () => ['POST', P, '{"lost_reason":"Price too high"}'],
  retrieve: () => ['GET', `${P}/${pick(ids)}`],
  list: () => ['GET', `${P}?limit=20&offset=0`],
  update: () => ['PATCH', `${P}/${pick(ids)}`, '{"lost_reason":"Went with a competitor"}'],
  delete: () => ['DELETE', `${P}/${ids[nextDelete++ % ids.length]}`],
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function load(duration) {
  return autocannon({
    url: `http://127.0.0.1:${PORT}`,
    connections: 10,
    duration,
    requests: [
      {
        setupRequest: (base) => {
          const [method, p, body] = REQUESTS[workload]();
          return { ...base, method, path: p, headers: auth(body), body };
        },
      },
    ],
  });
}

async function main() {
  if (!SCRIPTS[server] || !URLS[db] || !REQUESTS[workload])
    throw new Error(
      'usage: profile.js <module|module-fastify|baseline|floor> <sqlite|postgres|mariadb> <create|retrieve|list|update|delete> [seconds]',
    );
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(
    PRELOAD,
    `const inspector = require('node:inspector'); const fs = require('node:fs');
const session = new inspector.Session(); session.connect();
process.on('SIGUSR1', () => session.post('Profiler.enable', () => session.post('Profiler.start')));
process.on('SIGUSR2', () => session.post('Profiler.stop', (error, result) => { fs.writeFileSync(${JSON.stringify(FILE)}, JSON.stringify(result.profile)); process.exit(0); }));\n`,
  );
  const store = await connect(URLS[db]);
  const [script, env] = SCRIPTS[server];
  const child = spawn(process.execPath, ['-r', PRELOAD, path.join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(PORT), DATABASE_URL: URLS[db], API_KEYS: KEY, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    for (let i = 0; i < 150 && !exited; i++) {
      try {
        await fetch(`http://127.0.0.1:${PORT}${P}/x`);
        break;
      } catch {
        await sleep(200);
      }
    }
    await store.seed(ids);
    await load(2);
    await store.seed(ids);
    child.kill('SIGUSR1');
    await sleep(200);
    const result = await load(Number(seconds));
    child.kill('SIGUSR2');
    for (let i = 0; i < 100 && !exited; i++) await sleep(100);
    console.log(
      `${server} ${db} ${workload}: ${result.requests.average} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`,
    );
    summarise(JSON.parse(fs.readFileSync(FILE, 'utf8')));
  } finally {
    if (!exited) child.kill('SIGKILL');
    await store.close();
  }
}

/** Self time by package (or file of this repository) and the top functions. */
function summarise(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byPackage = new Map();
  const byFunction = new Map();
  const add = (map, key, t) => map.set(key, (map.get(key) ?? 0) + t);
  let busy = 0;
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    if (functionName === '(idle)') continue;
    busy += t;
    const pkg =
      /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
      (url.startsWith('node:') ? 'node core' : url ? url.replace(/.*\/work\/[^/]+\//, '').replace(/^file:\/\//, '') : functionName);
    add(byPackage, pkg, t);
    add(
      byFunction,
      `${functionName || '(anonymous)'}  ${url.replace(/.*node_modules\//, '').replace(/.*\/work\/[^/]+\//, '')}:${lineNumber + 1}`,
      t,
    );
  }
  const show = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .forEach(([k, t]) => console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`));
  console.log(`busy ${(busy / 1e6).toFixed(2)} s; self time by package:`);
  show(byPackage, 15);
  console.log('top functions (self time):');
  show(byFunction, 20);
  console.log(`profile: ${path.relative(ROOT, FILE)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
