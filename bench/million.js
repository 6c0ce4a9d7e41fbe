'use strict';
/**
 * A million rows on PostgreSQL: does a page of the shipped `LostReasonService` cost the same at
 * 1,000,000 rows as at 1,000? Seeds the module's table in bulk (set-based SQL, not the API) at two
 * sizes, times the service's operations call by call at both, and captures
 * `EXPLAIN (ANALYZE, BUFFERS)` of every statement each operation sends.
 *
 *   npm run build && node bench/million.js [--rows=1000000] [--small=1000] [--write]
 *
 * Database: MILLION_PG_URL, default postgres://postgres@127.0.0.1:5432/million (create it once:
 * `psql -h 127.0.0.1 -U postgres -c 'create database million'`). Each size lives in its own schema
 * (`rows_1000`, `rows_1000000`), dropped and created again by the module's own migrations on each
 * run and reached through `search_path`, so the service sends the very SQL a host's connection
 * sends. The schemas are left in place afterwards for inspection. Not part of CI.
 *
 * Prints Markdown; `--write` also replaces the generated block of bench/MILLION.md. The raw
 * numbers and plans go to $TMPDIR/million-results.json.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createHash } = require('node:crypto');

const URL = process.env.MILLION_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/million';
/** `--name=value`, `--name value` or a bare `--name` (true). */
const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!hit) return fallback;
  if (hit.includes('=')) return hit.slice(hit.indexOf('=') + 1);
  const next = process.argv[process.argv.indexOf(hit) + 1];
  return next && !next.startsWith('--') ? next : true;
};
const ROWS = Number(arg('rows', 1_000_000));
const SMALL = Number(arg('small', 1000));
const WRITE = Boolean(arg('write', false));
// `--shipped` (which picked this measurement when the script also held the design study) is accepted and changes nothing.
if (!Number.isInteger(SMALL) || !Number.isInteger(ROWS) || SMALL < 100 || ROWS <= SMALL) {
  throw new Error(`--small and --rows must be integers with 100 <= small < rows (got ${SMALL}, ${ROWS})`);
}
const TABLE = 'opportunity_lost_reason';
const SEED_BATCH = 100_000;
const OPERATIONS = ['retrieve', 'first', 'offset', 'cursor'];

