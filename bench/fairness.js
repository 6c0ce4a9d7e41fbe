'use strict';
/**
 * A noisy tenant against a quiet one (issue 20, part 7), on each database: the sample as
 * `npm start` serves it (Express, migrated schema), two tenants. `acme` holds many rows and
 * keeps CONNECTIONS lists of its deepest page in flight (`offset` 9,900, `limit` 100: the
 * deepest offset served is 10,000); `globex`, one connection, retrieves one object in a loop.
 * Reported: globex's p50/p99 alone, then under acme's load, with tenants taking turns (the
 * default) and without (`maxConcurrentRequests` so large that nobody waits: the pool's own
 * first-come queue, or on SQLite the event loop's order, as before turns existed).
 *
 *   npm run build:sample && node bench/fairness.js [--db=sqlite,postgres,mariadb] [--rows=300000]
 *     [--connections=200] [--duration=10]
 *
 * Databases as bench/run.js's (`bench` on PostgreSQL and MariaDB; SQLite in dist-bench/data).
 * The module's tables there are dropped and rebuilt. Not part of CI: it measures, it does not test.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const autocannon = require('autocannon');

const ROOT = path.join(__dirname, '..');
const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const DBS = arg('db', 'sqlite,postgres,mariadb').split(',');
const ROWS = Number(arg('rows', 300_000));
const CONNECTIONS = Number(arg('connections', 200));
const DURATION = Number(arg('duration', 10));
const PORT = Number(process.env.BENCH_PORT ?? 3590);
const PATH = '/api/crm/opportunity-lost-reason';
const KEYS = { acme: 'sk_test_bench_acme', globex: 'sk_test_bench_globex' };
const SQLITE_FILE = path.join(ROOT, 'dist-bench', 'data', 'fairness.sqlite');
const URLS = {
  sqlite: `sqlite:${SQLITE_FILE}`,
  postgres: process.env.POSTGRES_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/bench',
  mariadb: process.env.MARIADB_BENCH_URL ?? 'mysql://root@127.0.0.1:3306/bench',
};
const TABLES = ['opportunity_lost_reason', 'opportunity_lost_reason_count', 'opportunity_lost_reason_idempotency', 'migrations'];
/** How the module stores a tenant: the hex of its UTF-8 bytes. */
const stored = (tenant) => Buffer.from(tenant, 'utf8').toString('hex');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** SQL on the benchmark database, through the runner's own connection. */
async function database(db) {
  if (db === 'sqlite') {
    fs.mkdirSync(path.dirname(SQLITE_FILE), { recursive: true });
    const sqlite = new (require('better-sqlite3'))(SQLITE_FILE);
    return { run: async (sql) => sqlite.exec(sql), close: async () => sqlite.close() };
  }
  if (db === 'postgres') {
    const client = new (require('pg').Client)({ connectionString: URLS.postgres });
    await client.connect();
    return { run: (sql) => client.query(sql), close: () => client.end() };
  }
  const connection = await require('mysql2/promise').createConnection({ uri: URLS.mariadb });
  return { run: (sql) => connection.query(sql), close: () => connection.end() };
}

/** ROWS objects of acme, one second apart, in one set-based statement. */
function seedSql(db) {
  const columns = 'INSERT INTO opportunity_lost_reason (tenant_id, id, created_at, updated_at) ';
  const id = (n) =>
    ({
      sqlite: `'opportunity-lost-reason_' || printf('%032x', ${n})`,
      postgres: `'opportunity-lost-reason_' || lpad(to_hex(${n}), 32, '0')`,
      mariadb: `CONCAT('opportunity-lost-reason_', LPAD(HEX(${n}), 32, '0'))`,
    })[db];
  const at = (n) =>
    ({
      sqlite: `strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || ${n} || ' seconds')`,
      postgres: `to_char(timestamp '2026-01-01' + ${n} * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
      mariadb: `DATE_FORMAT(TIMESTAMP '2026-01-01 00:00:00' + INTERVAL ${n} SECOND, '%Y-%m-%dT%H:%i:%s.000Z')`,
    })[db];
  const select = `SELECT '${stored('acme')}', ${id('n')}, ${at('n')}, ${at('n')}`;
  if (db === 'sqlite')
    return `${columns} WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${ROWS}) ${select} FROM s`;
  if (db === 'postgres') return `${columns} ${select} FROM generate_series(1, ${ROWS}) AS s(n)`;
  return `${columns} ${select} FROM (SELECT seq AS n FROM seq_1_to_${ROWS}) s`;
}

async function start(db, env = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist-sample', 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      PORT: String(PORT),
      DATABASE_URL: URLS[db],
      API_KEYS: `acme:${KEYS.acme},globex:${KEYS.globex}`,
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 150; i++) {
    try {
      await fetch(`http://127.0.0.1:${PORT}${PATH}/x`, { signal: AbortSignal.timeout(1000) });
      return child;
    } catch {
      await sleep(200);
    }
  }
  child.kill('SIGKILL');
  throw new Error(`the sample did not start on ${db}`);
}

