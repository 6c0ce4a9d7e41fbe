'use strict';
/**
 * A million rows on PostgreSQL: seeds the module's table in bulk (set-based SQL, not the API),
 * then times the module's own LostReasonService (from dist/) at 1,000 and at 1,000,000 rows,
 * captures EXPLAIN (ANALYZE, BUFFERS) of every statement it sends, and measures the options
 * for an exact `total` (COUNT(*) vs a counter maintained by a trigger in the same transaction).
 *
 *   npm run build && node bench/million.js [--rows=1000000] [--small=1000] [--write]
 *
 * Database: MILLION_PG_URL, default postgres://postgres@127.0.0.1:5432/million (create it once:
 * `psql -h 127.0.0.1 -U postgres -c 'create database million'`). Each dataset lives in its own
 * schema (`rows_1000`, `rows_1000000`), created exactly as the module does (its migrations), and
 * reached through `search_path`, so the service sends the very SQL a host's connection would.
 * Everything is dropped and recreated on each run. Not part of CI.
 *
 * Prints the results as Markdown; `--write` also replaces the generated block of
 * bench/MILLION.md. The raw numbers go to $TMPDIR/million-results.json.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { execSync } = require('node:child_process');

const URL = process.env.MILLION_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/million';
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
const SHARDS = 16;
const TABLE = 'opportunity_lost_reason';
/** The study's prototype counters: a name of their own, so the shipped service (which looks for
 * `opportunity_lost_reason_count`) does not pick them up and counts with COUNT(*), as it did then. */
const COUNTER = 'opportunity_lost_reason_count_study';
/** What the shipped migration creates; the study removes it from its schemas first. */
const SHIPPED_COUNTER = 'opportunity_lost_reason_count';
const SEED_BATCH = 100_000;

