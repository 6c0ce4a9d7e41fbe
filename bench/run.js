#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: autocannon against the module (sample app, Express), the module on
 * Fastify, a hand-written NestJS baseline on each adapter and a plain node:http floor, on
 * SQLite, PostgreSQL and MariaDB, at 10 and 50 connections (and retrieve at 200); plus the
 * NestJS framework ceiling on each adapter and node:http's own, which give each cell its cap.
 * Servers alternate inside every round; medians over rounds. Prints a table and refreshes
 * bench/RESULTS.md.
 *
 *   npm run bench -- --db=sqlite,postgres --workloads=retrieve,list --duration=3 --rounds=3
 *
 * Options (or env): --db (BENCH_DB, default sqlite,postgres,mariadb), --workloads
 * (BENCH_WORKLOADS), --servers (BENCH_SERVERS: module,module-fastify,baseline,baseline-fastify,floor),
 * --duration seconds (BENCH_DURATION, 3), --rounds (BENCH_ROUNDS, 3), --connections
 * (BENCH_CONNECTIONS, 10,50), --curve (BENCH_CURVE, retrieve@200), --rows seeded (BENCH_ROWS, 10000), --no-ceiling, --no-build,
 * --no-write (leave RESULTS.md alone). Databases: POSTGRES_BENCH_URL
 * (postgres://postgres@127.0.0.1:5432/bench), MARIADB_BENCH_URL
 * (mysql://root@127.0.0.1:3306/bench); SQLite is a file under dist-bench/.
 * Ports: BENCH_PORT (3510; uses the next 9 too; keep within 3500-3599).
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const autocannon = require('autocannon');
const { connect, migrate } = require('./db');
const { SERVERS } = require('./servers');
const { build, median } = require('./build');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist-bench');
const RESULTS = path.join(__dirname, 'RESULTS.md');
const API_PATH = '/api/crm/opportunity-lost-reason';
const KEY = 'sk_test_bench';
const ID = /^opportunity-lost-reason_[0-9a-f]{32}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// ---------------------------------------------------------------- options
const argv = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, ...value] = arg.replace(/^--/, '').split('=');
    return [key, value.length ? value.join('=') : true];
  }),
);
const opt = (name, env, fallback) => argv[name] ?? process.env[env] ?? fallback;
const list = (value) =>
  String(value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const ALL_DBS = ['sqlite', 'postgres', 'mariadb'];
const ALL_WORKLOADS = ['create', 'retrieve', 'list', 'list-deep', 'update', 'delete', 'mix'];
const ALL_SERVERS = ['module', 'module-fastify', 'baseline', 'baseline-fastify', 'floor'];
const config = {
  dbs: list(opt('db', 'BENCH_DB', ALL_DBS.join(','))),
  workloads: list(opt('workloads', 'BENCH_WORKLOADS', ALL_WORKLOADS.join(','))),
  servers: list(opt('servers', 'BENCH_SERVERS', ALL_SERVERS.join(','))),
  duration: Number(opt('duration', 'BENCH_DURATION', 3)),
  rounds: Number(opt('rounds', 'BENCH_ROUNDS', 3)),
  connections: list(opt('connections', 'BENCH_CONNECTIONS', '10,50')).map(Number),
  // Extra cells at a higher concurrency, to show the curve: workload@connections.
  curve: list(opt('curve', 'BENCH_CURVE', 'retrieve@200')),
  rows: Number(opt('rows', 'BENCH_ROWS', 10000)),
  ceiling: !argv['no-ceiling'],
  build: !argv['no-build'] && !process.env.BENCH_NO_BUILD,
  write: !argv['no-write'],
  port: Number(opt('port', 'BENCH_PORT', 3510)),
};
config.deepOffset = Math.floor(config.rows * 0.9);
config.deleteRows = Math.max(config.rows, 6000 * config.duration);
for (const [name, values, allowed] of [
  ['db', config.dbs, ALL_DBS],
  ['workloads', config.workloads, ALL_WORKLOADS],
  ['servers', config.servers, ALL_SERVERS],
]) {
  for (const value of values) if (!allowed.includes(value)) throw new Error(`--${name}: unknown "${value}" (use ${allowed.join(', ')})`);
}
if (!(config.duration > 0 && config.duration <= 120 && config.rounds >= 1 && config.rounds <= 20))
  throw new Error('duration 0-120 s, rounds 1-20');
if (config.port < 3500 || config.port + 9 > 3599) throw new Error('BENCH_PORT must keep ports within 3500-3599');
if (!config.connections.every((c) => Number.isInteger(c) && c >= 1 && c <= 1000)) throw new Error('--connections: integers 1-1000');

/** What each round measures: every workload at every connection count, then the curve's cells. */
const CELLS = [
  ...config.connections.flatMap((connections) => config.workloads.map((workload) => ({ workload, connections }))),
  ...config.curve
    .map((cell) => {
      const [workload, connections] = cell.split('@');
      if (!ALL_WORKLOADS.includes(workload) || !(Number(connections) >= 1))
        throw new Error(`--curve: "${cell}" is not workload@connections`);
      return { workload, connections: Number(connections) };
    })
    .filter(({ workload }) => config.workloads.includes(workload)),
].map((cell) => ({ ...cell, key: `${cell.workload} @${cell.connections}` }));
const CONNECTION_COUNTS = [...new Set(CELLS.map((cell) => cell.connections))];
/**
 * The list again on the schema `synchronize` builds (the sample's): no count table, so the
 * module's total is a `COUNT(*)`, as the baseline's always is. Not on SQLite, where the module
 * keeps the count itself on either schema.
 */
const SYNCHRONIZE_CELLS = config.workloads.includes('list')
  ? config.connections.map((connections) => ({
      workload: 'list, synchronize schema',
      connections,
      key: `list-synchronize @${connections}`,
    }))
  : [];

const DB_URLS = {
  sqlite: `sqlite:${path.join(OUT, 'data', 'bench.sqlite')}`,
  postgres: process.env.POSTGRES_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/bench',
  mariadb: process.env.MARIADB_BENCH_URL ?? 'mysql://root@127.0.0.1:3306/bench',
};

const PORTS = Object.fromEntries(Object.keys(SERVERS).map((name, i) => [name, config.port + i]));

// ---------------------------------------------------------------- servers
const running = new Set();

async function startServer(name, dbUrl, dbName) {
  const spec = SERVERS[name];
  fs.mkdirSync(path.join(OUT, 'logs'), { recursive: true });
  const log = fs.openSync(path.join(OUT, 'logs', `${dbName}-${name}.log`), 'w');
  const child = spawn(process.execPath, [path.join(ROOT, spec.script)], {
    cwd: ROOT,
    env: { ...process.env, ...spec.env, PORT: String(PORTS[name]), DATABASE_URL: dbUrl ?? '', API_KEYS: KEY, NODE_ENV: 'production' },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const server = { name, child, port: PORTS[name], exited: false };
  child.on('exit', () => (server.exited = true));
  running.add(server);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`${name} exited at start-up; see dist-bench/logs/${dbName}-${name}.log`);
    try {
      await fetch(`http://127.0.0.1:${server.port}${API_PATH}/x`, { signal: AbortSignal.timeout(1000) });
      return server;
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`${name} did not answer within 30 s`);
}

async function stopServer(server) {
  running.delete(server);
  if (server.exited) return;
  server.child.kill('SIGTERM');
  for (let i = 0; i < 50 && !server.exited; i++) await sleep(100);
  if (!server.exited) server.child.kill('SIGKILL');
}

function rssMiB(server) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function cleanup() {
  await Promise.all([...running].map(stopServer));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n[bench] ${signal}: stopping servers`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- contract check
/** A quick check that the server honours the contract; returns a list of problems. */
async function contractProblems(port) {
  const problems = [];
  const base = `http://127.0.0.1:${port}${API_PATH}`;
  const auth = { authorization: `Bearer ${KEY}` };
  const call = async (method, url, body) => {
    const response = await fetch(url, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  };
  const expect = (what, ok, got) => {
    if (!ok) problems.push(`${what} (got ${JSON.stringify(got).slice(0, 160)})`);
    return ok;
  };
  try {
    const created = await call('POST', base, { lost_reason: 'Contract check' });
    const object = created.json;
    if (
      !expect(
        'POST → 201 object',
        created.status === 201 && ID.test(object?.id) && ISO.test(object?.created_at) && object?.lost_reason === 'Contract check',
        created,
      )
    )
      return problems;
    expect(
      'POST object has exactly id, created_at, updated_at, lost_reason',
      Object.keys(object).join() === 'id,created_at,updated_at,lost_reason',
      object,
    );
    const retrieved = await call('GET', `${base}/${object.id}`);
    expect('GET id → 200 same object', retrieved.status === 200 && JSON.stringify(retrieved.json) === JSON.stringify(object), retrieved);
    const listed = await call('GET', `${base}?limit=2&offset=0`);
    expect(
      'list → {data, has_more, total}, newest first',
      listed.status === 200 &&
        listed.json?.data?.[0]?.id === object.id &&
        listed.json.data.length === 2 &&
        listed.json.has_more === true &&
        typeof listed.json.total === 'number',
      listed,
    );
    const updated = await call('PATCH', `${base}/${object.id}`, { lost_reason: 'Updated' });
    expect(
      'PATCH → 200 updated object',
      updated.status === 200 && updated.json?.lost_reason === 'Updated' && updated.json?.created_at === object.created_at,
      updated,
    );
    const deleted = await call('DELETE', `${base}/${object.id}`);
    expect(
      'DELETE → 200 {id, deleted: true}',
      deleted.status === 200 && deleted.json?.id === object.id && deleted.json?.deleted === true,
      deleted,
    );
    const gone = await call('GET', `${base}/${object.id}`);
    expect('GET deleted id → 404', gone.status === 404, gone);
    const anonymous = await fetch(base, { signal: AbortSignal.timeout(5000) });
    expect('no key → 401', anonymous.status === 401, anonymous.status);
  } catch (error) {
    problems.push(`request failed: ${error.message}`);
  }
  return problems;
}

// ---------------------------------------------------------------- workloads
const headers = (body) =>
  body === undefined ? { authorization: `Bearer ${KEY}` } : { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const pick = (array) => array[Math.floor(Math.random() * array.length)];
/** A fresh request object every time (autocannon mutates the headers of the one it is given). */
const req = (base, method, urlPath, body) => ({
  ...base,
  method,
  path: urlPath,
  headers: headers(body),
  body: body === undefined ? undefined : JSON.stringify(body),
});
const newId = () => 'opportunity-lost-reason_' + randomBytes(16).toString('hex');

const WORKLOADS = {
  create: { seed: 'rows', mutates: true, next: (b) => req(b, 'POST', API_PATH, { lost_reason: 'Price too high' }) },
  retrieve: { seed: 'rows', next: (b, s) => req(b, 'GET', `${API_PATH}/${pick(s.ids)}`) },
  list: { seed: 'rows', next: (b) => req(b, 'GET', `${API_PATH}?limit=20&offset=0`) },
  'list-deep': { seed: 'rows', next: (b) => req(b, 'GET', `${API_PATH}?limit=20&offset=${config.deepOffset}`) },
  update: {
    seed: 'rows',
    mutates: true,
    next: (b, s) => req(b, 'PATCH', `${API_PATH}/${pick(s.ids)}`, { lost_reason: 'Went with a competitor' }),
  },
  // Each DELETE takes the next never-deleted id; past the seeded ones, requests would 404 (reported).
  delete: {
    seed: 'delete',
    mutates: true,
    next: (b, s) => req(b, 'DELETE', `${API_PATH}/${s.deleteIds[s.cursor++ % s.deleteIds.length]}`),
  },
  mix: {
    seed: 'rows',
    mutates: true,
    next: (b, s) => {
      const r = Math.random();
      if (r < 0.7) return req(b, 'GET', `${API_PATH}/${pick(s.ids)}`);
      if (r < 0.9) return req(b, 'GET', `${API_PATH}?limit=20&offset=0`);
      return req(b, 'POST', API_PATH, { lost_reason: 'Price too high' });
    },
  },
};

async function measure(port, workload, state, duration, connections = config.connections[0]) {
  state.cursor = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    requests: [{ setupRequest: (base) => WORKLOADS[workload].next(base, state) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

// ---------------------------------------------------------------- the run
const results = {}; // results[db][workload][server] = [round results]
const memory = {}; // memory[db][server] = { start, end }
const notes = [];
const dbVersions = {};

function record(db, workload, server, value) {
  ((results[db] ??= {})[workload] ??= {})[server] ??= [];
  results[db][workload][server].push(value);
}

async function runDatabase(db) {
  const url = DB_URLS[db];
  if (db === 'sqlite') {
    fs.mkdirSync(path.dirname(url.slice(7)), { recursive: true });
    for (const suffix of ['', '-journal', '-wal', '-shm']) fs.rmSync(url.slice(7) + suffix, { force: true });
  }
  let store;
  try {
    store = await connect(url);
  } catch (error) {
    const message = `${db}: unreachable (${error.message}); skipped`;
    console.warn(`[bench] ${message}`);
    notes.push(message);
    return;
  }
  const servers = {};
  try {
    dbVersions[db] = await store.version();
    await store.dropTable();
    await migrate(url);
    const state = {
      ids: Array.from({ length: config.rows }, newId),
      deleteIds: Array.from({ length: config.deleteRows }, newId),
      cursor: 0,
    };
    let table = 'none';
    const seed = async (kind) => {
      if (table === kind) return;
      // Requests still in flight when autocannon stops can write after a TRUNCATE (the
      // baseline's save() re-inserts a row it no longer finds): let them drain, retry if not.
      for (let attempt = 1; ; attempt++) {
        await sleep(500 * attempt);
        try {
          await store.seed(kind === 'delete' ? state.deleteIds : state.ids);
          break;
        } catch (error) {
          if (attempt >= 3) throw error;
          console.warn(`[bench] ${db}: seeding failed (${error.message}); retrying`);
        }
      }
      table = kind;
    };
    // The sample app (synchronize: true) creates the table the way TypeORM does; then the others.
    const order = ['module', ...config.servers.filter((s) => s !== 'module')];
    for (const name of order) {
      if (name !== 'module' && !config.servers.includes(name)) continue;
      console.log(`[bench] ${db}: starting ${name} on :${PORTS[name]}`);
      servers[name] = await startServer(name, url, db);
      (memory[db] ??= {})[name] = { start: rssMiB(servers[name]), rounds: [] };
    }
    if (!config.servers.includes('module')) await stopServer(servers.module).then(() => delete servers.module);
    for (const name of config.servers) {
      await seed('rows');
      const problems = await contractProblems(servers[name].port);
      table = 'dirty';
      if (problems.length) {
        const message = `${db} / ${name}: contract check failed: ${problems.join('; ')}`;
        console.warn(`[bench] ${message}`);
        notes.push(message);
      }
      await seed('rows');
      await measure(servers[name].port, 'mix', state, 2); // warm-up, not recorded
      table = 'dirty';
    }
    for (let round = 0; round < config.rounds; round++) {
      for (const [c, { workload, connections, key }] of CELLS.entries()) {
        const names = rotate(config.servers, round + c);
        for (const name of names) {
          await seed(WORKLOADS[workload].seed);
          const value = await measure(servers[name].port, workload, state, config.duration, connections);
          if (WORKLOADS[workload].mutates) table = 'dirty';
          record(db, key, name, value);
          console.log(
            `[bench] ${db} r${round + 1} ${key.padEnd(14)} ${name.padEnd(16)} ${fmt(value.rps, 0).padStart(7)} req/s  p50 ${value.p50} ms  p99 ${value.p99} ms${value.non2xx || value.errors ? `  non-2xx ${value.non2xx} errors ${value.errors}` : ''}`,
          );
        }
      }
      // After every round, so growth that keeps going shows apart from a plateau reached early.
      for (const [name, server] of Object.entries(servers)) memory[db][name]?.rounds.push(rssMiB(server));
    }
    for (const [name, server] of Object.entries(servers)) if (memory[db][name]) memory[db][name].end = rssMiB(server);
    if (db !== 'sqlite' && SYNCHRONIZE_CELLS.length) {
      await seed('rows');
      await store.dropCounts();
      // The module finds the count table once, at start-up.
      for (const name of ['module', 'module-fastify'].filter((n) => servers[n])) {
        await stopServer(servers[name]);
        servers[name] = await startServer(name, url, db);
        await measure(servers[name].port, 'list', state, 1); // warm-up
      }
      const names = config.servers.filter((name) => name !== 'floor'); // the floor reads the count table
      for (let round = 0; round < config.rounds; round++) {
        for (const { connections, key } of SYNCHRONIZE_CELLS) {
          for (const name of rotate(names, round)) {
            const value = await measure(servers[name].port, 'list', state, config.duration, connections);
            record(db, key, name, value);
            console.log(`[bench] ${db} r${round + 1} ${key.padEnd(22)} ${name.padEnd(16)} ${fmt(value.rps, 0).padStart(7)} req/s`);
          }
        }
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map(stopServer));
    await store.close();
  }
}

/** The adapters' ceilings and node:http's, at every connection count the cells use. */
async function runCeiling() {
  const names = ['ceiling-express', 'ceiling-fastify', 'http'];
  const servers = {};
  const state = { ids: Array.from({ length: 100 }, newId), cursor: 0 };
  try {
    for (const name of names) {
      console.log(`[bench] ceiling: starting ${name} on :${PORTS[name]}`);
      servers[name] = await startServer(name, undefined, 'none');
      (memory.none ??= {})[name] = { start: rssMiB(servers[name]) };
      await measure(servers[name].port, 'retrieve', state, 1);
    }
    for (let round = 0; round < config.rounds; round++) {
      for (const connections of CONNECTION_COUNTS) {
        for (const name of rotate(names, round)) {
          const value = await measure(servers[name].port, 'retrieve', state, config.duration, connections);
          record('none', `retrieve @${connections}`, name, value);
          console.log(
            `[bench] ceiling r${round + 1} @${connections} ${name.padEnd(16)} ${fmt(value.rps, 0).padStart(7)} req/s  p50 ${value.p50} ms  p99 ${value.p99} ms`,
          );
        }
      }
    }
    for (const name of names) memory.none[name].end = rssMiB(servers[name]);
  } finally {
    await Promise.all(Object.values(servers).map(stopServer));
  }
}

const rotate = (array, by) => array.map((_, i) => array[(i + by) % array.length]);
const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

// ---------------------------------------------------------------- report
function stat(db, workload, server) {
  const runs = results[db]?.[workload]?.[server];
  if (!runs) return undefined;
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    bad: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
    runs,
  };
}

/**
 * A cell's cap on `adapter` as req/s: the adapter's ceiling time per request plus the database's
 * time per request, which is the floor's time minus plain node:http's own, all at `connections`.
 */
function cap(db, key, connections, adapter) {
  const ceiling = stat('none', `retrieve @${connections}`, `ceiling-${adapter.toLowerCase()}`)?.rps;
  const http = stat('none', `retrieve @${connections}`, 'http')?.rps;
  const floor = stat(db, key, 'floor')?.rps;
  if (!ceiling || !http || !floor) return NaN;
  return 1 / (1 / ceiling + Math.max(0, 1 / floor - 1 / http));
}

/** A server's RSS after the last round on `db`. */
const lastRss = (db, name) => memory[db]?.[name]?.rounds?.at(-1) ?? NaN;

/** Median of per-round ratios (each pair measured back to back in the same round). */
function ratio(db, workload, a, b) {
  const x = results[db]?.[workload]?.[a];
  const y = results[db]?.[workload]?.[b];
  if (!x || !y) return NaN;
  return median(x.map((r, i) => (y[i] ? r.rps / y[i].rps : NaN)));
}

function report() {
  const lines = [];
  const machine = machineInfo();
  lines.push(
    `Run: ${machine.date}  ·  ${machine.cpus} × ${machine.cpu}  ·  ${machine.memory}  ·  Node ${process.version}  ·  ${machine.os}`,
  );
  lines.push('');
  lines.push(
    `Settings: ${config.duration} s per measurement, ${config.rounds} rounds (servers alternate in every round, order rotated), ${config.connections.join(' and ')} connections (and ${config.curve.join(', ') || 'no other cells'}), ${config.rows} seeded rows (list-deep: offset ${config.deepOffset}; delete: ${config.deleteRows} seeded ids), autocannon in the runner process on the same machine, database servers on the same machine too.`,
  );
  lines.push(
    `Databases: ${
      Object.entries(dbVersions)
        .map(([db, v]) => `${db}: ${v}`)
        .join('; ') || '–'
    }.`,
  );
  lines.push('');
  lines.push(
    'Cells: median req/s · p50 ms · p99 ms. Ratios: median over rounds of the per-round req/s ratio. `!` = some responses were not 2xx or failed (see the log).',
  );
  const dbs = Object.keys(results).filter((db) => db !== 'none');
  const pairs = [
    ['Express', 'module', 'baseline', 'ceiling-express'],
    ['Fastify', 'module-fastify', 'baseline-fastify', 'ceiling-fastify'],
  ].filter(([, moduleName, baselineName]) => config.servers.includes(moduleName) && config.servers.includes(baselineName));
  for (const db of dbs) {
    lines.push('', `### ${db}`, '');
    const servers = config.servers;
    const ratios = pairs.flatMap(([adapter]) => [`module/baseline ${adapter}`, `module/cap ${adapter} (cap req/s)`]);
    lines.push(`| workload | connections | ${servers.map((s) => SERVERS[s].label).join(' | ')} | ${ratios.join(' | ')} |`);
    lines.push(`|---|---:|${servers.map(() => '---:').join('|')}|${ratios.map(() => '---:').join('|')}|`);
    for (const { workload, connections, key } of [...CELLS, ...SYNCHRONIZE_CELLS]) {
      if (!results[db][key]) continue;
      const cells = servers.map((s) => {
        const v = stat(db, key, s);
        return v ? `${fmt(v.rps, 0)} · ${fmt(v.p50)} · ${fmt(v.p99)}${v.bad ? ' !' : ''}` : '–';
      });
      const measured = pairs.flatMap(([adapter, moduleName, baselineName]) => {
        const capRps = cap(db, key, connections, adapter);
        return [
          `${fmt(ratio(db, key, moduleName, baselineName), 2)}x`,
          `${fmt(stat(db, key, moduleName)?.rps / capRps, 2)}x (${fmt(capRps, 0)})`,
        ];
      });
      lines.push(`| ${workload} | ${connections} | ${cells.join(' | ')} | ${measured.join(' | ')} |`);
    }
  }
  if (results.none) {
    lines.push('', '### Ceilings (constant object, no guard, no database; retrieve path), req/s · p50 · p99', '');
    const names = ['ceiling-express', 'ceiling-fastify', 'http'];
    lines.push(`| connections | ${names.map((name) => SERVERS[name].label).join(' | ')} |`);
    lines.push(`|---:|${names.map(() => '---:').join('|')}|`);
    for (const connections of CONNECTION_COUNTS) {
      const cells = names.map((name) => {
        const v = stat('none', `retrieve @${connections}`, name);
        return v ? `${fmt(v.rps, 0)} · ${fmt(v.p50)} · ${fmt(v.p99)}` : '–';
      });
      lines.push(`| ${connections} | ${cells.join(' | ')} |`);
    }
    lines.push(
      '',
      "A cell's cap is what its adapter allows on its database: the adapter's ceiling time per request (at the same connections) plus the floor's database time per request (the floor's time minus node:http's own), as req/s.",
    );
  }
  lines.push('', '### Memory (RSS, MiB): after start-up → after each round of sustained load', '');
  lines.push(`| server | ${[...dbs, ...(memory.none ? ['no database'] : [])].join(' | ')} |`);
  lines.push(`|---|${[...dbs, ...(memory.none ? ['x'] : [])].map(() => '---:').join('|')}|`);
  for (const name of Object.keys(SERVERS)) {
    const cols = [...dbs, ...(memory.none ? ['none'] : [])].map((db) => {
      const m = memory[db]?.[name];
      const after = m?.rounds?.length ? m.rounds : [m?.end];
      return m && (config.servers.includes(name) || db === 'none') ? [m.start, ...after].map((v) => fmt(v, 0)).join(' → ') : '–';
    });
    if (cols.some((c) => c !== '–')) lines.push(`| ${SERVERS[name].label} | ${cols.join(' | ')} |`);
  }
  lines.push('', '### Targets', '');
  lines.push('| target | result |', '|---|---|');
  const check = (label, values) => {
    const measured = values.filter((v) => Number.isFinite(v.value));
    if (!measured.length) return;
    const missed = measured.filter((v) => v.value < v.min);
    lines.push(
      `| ${label} | ${missed.length ? `**missed** ${missed.length}/${measured.length}: ${missed.map((v) => `${v.where} ${fmt(v.value, 2)}x`).join(', ')}` : `met (${measured.length}/${measured.length}; lowest ${fmt(Math.min(...measured.map((v) => v.value)), 2)}x)`} |`,
    );
  };
  const READS = ['retrieve', 'list', 'list-deep'];
  for (const [adapter, moduleName, baselineName] of pairs) {
    check(
      `module ≥ 1.1x baseline, ${adapter}, every cell`,
      dbs.flatMap((db) =>
        [...CELLS, ...SYNCHRONIZE_CELLS].map(({ key }) => ({
          where: `${db}/${key}`,
          value: ratio(db, key, moduleName, baselineName),
          min: 1.1,
        })),
      ),
    );
  }
  for (const [adapter, moduleName] of pairs) {
    const min = adapter === 'Fastify' ? 0.8 : 0.9;
    check(
      `module ≥ ${min}x cap, ${adapter}, read workloads`,
      dbs.flatMap((db) =>
        CELLS.filter(({ workload }) => READS.includes(workload)).map(({ key, connections }) => ({
          where: `${db}/${key}`,
          value: stat(db, key, moduleName)?.rps / cap(db, key, connections, adapter),
          min,
        })),
      ),
    );
  }
  // RSS after the last round: the module's within 1.2x the baseline's, i.e. baseline / module ≥ 1 / 1.2.
  for (const [adapter, moduleName, baselineName] of pairs) {
    check(
      `RSS after load ≤ 1.2x baseline's, ${adapter} (shown: baseline / module, ≥ 0.83x)`,
      dbs.map((db) => ({ where: db, value: lastRss(db, baselineName) / lastRss(db, moduleName), min: 1 / 1.2 })),
    );
  }
  if (notes.length) lines.push('', '### Notes from this run', '', ...notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

function machineInfo() {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return {
    date: execFileSync('date', ['-u'], { encoding: 'utf8' }).trim(),
    cpus: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    cpu,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    os: `${os.type()} ${os.release()}`,
  };
}

const BEGIN = '<!-- bench:begin (generated by `npm run bench`; edit outside these markers) -->';
const END = '<!-- bench:end -->';

function writeResults(table) {
  const existing = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, 'utf8') : `# Benchmark results\n\n${BEGIN}\n${END}\n`;
  const start = existing.indexOf(BEGIN);
  const end = existing.indexOf(END);
  const body = `${BEGIN}\n\n${table}\n\n${END}`;
  const next = start >= 0 && end > start ? existing.slice(0, start) + body + existing.slice(end + END.length) : `${existing}\n${body}\n`;
  fs.writeFileSync(RESULTS, next);
}

async function main() {
  if (config.build) build();
  for (const db of config.dbs) await runDatabase(db);
  if (config.ceiling) await runCeiling();
  const table = report();
  console.log('\n' + table + '\n');
  if (config.write) {
    writeResults(table);
    console.log(`[bench] wrote ${path.relative(ROOT, RESULTS)}`);
  }
}

main().then(
  () => cleanup(),
  async (error) => {
    console.error(error);
    await cleanup();
    process.exitCode = 1;
  },
);