async function stop(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  child.kill('SIGKILL');
}

const run = ({ path: target, ...options }) =>
  new Promise((resolve, reject) =>
    autocannon({ url: `http://127.0.0.1:${PORT}${target}`, ...options }, (error, result) => (error ? reject(error) : resolve(result))),
  );

/**
 * globex's retrieve, one request at a time on one kept-alive connection, in a process of its own
 * (the load's client would otherwise delay its callbacks): latency percentiles in ms, to the µs.
 */
function probe(id) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [__filename, '--probe', `http://127.0.0.1:${PORT}${PATH}/${id}`, KEYS.globex, String(DURATION * 1000)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`probe exited ${code}`))));
  });
}

async function runProbe([url, key, ms]) {
  const http = require('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent, headers: { authorization: `Bearer ${key}` } }, (response) => {
          response.resume().on('end', () => resolve(response.statusCode));
        })
        .on('error', reject);
    });
  const latencies = [];
  let non2xx = 0;
  const end = performance.now() + Number(ms);
  while (performance.now() < end) {
    const started = performance.now();
    const status = await get();
    latencies.push(performance.now() - started);
    if (status !== 200) non2xx++;
  }
  latencies.sort((a, b) => a - b);
  const at = (q) => Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(3));
  process.stdout.write(JSON.stringify({ p50: at(0.5), p99: at(0.99), count: latencies.length, non2xx }));
  agent.destroy();
}

/** globex's latency, alone or while acme's load runs. */
async function quietTenant(id, noisy) {
  const load = noisy
    ? run({
        connections: CONNECTIONS,
        duration: DURATION + 2,
        path: `${PATH}?offset=9900&limit=100`,
        headers: { authorization: `Bearer ${KEYS.acme}` },
      })
    : undefined;
  if (noisy) await sleep(1000);
  const quiet = await probe(id);
  const acme = load && (await load);
  if (quiet.non2xx > 0) throw new Error(`globex: ${quiet.non2xx} answers other than 200`);
  return { ...quiet, acme: acme && { rps: acme.requests.average, non2xx: acme.non2xx, errors: acme.errors } };
}

async function measure(db) {
  const sql = await database(db);
  try {
    for (const table of TABLES) await sql.run(`DROP TABLE IF EXISTS ${table}`);
  } finally {
    await sql.close();
  }
  // First start: the module's migrations build the schema; then acme's rows, then an object of globex.
  const first = await start(db);
  const seed = await database(db);
  try {
    await seed.run(seedSql(db));
    await seed.run(db === 'mariadb' ? 'ANALYZE TABLE opportunity_lost_reason' : 'ANALYZE');
  } finally {
    await seed.close();
  }
  const created = await fetch(`http://127.0.0.1:${PORT}${PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.globex}`, 'content-type': 'application/json' },
    body: JSON.stringify({ lost_reason: 'Price' }),
  }).then((response) => response.json());
  if (!created.id) throw new Error(`globex create: ${JSON.stringify(created)}`);
  await stop(first);
  const rows = [];
  for (const [label, env] of [
    ['turns (default)', {}],
    ['no turns', { MAX_CONCURRENT_REQUESTS: '1000000' }],
  ]) {
    const server = await start(db, env);
    try {
      await run({ connections: 10, duration: 2, path: `${PATH}/${created.id}`, headers: { authorization: `Bearer ${KEYS.globex}` } });
      const alone = await quietTenant(created.id, false);
      const noisy = await quietTenant(created.id, true);
      rows.push({ db, label, alone, noisy });
      console.error(
        `[fairness] ${db} ${label}: alone p99 ${alone.p99} ms, under load p99 ${noisy.p99} ms (${(noisy.p99 / alone.p99).toFixed(2)}x)`,
      );
    } finally {
      await stop(server);
    }
  }
  return rows;
}

const main = async () => {
  const results = [];
  for (const db of DBS) results.push(...(await measure(db)));
  console.log(
    `\nacme: ${ROWS} rows, ${CONNECTIONS} connections listing offset=9900&limit=100; globex: 1 connection retrieving; ${DURATION} s each.\n`,
  );
  console.log('| database | server | globex alone p50 / p99 (ms) | under acme p50 / p99 (ms) | p99 ratio | acme req/s (non-2xx) |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const { db, label, alone, noisy } of results) {
    console.log(
      `| ${db} | ${label} | ${alone.p50} / ${alone.p99} | ${noisy.p50} / ${noisy.p99} | ${(noisy.p99 / alone.p99).toFixed(2)}x | ${Math.round(noisy.acme.rps)} (${noisy.acme.non2xx}) |`,
    );
  }
};

(process.argv[2] === '--probe' ? runProbe(process.argv.slice(3)) : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
