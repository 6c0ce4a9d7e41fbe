'use strict';
/** The runner's own connection to each benchmark database: reset and seed the shared table. */
const path = require('node:path');

const TABLE = 'opportunity_lost_reason';
/** Everything the module's migrations create (the count table's triggers go with TABLE). */
const SCHEMA_TABLES = [TABLE, `${TABLE}_count`, `${TABLE}_idempotency`, 'migrations'];
const BATCH = 2000;

/** `count` rows, oldest first (seq ascending = created_at ascending), with the given ids. */
function rowsFor(ids) {
  const base = Date.parse('2025-01-01T00:00:00.000Z');
  return ids.map((id, i) => {
    const at = new Date(base + i * 1000).toISOString();
    return [id, at, at, i % 5 === 0 ? null : `Seeded reason ${i}`];
  });
}

async function sqlite(url) {
  const Database = require('better-sqlite3');
  const file = url.slice('sqlite:'.length);
  let db;
  const open = () => (db ??= new Database(file));
  return {
    name: 'sqlite',
    async version() {
      return 'SQLite ' + new Database(':memory:').prepare('select sqlite_version() v').get().v + ' (better-sqlite3, file, default pragmas)';
    },
    async dropTable() {
      for (const table of SCHEMA_TABLES) open().exec(`DROP TABLE IF EXISTS ${table}`);
    },
    async seed(ids) {
      const d = open();
      const insert = d.prepare(`INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason) VALUES (?, ?, ?, ?)`);
      d.transaction(() => {
        d.exec(`DELETE FROM ${TABLE}`);
        try {
          d.exec(`DELETE FROM sqlite_sequence WHERE name = '${TABLE}'`);
        } catch {
          /* no AUTOINCREMENT table */
        }
        for (const row of rowsFor(ids)) insert.run(...row);
      })();
    },
    async close() {
      db?.close();
      db = undefined;
    },
  };
}

async function postgres(url) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  return {
    name: 'postgres',
    async version() {
      return (await client.query('select version() v')).rows[0].v.split(' on ')[0];
    },
    async dropTable() {
      await client.query(`DROP TABLE IF EXISTS ${SCHEMA_TABLES.join(', ')}`);
    },
    /** The schema `synchronize` builds has no count table: totals are then a COUNT(*). */
    async dropCounts() {
      await client.query(`DROP TABLE IF EXISTS ${TABLE}_count`);
    },
    async seed(ids) {
      const rows = rowsFor(ids);
      await client.query(`TRUNCATE ${TABLE} RESTART IDENTITY`);
      const column = (i) => rows.map((row) => row[i]);
      await client.query(
        `INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason)
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[])`,
        [column(0), column(1), column(2), column(3)],
      );
      await client.query(`ANALYZE ${TABLE}`);
    },
    close: () => client.end(),
  };
}

async function mariadb(url) {
  const mysql = require('mysql2/promise');
  const connection = await mysql.createConnection({ uri: url.replace(/^mariadb:/, 'mysql:'), connectTimeout: 3000 });
  return {
    name: 'mariadb',
    async version() {
      return 'MariaDB ' + (await connection.query('select version() v'))[0][0].v;
    },
    async dropTable() {
      await connection.query(`DROP TABLE IF EXISTS ${SCHEMA_TABLES.join(', ')}`);
    },
    /** The schema `synchronize` builds has no count table: totals are then a COUNT(*). */
    async dropCounts() {
      await connection.query(`DROP TABLE IF EXISTS ${TABLE}_count`);
    },
    async seed(ids) {
      const rows = rowsFor(ids);
      // DELETE, not TRUNCATE: MariaDB fires no trigger on TRUNCATE, and the count table would drift.
      await connection.query(`DELETE FROM ${TABLE}`);
      for (let i = 0; i < rows.length; i += BATCH) {
        await connection.query(`INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason) VALUES ?`, [rows.slice(i, i + BATCH)]);
      }
      await connection.query(`ANALYZE TABLE ${TABLE}`);
    },
    close: () => connection.end(),
  };
}

/** Connects the runner to the database behind a DATABASE_URL. */
function connect(url) {
  if (url.startsWith('sqlite:')) return sqlite(url);
  if (/^postgres(ql)?:/.test(url)) return postgres(url);
  if (/^(mysql|mariadb):/.test(url)) return mariadb(url);
  throw new Error(`unsupported database URL ${url}`);
}

/**
 * Builds the schema with the module's own migrations (from dist/), as a production host does:
 * the table, its indexes, and the count table with its triggers. The servers then find it.
 */
async function migrate(url) {
  const { DataSource } = require('typeorm');
  const { LOST_REASON_ENTITIES, LOST_REASON_MIGRATIONS } = require(path.join(__dirname, '..', 'dist'));
  const connection = url.startsWith('sqlite:')
    ? { type: 'better-sqlite3', database: url.slice('sqlite:'.length) }
    : /^postgres(ql)?:/.test(url)
      ? { type: 'postgres', url }
      : { type: 'mariadb', url: url.replace(/^mariadb:/, 'mysql:') };
  const dataSource = await new DataSource({
    ...connection,
    entities: LOST_REASON_ENTITIES,
    migrations: LOST_REASON_MIGRATIONS,
  }).initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
}

module.exports = { connect, migrate, TABLE };