require('reflect-metadata');
const { DataSource } = require('typeorm');
const { Client } = require('pg');
const dist = path.join(__dirname, '..', 'dist');
if (!fs.existsSync(path.join(dist, 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
const { LostReason, LostReasonService, LOST_REASON_MIGRATIONS } = require(dist);

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const schemaOf = (rows) => `rows_${rows}`;
/** The id of seeded row g (1 = oldest), computed here as the seeding SQL computes it. */
const idOf = (g) => 'opportunity-lost-reason_' + createHash('md5').update(`seed-${g}`).digest('hex');

/** Records the SQL TypeORM sends while `on`, so the plans are of the service's own statements. */
class CaptureLogger {
  on = false;
  queries = [];
  logQuery(query, parameters) {
    if (this.on) this.queries.push({ query, parameters: parameters ?? [] });
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

/** A DataSource as a host would configure it (migrations, no synchronize), on `schema`. */
async function dataSourceFor(schema, logger) {
  const ds = new DataSource({
    type: 'postgres',
    url: URL,
    entities: [LostReason],
    migrations: LOST_REASON_MIGRATIONS,
    synchronize: false,
    logger,
    extra: { options: `-c search_path=${schema}`, max: 4 },
  });
  return ds.initialize();
}

async function client(schema) {
  const c = new Client({ connectionString: URL, options: schema ? `-c search_path=${schema}` : undefined });
  await c.connect();
  return c;
}

// ---------------------------------------------------------------------------------------------
// Seeding

/**
 * Rows g = from..to, oldest first (so seq follows g): created_at = updated_at 3 ms apart, except
 * that every tenth row shares the millisecond of the row before it (the list breaks such ties by
 * seq); every seventh lost_reason is NULL. Tenant '' (tenancy off), the column's default.
 */
const seedSql = (from, to) => `
  INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason)
  SELECT 'opportunity-lost-reason_' || md5('seed-' || g), t, t,
         CASE WHEN g % 7 = 0 THEN NULL
              ELSE (ARRAY['Price too high', 'Chose a competitor', 'No budget', 'No decision', 'Bad timing'])[1 + g % 5] || ' #' || g END
    FROM generate_series(${from}, ${to}) AS g,
         LATERAL (SELECT to_char(timestamp '2025-01-01 00:00:00' + (g - g / 10) * interval '3 milliseconds',
                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t) AS ts
   ORDER BY g`;

/** A fresh schema built by the module's migrations (table, indexes, count table and its triggers), then `rows` rows. */
async function createAndSeed(rows) {
  const schema = schemaOf(rows);
  const c = await client();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.query(`SET search_path = ${schema}`);
  const ds = await dataSourceFor(schema);
  await ds.runMigrations();
  await ds.destroy();
  // Indexes and triggers stay in place while seeding, as on a live table: the triggers count each batch once.
  const t0 = process.hrtime.bigint();
  for (let from = 1; from <= rows; from += SEED_BATCH) await c.query(seedSql(from, Math.min(rows, from + SEED_BATCH - 1)));
  const t1 = process.hrtime.bigint();
  // VACUUM sets the visibility map, which lets the deferred join's skip walk be an index-only scan.
  await c.query(`VACUUM ANALYZE ${TABLE}`);
  const t2 = process.hrtime.bigint();
  const size = (await c.query(`SELECT pg_size_pretty(pg_total_relation_size('${TABLE}')) AS s`)).rows[0].s;
  await c.end();
  const seconds = { insert: Number(t1 - t0) / 1e9, vacuumAnalyze: Number(t2 - t1) / 1e9 };
  log(
    `seeded ${rows} rows into ${schema} in ${seconds.insert.toFixed(1)} s (+ VACUUM ANALYZE ${seconds.vacuumAnalyze.toFixed(1)} s), ${size}`,
  );
  return { rows, schema, seconds, size };
}

// ---------------------------------------------------------------------------------------------
// Timing

const ms = (ns) => Number(ns) / 1e6;
function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, median: at(0.5), p95: at(0.95), min: s[0] };
}

/**
 * Times `fa` and `fb` alternately, call by call, so the drifting load of a shared machine weighs
 * on both alike: the ratio of the medians is the robust figure.
 */
async function timePair(fa, fb, { warmup = 5, min = 15, max = 300, budgetMs = 10_000 } = {}) {
  for (let i = 0; i < warmup; i++) {
    await fa(i);
    await fb(i);
  }
  const [a, b] = [[], []];
  const deadline = Date.now() + budgetMs;
  for (let i = 0; i < max && (i < min || Date.now() < deadline); i++) {
    for (const [fn, samples] of [
      [fa, a],
      [fb, b],
    ]) {
      const t0 = process.hrtime.bigint();
      await fn(i);
      samples.push(ms(process.hrtime.bigint() - t0));
    }
  }
  return [stats(a), stats(b)];
}

// ---------------------------------------------------------------------------------------------
// The service's operations

/**
 * The shipped service on one size's schema, and its operations. Each is run once and checked
 * against the seeded data (a benchmark of wrong answers is worthless), then once more with the
 * SQL captured.
 */
async function setupService(rows) {
  const schema = schemaOf(rows);
  const logger = new CaptureLogger();
  const ds = await dataSourceFor(schema, logger);
  const service = new LostReasonService(ds.getRepository(LostReason));
  await service.onModuleInit(); // as Nest would: builds the statements and finds the count table
  const middle = Math.floor(rows / 2);
  const offset = Math.floor(rows / 2);
  // Retrieve cycles through ids spread over the whole table (not one hot row).
  const ids = Array.from({ length: 200 }, (_, i) => idOf(1 + Math.floor(((i * 7919) % 200) * (rows / 200))));
  const ops = {
    retrieve: {
      label: 'retrieve(id)',
      run: (i) => service.retrieve(ids[i % ids.length]),
      check: (r) => r.id === ids[0],
    },
    first: {
      label: 'list({ limit: 20 })',
      run: () => service.list({ limit: 20 }),
      check: (r) => r.total === rows && r.data[0].id === idOf(rows),
    },
    offset: {
      label: 'list({ limit: 20, offset: <half the rows> })',
      run: () => service.list({ limit: 20, offset }),
      check: (r) => r.total === rows && r.data[0].id === idOf(rows - offset),
    },
    cursor: {
      label: 'list({ limit: 20, starting_after: <the middle row> })',
      run: () => service.list({ limit: 20, starting_after: idOf(middle) }),
      check: (r) => r.total === rows && r.data[0].id === idOf(middle - 1) && r.data.length === 20,
    },
  };
  for (const [key, op] of Object.entries(ops)) {
    if (!op.check(await op.run(0))) throw new Error(`${schema}: ${key} answered something other than the seeded data`);
    logger.queries = [];
    logger.on = true;
    await op.run(0);
    logger.on = false;
    op.statements = logger.queries;
    // With the migration run, `total` must come from the count table: a silent fallback to
    // COUNT(*) would measure a design the module does not ship.
    if (key !== 'retrieve' && !op.statements.some((s) => s.query.includes(`"${TABLE}_count"`))) {
      throw new Error(`${schema}: ${key} does not read ${TABLE}_count: ${op.statements.map((s) => s.query).join('; ')}`);
    }
  }
  return { rows, schema, ds, ops, offset };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of each captured statement, with its own parameters, on client `c`
 * (its size's schema). Each runs twice and the second plan is kept: the first on a connection
 * pays for loading the catalog caches (milliseconds of planning), which the service's pooled
 * connections paid long before.
 */
async function explain(c, statements) {
  const out = [];
  for (const { query, parameters } of statements) {
    const run = async () => (await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${query}`, parameters)).rows.map((r) => r['QUERY PLAN']);
    await run();
    out.push({ query, parameters, plan: await run() });
  }
  return out;
}

async function measure(small, big) {
  const a = await setupService(small);
  const b = await setupService(big);
  const [ca, cb] = [await client(a.schema), await client(b.schema)];
  const results = {};
  for (const key of OPERATIONS) {
    // A deep offset walks half the table: fewer rounds, or it would dominate the run.
    const opts = key === 'offset' ? { warmup: 2, min: 10, max: 40 } : {};
    const [sa, sb] = await timePair(a.ops[key].run, b.ops[key].run, opts);
    const label = key === 'offset' ? a.ops[key].label.replace('<half the rows>', `${a.offset} / ${b.offset}`) : a.ops[key].label;
    results[key] = {
      label,
      small: sa,
      big: sb,
      ratio: sb.median / sa.median,
      // After the timing, so the plans show a warm cache, as the timed calls saw it.
      explain: { small: await explain(ca, a.ops[key].statements), big: await explain(cb, b.ops[key].statements) },
    };
    log(`${key}: ${sa.median.toFixed(3)} ms at ${small}, ${sb.median.toFixed(3)} ms at ${big}: ${results[key].ratio.toFixed(1)}×`);
  }
  for (const x of [ca, cb]) await x.end();
  for (const x of [a, b]) await x.ds.destroy();
  return results;
}

// ---------------------------------------------------------------------------------------------
// Report

const n = (x) => x.toLocaleString('en');
const f = (x) => (x < 1 ? x.toFixed(3) : x.toFixed(2));

function markdown(r) {
  const L = [];
  const { machine: m, pg } = r;
  L.push(
    `Run: ${m.date} · ${pg.version} (shared_buffers ${pg.shared_buffers}, max_parallel_workers_per_gather ${pg.parallel}) · ` +
      `Node ${m.node} · ${m.cores} cores (${m.cpu}), ${m.memory} · load at start ${m.load}`,
    '',
    '| rows | seeding: INSERT … SELECT generate_series | VACUUM ANALYZE | table + indexes |',
    '|---:|---:|---:|---:|',
    ...r.seed.map((s) => `| ${n(s.rows)} | ${s.seconds.insert.toFixed(2)} s | ${s.seconds.vacuumAnalyze.toFixed(2)} s | ${s.size} |`),
    '',
    `\`LostReasonService\` from \`dist/\` on a TypeORM DataSource (pool of 4), calls alternating between the two tables, ms per call:`,
    '',
    `| operation | ${n(r.small)} rows median | p95 | ${n(r.rows)} rows median | p95 | ratio |`,
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const key of OPERATIONS) {
    const o = r.operations[key];
    L.push(
      `| \`${o.label}\` | ${f(o.small.median)} | ${f(o.small.p95)} | ${f(o.big.median)} | ${f(o.big.p95)} | **${o.ratio.toFixed(1)}×** |`,
    );
  }
  L.push(
    '',
    `### EXPLAIN (ANALYZE, BUFFERS) at ${n(r.rows)} rows`,
    '',
    'Each statement the operation sends, with its parameters, and its plan.',
    '',
  );
  for (const key of OPERATIONS) {
    const o = r.operations[key];
    L.push(`#### \`${o.label}\``, '');
    for (const e of o.explain.big) {
      L.push('```sql', `${e.query.trim()}${e.parameters.length ? `  -- ${JSON.stringify(e.parameters)}` : ''}`, '```');
      L.push('```', ...e.plan, '```', '');
    }
  }
  return L.join('\n').trimEnd();
}

/** Replaces what lies between the markers of bench/MILLION.md, leaving its prose as it is. */
function writeBlock(md) {
  const file = path.join(__dirname, 'MILLION.md');
  const [begin, end] = ['<!-- million.js:begin -->', '<!-- million.js:end -->'];
  const current = fs.readFileSync(file, 'utf8');
  const i = current.indexOf(begin);
  const j = current.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} lacks the ${begin} … ${end} markers`);
  fs.writeFileSync(file, `${current.slice(0, i + begin.length)}\n${md}\n${current.slice(j)}`);
  log(`wrote ${file}`);
}

async function main() {
  const started = Date.now();
  const c = await client();
  const setting = async (name) => (await c.query(`SELECT current_setting('${name}') AS v`)).rows[0].v;
  const results = {
    rows: ROWS,
    small: SMALL,
    machine: {
      date: new Date().toUTCString(),
      cores: os.availableParallelism?.() ?? os.cpus().length,
      cpu: os.cpus()[0]?.model ?? '?',
      memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      load: os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' '),
      node: process.version,
    },
    pg: {
      version: `PostgreSQL ${(await setting('server_version')).split(' ')[0]}`,
      shared_buffers: await setting('shared_buffers'),
      parallel: await setting('max_parallel_workers_per_gather'),
    },
  };
  await c.end();
  log(`${results.pg.version}, ${results.machine.cores} cores, load ${results.machine.load}`);

  results.seed = [await createAndSeed(SMALL), await createAndSeed(ROWS)];
  results.operations = await measure(SMALL, ROWS);

  const out = path.join(os.tmpdir(), 'million-results.json');
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  const md = markdown(results);
  process.stdout.write(md + '\n');
  if (WRITE) writeBlock(md);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; raw results in ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