require('reflect-metadata');
const { DataSource } = require('typeorm');
const { Client } = require('pg');
const dist = path.join(__dirname, '..', 'dist');
if (!fs.existsSync(path.join(dist, 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
const { CountOpportunityLostReasons1764374400000, LostReason, LostReasonService, LOST_REASON_MIGRATIONS } = require(dist);

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const schemaOf = (rows) => `rows_${rows}`;
const idOf = (g) => `md5('seed-' || ${g})`; // SQL expression; the seeded id of row g (1 = oldest)

/** Captures the SQL TypeORM sends while `on`. */
class CaptureLogger {
  constructor() {
    this.on = false;
    this.queries = [];
  }
  logQuery(query, parameters) {
    if (this.on) this.queries.push({ query, parameters: parameters ?? [] });
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

async function dataSourceFor(schema) {
  const logger = new CaptureLogger();
  const ds = new DataSource({
    type: 'postgres',
    url: URL,
    entities: [LostReason],
    migrations: LOST_REASON_MIGRATIONS,
    synchronize: false,
    logger,
    extra: { options: `-c search_path=${schema}`, max: 4 },
  });
  await ds.initialize();
  return { ds, logger };
}

async function client(schema) {
  const c = new Client({ connectionString: URL, options: schema ? `-c search_path=${schema}` : undefined });
  await c.connect();
  return c;
}

// ---------------------------------------------------------------------------------------------
// Seeding

/**
 * Rows g = 1..n, oldest first (seq ascending = created_at ascending): ids are
 * `opportunity-lost-reason_` + md5 (32 hex), created_at = updated_at 3 ms apart, except that
 * every tenth row shares the millisecond of the row before it (ties broken by seq).
 */
const seedSql = (from, to) => `
  INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason)
  SELECT 'opportunity-lost-reason_' || ${idOf('g')}, t, t,
         CASE WHEN g % 7 = 0 THEN NULL
              ELSE (ARRAY['Price too high', 'Chose a competitor', 'No budget', 'No decision', 'Bad timing'])[1 + g % 5] || ' #' || g END
    FROM generate_series(${from}, ${to}) AS g,
         LATERAL (SELECT to_char(timestamp '2025-01-01 00:00:00' + (g - g / 10) * interval '3 milliseconds',
                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t) AS ts
   ORDER BY g`;

async function createAndSeed(rows) {
  const schema = schemaOf(rows);
  const admin = await client();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const { ds } = await dataSourceFor(schema);
  await ds.runMigrations(); // the module's own schema: table, unique id index, (created_at, seq) index
  await ds.destroy();
  const c = await client(schema);
  const started = process.hrtime.bigint();
  for (let from = 1; from <= rows; from += SEED_BATCH) {
    await c.query(seedSql(from, Math.min(rows, from + SEED_BATCH - 1)));
  }
  const inserted = process.hrtime.bigint();
  await c.query(`ANALYZE ${TABLE}`);
  const done = process.hrtime.bigint();
  const size = (await c.query(`SELECT pg_size_pretty(pg_total_relation_size('${TABLE}')) AS s`)).rows[0].s;
  await c.end();
  const seconds = { insert: Number(inserted - started) / 1e9, analyze: Number(done - inserted) / 1e9 };
  log(`seeded ${rows} rows into ${schema} in ${seconds.insert.toFixed(1)} s (+ ANALYZE ${seconds.analyze.toFixed(1)} s), ${size}`);
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

/** Runs `fn(i)` after a warm-up, at least `min` and at most `max` times or until `budgetMs`. */
async function time(fn, { warmup = 5, min = 15, max = 300, budgetMs = 6000 } = {}) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples = [];
  const deadline = Date.now() + budgetMs;
  for (let i = 0; i < max && (i < min || Date.now() < deadline); i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    samples.push(ms(process.hrtime.bigint() - t0));
  }
  return stats(samples);
}

/**
 * Times `fa` and `fb` alternately, call by call, so the load of a shared machine drifts over both
 * alike (the ratio is what matters).
 */
async function timePair(fa, fb, { warmup = 5, min = 15, max = 300, budgetMs = 10000 } = {}) {
  for (let i = 0; i < warmup; i++) {
    await fa(i);
    await fb(i);
  }
  const a = [];
  const b = [];
  const deadline = Date.now() + budgetMs;
  for (let i = 0; i < max && (i < min || Date.now() < deadline); i++) {
    let t0 = process.hrtime.bigint();
    await fa(i);
    a.push(ms(process.hrtime.bigint() - t0));
    t0 = process.hrtime.bigint();
    await fb(i);
    b.push(ms(process.hrtime.bigint() - t0));
  }
  return [stats(a), stats(b)];
}

// ---------------------------------------------------------------------------------------------
// The service's four operations

async function setupService(rows) {
  const schema = schemaOf(rows);
  const { ds, logger } = await dataSourceFor(schema);
  const service = new LostReasonService(ds.getRepository(LostReason));
  const c = await client(schema);
  const middle = Math.floor(rows / 2);
  // Ids spread over the table for retrieve; the cursor sits in the middle (row g = rows/2).
  const spread = Array.from({ length: 200 }, (_, i) => 1 + Math.floor(((i * 7919) % 200) * (rows / 200)));
  const ids = (await c.query(`SELECT g, 'opportunity-lost-reason_' || ${idOf('g')} AS id FROM unnest($1::int[]) g`, [spread])).rows.map(
    (r) => r.id,
  );
  const cursor = (await c.query(`SELECT 'opportunity-lost-reason_' || ${idOf(middle)} AS id`)).rows[0].id;
  const offset = rows >= 1_000_000 ? 500_000 : Math.floor(rows / 2);
  const ops = {
    retrieve: { label: 'retrieve(id)', run: (i) => service.retrieve(ids[i % ids.length]) },
    first: { label: 'list({ limit: 20 })', run: () => service.list({ limit: 20 }) },
    offset: { label: `list({ limit: 20, offset: ${offset} })`, run: () => service.list({ limit: 20, offset }) },
    cursor: {
      label: `list({ limit: 20, starting_after: <row ${middle} of ${rows}, the middle> })`,
      run: () => service.list({ limit: 20, starting_after: cursor }),
    },
  };
  for (const [key, op] of Object.entries(ops)) {
    // Sanity: the answer is what the seeded data says.
    const answer = await op.run(0);
    if (key !== 'retrieve' && answer.total !== rows) throw new Error(`${key}: total ${answer.total} != ${rows}`);
    logger.queries = [];
    logger.on = true;
    await op.run(0);
    logger.on = false;
    op.statements = logger.queries;
    op.raw = async () => {
      for (const st of op.statements) await c.query(st.query, st.parameters);
    };
    const swapped = op.statements.map((st) => ({ ...st, query: swapCount(st.query) }));
    op.rawCounter = async () => {
      for (const st of swapped) await c.query(st.query, st.parameters);
    };
    const fixed = swapped.map((st) => ({ ...st, query: boundKeyset(st.query) }));
    op.rawFixed = async () => {
      for (const st of fixed) await c.query(st.query, st.parameters);
    };
  }
  return { rows, ds, c, ops };
}

async function measureService(small, big) {
  const a = await setupService(small);
  const b = await setupService(big);
  const results = { [small]: {}, [big]: {} };
  for (const key of ['retrieve', 'first', 'offset', 'cursor']) {
    const opts = key === 'offset' ? { warmup: 2, min: 10, max: 40, budgetMs: 10000 } : {};
    const [sa, sb] = await timePair(a.ops[key].run, b.ops[key].run, opts);
    results[small][key] = { label: a.ops[key].label, ...sa, statements: a.ops[key].statements };
    results[big][key] = { label: b.ops[key].label, ...sb, statements: b.ops[key].statements };
    log(
      `${key}: ${small} rows median ${sa.median.toFixed(3)} ms p95 ${sa.p95.toFixed(3)}; ${big} rows median ${sb.median.toFixed(3)} ms p95 ${sb.p95.toFixed(3)}`,
    );
    if (key === 'retrieve') continue;
    // The same statements raw, with COUNT(*) and with the counter's SUM (what the service would
    // send with a maintained count).
    [results[small][key].rawCount, results[big][key].rawCount] = await timePair(a.ops[key].raw, b.ops[key].raw, opts);
    [results[small][key].rawCounter, results[big][key].rawCounter] = await timePair(a.ops[key].rawCounter, b.ops[key].rawCounter, opts);
    if (key === 'cursor') {
      [results[small][key].rawFixed, results[big][key].rawFixed] = await timePair(a.ops[key].rawFixed, b.ops[key].rawFixed, opts);
      log(
        `cursor raw SQL with counter and bounded keyset: ${results[small][key].rawFixed.median.toFixed(3)} / ${results[big][key].rawFixed.median.toFixed(3)} ms`,
      );
    }
    log(
      `${key} raw SQL: COUNT(*) ${results[small][key].rawCount.median.toFixed(3)} / ${results[big][key].rawCount.median.toFixed(3)} ms; counter ${results[small][key].rawCounter.median.toFixed(3)} / ${results[big][key].rawCounter.median.toFixed(3)} ms`,
    );
  }
  // EXPLAIN (ANALYZE, BUFFERS) of every statement of each operation, on the big table.
  for (const key of Object.keys(results[big])) {
    const r = results[big][key];
    r.explain = [];
    for (const st of r.statements) {
      const plan = (await b.c.query(`EXPLAIN (ANALYZE, BUFFERS) ${st.query}`, st.parameters)).rows.map((x) => x['QUERY PLAN']);
      r.explain.push({ query: st.query, parameters: st.parameters, plan });
    }
    for (const st of r.statements.filter((x) => swapCount(x.query) !== x.query)) {
      const q = swapCount(st.query);
      const plan = (await b.c.query(`EXPLAIN (ANALYZE, BUFFERS) ${q}`, st.parameters)).rows.map((x) => x['QUERY PLAN']);
      (r.explainCounter ??= []).push({ query: q, parameters: st.parameters, plan });
    }
  }
  results.keyset = [];
  for (const st of results[big].cursor.statements.filter((x) => boundKeyset(x.query) !== x.query)) {
    for (const [label, q] of [
      ['as the service sends it: created_at < X OR (created_at = X AND seq < Y)', st.query],
      ['leading bound: created_at <= X AND (created_at < X OR seq < Y)', boundKeyset(st.query)],
      ['row value: (created_at, seq) < (X, Y)', rowValueKeyset(st.query)],
    ]) {
      const t = await time(() => b.c.query(q, st.parameters), { min: 10, max: 100, budgetMs: 4000 });
      const plan = (await b.c.query(`EXPLAIN (ANALYZE, BUFFERS) ${q}`, st.parameters)).rows.map((x) => x['QUERY PLAN']);
      results.keyset.push({ label, query: q, ...t, plan });
      log(`keyset page at ${big}, ${label}: median ${t.median.toFixed(3)} ms`);
    }
  }
  for (const x of [a, b]) {
    await x.c.end();
    await x.ds.destroy();
  }
  return results;
}

/**
 * The cursor page's keyset predicate `(created_at < X OR (created_at = X AND seq < Y))` with a
 * leading bound `created_at <= X AND (…)`, which an index can start from (the OR alone is only a
 * filter: the scan walks every newer row first). Same rows, any database.
 */
function boundKeyset(query) {
  return query.replace(
    /\("r"\."created_at" ([<>]) (\$\d+) OR \("r"\."created_at" = \2 AND "r"\."seq" \1 (\$\d+)\)\)/g,
    (_, op, x, y) => `("r"."created_at" ${op}= ${x} AND ("r"."created_at" ${op} ${x} OR "r"."seq" ${op} ${y}))`,
  );
}

/** The same keyset predicate as a row-value comparison `(created_at, seq) < (X, Y)` (PostgreSQL, MySQL 8, SQLite 3.15+). */
function rowValueKeyset(query) {
  return query.replace(
    /\("r"\."created_at" ([<>]) (\$\d+) OR \("r"\."created_at" = \2 AND "r"\."seq" \1 (\$\d+)\)\)/g,
    (_, op, x, y) => `(("r"."created_at", "r"."seq") ${op} (${x}, ${y}))`,
  );
}

/** The service's scalar `(SELECT COUNT(*) FROM t c)` replaced by the counter's sum. */
function swapCount(query) {
  return query.replace(/\(SELECT COUNT\(\*\) FROM "opportunity_lost_reason" "c"\)/g, `(SELECT SUM("n") FROM "${COUNTER}")`);
}

// ---------------------------------------------------------------------------------------------
// Options for `total`

const COUNTER_SQL = {
  table: `
    CREATE TABLE ${COUNTER} (shard smallint PRIMARY KEY, n bigint NOT NULL);`,
  /** Initialised under a lock that blocks writers, so no concurrent write is missed or counted twice. */
  init: (shards) => `
    LOCK TABLE ${TABLE} IN SHARE MODE;
    INSERT INTO ${COUNTER} (shard, n) SELECT 0, COUNT(*) FROM ${TABLE};
    INSERT INTO ${COUNTER} (shard, n) SELECT s, 0 FROM generate_series(1, ${shards - 1}) s;`,
  /** Row-level trigger: +1 / -1 on a shard chosen by the session (one shard per transaction: no deadlocks between shards). */
  rowTrigger: (shards) => `
    CREATE FUNCTION ${COUNTER}_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE ${COUNTER} SET n = n + CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END
       WHERE shard = ${shards > 1 ? `pg_backend_pid() % ${shards}` : '0'};
      RETURN NULL;
    END $$;
    CREATE TRIGGER ${COUNTER}_row AFTER INSERT OR DELETE ON ${TABLE}
      FOR EACH ROW EXECUTE FUNCTION ${COUNTER}_row();`,
  /** Statement-level trigger with transition tables (PostgreSQL 10+): one counter update per statement. */
  statementTrigger: (shards) => `
    CREATE FUNCTION ${COUNTER}_ins() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE ${COUNTER} SET n = n + (SELECT COUNT(*) FROM new_rows) WHERE shard = ${shards > 1 ? `pg_backend_pid() % ${shards}` : '0'};
      RETURN NULL;
    END $$;
    CREATE FUNCTION ${COUNTER}_del() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE ${COUNTER} SET n = n - (SELECT COUNT(*) FROM old_rows) WHERE shard = ${shards > 1 ? `pg_backend_pid() % ${shards}` : '0'};
      RETURN NULL;
    END $$;
    CREATE TRIGGER ${COUNTER}_ins AFTER INSERT ON ${TABLE} REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTER}_ins();
    CREATE TRIGGER ${COUNTER}_del AFTER DELETE ON ${TABLE} REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTER}_del();`,
  /** TRUNCATE fires no row triggers: reset the count with a statement trigger. */
  truncateTrigger: `
    CREATE FUNCTION ${COUNTER}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE ${COUNTER} SET n = 0;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ${COUNTER}_truncate AFTER TRUNCATE ON ${TABLE}
      FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTER}_truncate();`,
  drop: `
    DROP FUNCTION IF EXISTS ${SHIPPED_COUNTER}_rows() CASCADE; -- the shipped triggers
    DROP TABLE IF EXISTS ${SHIPPED_COUNTER};
    DROP TABLE IF EXISTS ${COUNTER};
    DROP FUNCTION IF EXISTS ${COUNTER}_row() CASCADE;
    DROP FUNCTION IF EXISTS ${COUNTER}_ins() CASCADE;
    DROP FUNCTION IF EXISTS ${COUNTER}_del() CASCADE;
    DROP FUNCTION IF EXISTS ${COUNTER}_truncate() CASCADE;`,
};

async function installCounter(c, { shards, kind }) {
  await c.query(COUNTER_SQL.drop);
  if (!kind) return;
  await c.query('BEGIN');
  await c.query(COUNTER_SQL.table);
  await c.query(COUNTER_SQL.init(shards));
  await c.query(kind === 'statement' ? COUNTER_SQL.statementTrigger(shards) : COUNTER_SQL.rowTrigger(shards));
  await c.query(COUNTER_SQL.truncateTrigger);
  await c.query('COMMIT');
}

/** The count table and triggers exactly as the module's migration creates them, in `schema`. */
async function installShipped(c, schema) {
  await c.query(COUNTER_SQL.drop);
  const { ds } = await dataSourceFor(schema);
  const queryRunner = ds.createQueryRunner();
  try {
    await new CountOpportunityLostReasons1764374400000().up(queryRunner);
  } finally {
    await queryRunner.release();
    await ds.destroy();
  }
}

async function explainLines(c, sql) {
  return (await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`)).rows.map((r) => r['QUERY PLAN']);
}

/** COUNT(*) before VACUUM (no visibility map yet), with and without parallel workers. */
async function measureCountBeforeVacuum(rows) {
  const c = await client(schemaOf(rows));
  const out = [];
  out.push({
    label: 'COUNT(*), before VACUUM (visibility map empty)',
    ...(await time(() => c.query(`SELECT COUNT(*) FROM ${TABLE}`), { min: 10, max: 40 })),
    plan: await explainLines(c, `SELECT COUNT(*) FROM ${TABLE}`),
  });
  await c.end();
  return out;
}

async function measureCountOptions(rows) {
  const c = await client(schemaOf(rows));
  const out = [];
  const count = `SELECT COUNT(*) FROM ${TABLE}`;
  out.push({
    label: 'COUNT(*), after VACUUM (index-only scan allowed), parallel workers on',
    ...(await time(() => c.query(count), { min: 10, max: 60 })),
    plan: await explainLines(c, count),
  });
  await c.query('SET max_parallel_workers_per_gather = 0');
  out.push({
    label: 'COUNT(*), after VACUUM, no parallel workers',
    ...(await time(() => c.query(count), { min: 10, max: 60 })),
    plan: await explainLines(c, count),
  });
  await c.query('RESET max_parallel_workers_per_gather');
  await c.query('SET enable_indexonlyscan = off');
  await c.query('SET enable_bitmapscan = off');
  out.push({
    label: 'COUNT(*), after VACUUM, sequential scan forced (index-only scan off)',
    ...(await time(() => c.query(count), { min: 10, max: 60 })),
    plan: await explainLines(c, count),
  });
  await c.query('RESET enable_indexonlyscan');
  await c.query('RESET enable_bitmapscan');
  const estimate = `SELECT reltuples::bigint FROM pg_class WHERE oid = '${TABLE}'::regclass`;
  out.push({ label: 'pg_class.reltuples (estimate, NOT exact: for reference)', ...(await time(() => c.query(estimate))) });
  await installCounter(c, { shards: 1, kind: 'row' });
  const one = `SELECT n FROM ${COUNTER} WHERE shard = 0`;
  out.push({ label: 'counter, 1 row: SELECT n', ...(await time(() => c.query(one))), plan: await explainLines(c, one) });
  await installCounter(c, { shards: SHARDS, kind: 'row' });
  const sum = `SELECT SUM(n) FROM ${COUNTER}`;
  out.push({ label: `counter, ${SHARDS} shards: SELECT SUM(n)`, ...(await time(() => c.query(sum))), plan: await explainLines(c, sum) });
  const exact = (await c.query(`SELECT (SELECT SUM(n) FROM ${COUNTER})::bigint AS counter, (SELECT COUNT(*) FROM ${TABLE}) AS count`))
    .rows[0];
  if (String(exact.counter) !== String(exact.count)) throw new Error(`counter ${exact.counter} != COUNT(*) ${exact.count}`);
  await c.end();
  return out;
}

/**
 * Single-row INSERT throughput (the module's create statement) with and without a counter
 * trigger; the configurations take turns over `rounds` rounds (the machine's load drifts), each
 * round: `sequential` inserts on one connection, then `concurrent` connections inserting
 * `perConnection` each, then one bulk INSERT … SELECT of `bulk` rows, then a DELETE of all of them.
 */
async function measureWrites(rows, { rounds = 3, sequential = 2000, concurrent = 4, perConnection = 500, bulk = 10000 } = {}) {
  const schema = schemaOf(rows);
  const admin = await client(schema);
  const configs = [
    { label: 'no trigger (COUNT(*) on read)', kind: undefined, shards: 1 },
    { label: 'row trigger, 1-row counter', kind: 'row', shards: 1 },
    { label: `row trigger, ${SHARDS}-shard counter`, kind: 'row', shards: SHARDS },
    { label: `statement trigger (transition table), ${SHARDS}-shard counter`, kind: 'statement', shards: SHARDS },
    { label: `as shipped: the module's migration (per-tenant upserts, statement trigger, ${SHARDS} shards)`, kind: 'shipped' },
  ];
  const insert = `INSERT INTO "${TABLE}"("id", "created_at", "updated_at", "lost_reason") VALUES ($1, $2, $3, $4)`;
  const one = (c) => {
    const now = new Date().toISOString();
    return c.query(insert, ['opportunity-lost-reason_' + randomBytes(16).toString('hex'), now, now, 'bench-write']);
  };
  const acc = configs.map(() => ({ seq: [], seqSeconds: 0, con: [], conSeconds: 0, bulk: [], del: [] }));
  for (let round = 0; round < rounds; round++) {
    for (const [k, config] of configs.entries()) {
      if (config.kind === 'shipped') await installShipped(admin, schema);
      else await installCounter(admin, config);
      await admin.query(`VACUUM ${TABLE}`);
      const clients = await Promise.all(Array.from({ length: concurrent }, () => client(schema)));
      for (let i = 0; i < 50; i++) await one(clients[0]); // warm-up
      let t0 = process.hrtime.bigint();
      for (let i = 0; i < sequential; i++) {
        const s0 = process.hrtime.bigint();
        await one(clients[0]);
        acc[k].seq.push(ms(process.hrtime.bigint() - s0));
      }
      acc[k].seqSeconds += Number(process.hrtime.bigint() - t0) / 1e9;
      t0 = process.hrtime.bigint();
      await Promise.all(
        clients.map(async (c) => {
          for (let i = 0; i < perConnection; i++) {
            const s0 = process.hrtime.bigint();
            await one(c);
            acc[k].con.push(ms(process.hrtime.bigint() - s0));
          }
        }),
      );
      acc[k].conSeconds += Number(process.hrtime.bigint() - t0) / 1e9;
      t0 = process.hrtime.bigint();
      await clients[0].query(`INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason)
        SELECT 'opportunity-lost-reason_' || md5(random()::text || g), '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', 'bench-write'
          FROM generate_series(1, ${bulk}) g`);
      acc[k].bulk.push(ms(process.hrtime.bigint() - t0));
      t0 = process.hrtime.bigint();
      await clients[0].query(`DELETE FROM ${TABLE} WHERE lost_reason = 'bench-write'`);
      acc[k].del.push(ms(process.hrtime.bigint() - t0));
      if (config.kind) {
        const counter = config.kind === 'shipped' ? SHIPPED_COUNTER : COUNTER;
        const check = (
          await admin.query(`SELECT (SELECT SUM(n) FROM ${counter})::bigint AS counter, (SELECT COUNT(*) FROM ${TABLE}) AS count`)
        ).rows[0];
        if (String(check.counter) !== String(check.count))
          throw new Error(`${config.label}: counter ${check.counter} != COUNT(*) ${check.count}`);
      }
      await Promise.all(clients.map((c) => c.end()));
      log(
        `writes round ${round + 1}, ${config.label}: bulk ${acc[k].bulk.at(-1).toFixed(0)} ms, delete ${acc[k].del.at(-1).toFixed(0)} ms`,
      );
    }
  }
  const out = configs.map((config, k) => ({
    label: config.label,
    sequential: { inserts: acc[k].seq.length, perSecond: acc[k].seq.length / acc[k].seqSeconds, ...stats(acc[k].seq) },
    concurrent: {
      connections: concurrent,
      inserts: acc[k].con.length,
      perSecond: acc[k].con.length / acc[k].conSeconds,
      ...stats(acc[k].con),
    },
    bulk: stats(acc[k].bulk).median,
    delete: stats(acc[k].del).median,
    bulkRows: bulk,
    deleteRows: sequential + concurrent * perConnection + bulk + 50,
  }));
  for (const r of out)
    log(
      `writes, ${r.label}: sequential ${r.sequential.perSecond.toFixed(0)}/s, ${concurrent} connections ${r.concurrent.perSecond.toFixed(0)}/s, bulk ${r.bulk.toFixed(0)} ms, delete ${r.delete.toFixed(0)} ms`,
    );
  await installCounter(admin, {});
  await admin.query(`VACUUM ANALYZE ${TABLE}`);
  await admin.end();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Report

const f = (x, d = 2) => (x === undefined ? '–' : x < 1 && d === 2 ? x.toFixed(3) : x.toFixed(d));

function machine() {
  const sh = (cmd) => {
    try {
      return execSync(cmd, { encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  return {
    date: sh('date -u'),
    nproc: sh('nproc'),
    cpu: (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? '?',
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    load: os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
    node: process.version,
  };
}

function markdown(r) {
  const L = [];
  const big = r.service[ROWS];
  const small = r.service[SMALL];
  L.push(
    `Run: ${r.machine.date}; ${r.machine.nproc} cores (${r.machine.cpu}), ${r.machine.memory}; ${r.pg.version}; ` +
      `shared_buffers ${r.pg.shared_buffers}, max_parallel_workers_per_gather ${r.pg.parallel}, synchronous_commit ${r.pg.synchronous_commit}; Node ${r.machine.node}. ` +
      `Load average at start ${r.machine.load} (shared machine: other test suites were running).`,
  );
  L.push('');
  L.push('### Seeding');
  L.push('');
  L.push('| rows | INSERT … SELECT generate_series (batches of 100,000, indexes in place) | ANALYZE | table + indexes |');
  L.push('|---:|---:|---:|---:|');
  for (const s of r.seed)
    L.push(`| ${s.rows.toLocaleString('en')} | ${s.seconds.insert.toFixed(2)} s | ${s.seconds.analyze.toFixed(2)} s | ${s.size} |`);
  L.push('');
  L.push(`### The service's operations, ${SMALL.toLocaleString('en')} vs ${ROWS.toLocaleString('en')} rows`);
  L.push('');
  L.push(
    '`LostReasonService` from `dist/` on a TypeORM DataSource (pool of 4), sequential calls alternating between the two tables call by call, ms per call (after VACUUM ANALYZE).',
  );
  L.push('');
  L.push(`| operation | ${SMALL} rows median | p95 | ${ROWS} rows median | p95 | ratio (median) |`);
  L.push('|---|---:|---:|---:|---:|---:|');
  for (const key of ['retrieve', 'first', 'offset', 'cursor']) {
    const a = small[key];
    const b = big[key];
    L.push(
      `| ${key === 'offset' ? `list offset (${a.label.match(/offset: (\d+)/)[1]} / ${b.label.match(/offset: (\d+)/)[1]})` : key === 'cursor' ? 'list({ limit: 20, starting_after: <middle row> })' : b.label} | ${f(a.median)} | ${f(a.p95)} | ${f(b.median)} | ${f(b.p95)} | **${(b.median / a.median).toFixed(1)}×** |`,
    );
  }
  L.push('');
  L.push(
    'The same list statements sent raw through `pg` (no TypeORM), as today (`COUNT(*)` subquery) and with that subquery replaced by the sharded counter (`(SELECT SUM("n") FROM "opportunity_lost_reason_count")`), ms median:',
  );
  L.push('');
  L.push(
    `| statements of | ${SMALL}: COUNT(*) | ${SMALL}: counter | ${ROWS}: COUNT(*) | ${ROWS}: counter | ratio today | ratio with counter |`,
  );
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const key of ['first', 'offset', 'cursor']) {
    const a = small[key];
    const b = big[key];
    L.push(
      `| ${key} | ${f(a.rawCount.median)} | ${f(a.rawCounter?.median)} | ${f(b.rawCount.median)} | ${f(b.rawCounter?.median)} | ${(b.rawCount.median / a.rawCount.median).toFixed(1)}× | ${b.rawCounter && a.rawCounter ? (b.rawCounter.median / a.rawCounter.median).toFixed(1) + '×' : '–'} |`,
    );
  }
  L.push('');
  const cf = [small.cursor.rawFixed, big.cursor.rawFixed];
  L.push('');
  L.push(
    `Cursor statements with the counter **and** the keyset predicate given a leading bound (\`created_at <= X AND (created_at < X OR seq < Y)\`): ${f(cf[0].median)} ms at ${SMALL}, ${f(cf[1].median)} ms at ${ROWS} (p95 ${f(cf[0].p95)} / ${f(cf[1].p95)}): **${(cf[1].median / cf[0].median).toFixed(1)}×**.`,
  );
  L.push('');
  L.push(`### The cursor page's keyset predicate at ${ROWS.toLocaleString('en')} rows (page statement only, ms)`);
  L.push('');
  L.push('| predicate | median | p95 | plan |');
  L.push('|---|---:|---:|---|');
  for (const k of r.keyset) {
    const scan =
      k.plan
        .find((l) => /Scan/.test(l))
        ?.trim()
        .replace(/\s*\(cost.*$/, '') ?? '';
    const cond = k.plan.find((l) => /Index Cond/.test(l)) ? 'Index Cond' : 'Filter only';
    const removed = (k.plan.find((l) => /Rows Removed by Filter/.test(l)) ?? '').trim();
    L.push(`| ${k.label} | ${f(k.median)} | ${f(k.p95)} | ${scan}; ${cond}${removed ? '; ' + removed : ''} |`);
  }
  L.push('');
  L.push(`### Options for \`total\` at ${ROWS.toLocaleString('en')} rows (SQL only, ms)`);
  L.push('');
  L.push('| option | median | p95 | n |');
  L.push('|---|---:|---:|---:|');
  for (const o of [...r.countBefore, ...r.countOptions]) L.push(`| ${o.label} | ${f(o.median)} | ${f(o.p95)} | ${o.n} |`);
  L.push('');
  const w0 = r.writes[0];
  L.push(`### Write overhead of a maintained count (the module's create statement, on the ${ROWS.toLocaleString('en')}-row table)`);
  L.push('');
  L.push(
    `Per configuration, ${w0.sequential.inserts} sequential single-row INSERTs (autocommit) and ${w0.concurrent.inserts} from ${w0.concurrent.connections} concurrent connections, over 3 rounds taking turns with the other configurations; then per round one INSERT … SELECT of ${w0.bulkRows.toLocaleString('en')} rows and one DELETE of the ${w0.deleteRows.toLocaleString('en')} rows inserted (medians of the rounds).`,
  );
  L.push('');
  L.push(
    `| trigger | sequential inserts/s | median ms | p95 ms | ${w0.concurrent.connections} connections inserts/s | median ms | p95 ms | bulk INSERT ${w0.bulkRows.toLocaleString('en')} rows | DELETE ${w0.deleteRows.toLocaleString('en')} rows |`,
  );
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of r.writes) {
    L.push(
      `| ${w.label} | ${w.sequential.perSecond.toFixed(0)} | ${f(w.sequential.median)} | ${f(w.sequential.p95)} | ${w.concurrent.perSecond.toFixed(0)} | ${f(w.concurrent.median)} | ${f(w.concurrent.p95)} | ${w.bulk.toFixed(0)} ms | ${w.delete.toFixed(0)} ms |`,
    );
  }
  L.push('');
  L.push(`### EXPLAIN (ANALYZE, BUFFERS) at ${ROWS.toLocaleString('en')} rows`);
  L.push('');
  for (const key of ['retrieve', 'first', 'offset', 'cursor']) {
    const b = big[key];
    L.push(`#### ${b.label}`);
    L.push('');
    for (const e of b.explain) {
      L.push('```sql');
      L.push(`${e.query.trim()}${e.parameters.length ? `  -- ${JSON.stringify(e.parameters)}` : ''}`);
      L.push('```');
      L.push('```');
      L.push(...e.plan);
      L.push('```');
    }
    for (const e of b.explainCounter ?? []) {
      L.push('With the counter instead of `COUNT(*)`:');
      L.push('```');
      L.push(...e.plan);
      L.push('```');
    }
    L.push('');
  }
  L.push('#### The cursor page with a bounded keyset predicate');
  L.push('');
  for (const k of r.keyset.slice(1)) {
    L.push(`${k.label}:`);
    L.push('```');
    L.push(...k.plan);
    L.push('```');
  }
  L.push('');
  L.push('#### COUNT(*) and the counter');
  L.push('');
  for (const o of [...r.countBefore, ...r.countOptions].filter((x) => x.plan)) {
    L.push(`${o.label}:`);
    L.push('```');
    L.push(...o.plan);
    L.push('```');
  }
  return L.join('\n');
}

/**
 * `--shipped`: the service as it ships (its migrations include the count table and triggers)
 * at `small` and `big` rows, nothing else; prints one Markdown table.
 */
async function measureShipped(small, big) {
  const a = await setupService(small);
  const b = await setupService(big);
  const lines = [
    `| operation (at ${big.toLocaleString('en')} rows) | ${small.toLocaleString('en')} rows, median ms | ${big.toLocaleString('en')} rows, median ms | ratio |`,
    '|---|---:|---:|---:|',
  ];
  for (const key of ['retrieve', 'first', 'offset', 'cursor']) {
    const opts = key === 'offset' ? { warmup: 2, min: 10, max: 40, budgetMs: 10000 } : {};
    const [sa, sb] = await timePair(a.ops[key].run, b.ops[key].run, opts);
    lines.push(`| \`${b.ops[key].label}\` | ${sa.median.toFixed(3)} | ${sb.median.toFixed(3)} | ${(sb.median / sa.median).toFixed(1)}× |`);
    log(`${key}: ${sa.median.toFixed(3)} / ${sb.median.toFixed(3)} ms`);
  }
  lines.push('', 'Statements sent (at the big table):', '');
  for (const key of ['first', 'cursor']) {
    for (const st of b.ops[key].statements) lines.push(`- ${key}: \`${st.query.replace(/\s+/g, ' ')}\``);
  }
  for (const x of [a, b]) {
    await x.c.end();
    await x.ds.destroy();
  }
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  if (arg('shipped', false)) {
    const seeded = [await createAndSeed(SMALL), await createAndSeed(ROWS)];
    for (const rows of [SMALL, ROWS]) {
      const v = await client(schemaOf(rows));
      await v.query(`VACUUM ANALYZE ${TABLE}`);
      await v.end();
    }
    const m = machine();
    process.stdout.write(
      `Run: ${new Date().toUTCString()} · ${m.nproc} cores · load ${m.load} · seeded ${seeded.map((x) => `${x.rows} rows in ${x.seconds.insert.toFixed(1)} s`).join(', ')}\n\n`,
    );
    process.stdout.write((await measureShipped(SMALL, ROWS)) + '\n');
    return;
  }
  const results = { machine: machine(), rows: ROWS, small: SMALL };
  const c = await client();
  const setting = async (name) => (await c.query(`SELECT current_setting('${name}') AS v`)).rows[0].v;
  results.pg = {
    version: (await c.query('SELECT version() AS v')).rows[0].v.split(' on ')[0],
    shared_buffers: await setting('shared_buffers'),
    parallel: await setting('max_parallel_workers_per_gather'),
    synchronous_commit: await setting('synchronous_commit'),
  };
  await c.end();
  log(`${results.pg.version}, ${results.machine.nproc} cores, load ${results.machine.load}`);

  results.seed = [await createAndSeed(SMALL), await createAndSeed(ROWS)];
  results.countBefore = await measureCountBeforeVacuum(ROWS);
  for (const rows of [SMALL, ROWS]) {
    const v = await client(schemaOf(rows));
    await v.query(`VACUUM ANALYZE ${TABLE}`);
    await v.end();
  }
  // The counter the swapped statements read: installed for the reads only (no trigger needed).
  for (const rows of [SMALL, ROWS]) {
    const v = await client(schemaOf(rows));
    await installCounter(v, { shards: SHARDS, kind: 'row' });
    await v.end();
  }
  results.service = await measureService(SMALL, ROWS);
  results.keyset = results.service.keyset;
  delete results.service.keyset;
  results.countOptions = await measureCountOptions(ROWS);
  results.writes = await measureWrites(ROWS);
  for (const rows of [SMALL, ROWS]) {
    const v = await client(schemaOf(rows));
    await installCounter(v, {});
    await v.end();
  }

  const out = path.join(os.tmpdir(), 'million-results.json');
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  const md = markdown(results);
  process.stdout.write(md + '\n');
  if (WRITE) {
    const file = path.join(__dirname, 'MILLION.md');
    const begin = '<!-- million.js:begin -->';
    const end = '<!-- million.js:end -->';
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : `# A million rows\n\n${begin}\n${end}\n`;
    const i = current.indexOf(begin);
    const j = current.indexOf(end);
    if (i < 0 || j < 0) throw new Error(`${file} lacks the ${begin} … ${end} markers`);
    fs.writeFileSync(file, `${current.slice(0, i + begin.length)}\n${md}\n${current.slice(j)}`);
    log(`wrote ${file}`);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; raw results in ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
