'use strict';
/**
 * The floor: plain node:http and the driver's prepared statements, no framework. Same
 * contract as the module (routes, bearer key, ids, list shape, newest first, errors as
 * `{ error: { type, message } }`), same statements as the module's service (one INSERT,
 * one SELECT, list page + the total kept in the count table (the module on a migrated schema)
 * in one statement, UPDATE … RETURNING or, on MariaDB,
 * UPDATE + SELECT in a transaction, one DELETE).
 *
 * Env: PORT, DATABASE_URL (sqlite:PATH | postgres://… | mysql://…), API_KEYS. Without a
 * DATABASE_URL, plain node:http's own ceiling: every authorised GET answers one constant object
 * (the runner subtracts its time from the floor's to find the database's time per request).
 */
const http = require('node:http');
const { randomBytes, createHash, timingSafeEqual } = require('node:crypto');

const PATH = '/api/crm/opportunity-lost-reason';
const TABLE = 'opportunity_lost_reason';
/** The exact total as the module reads it on a migrated schema: the count kept by triggers. */
const TOTAL = `(SELECT COALESCE(SUM(n), 0) FROM ${TABLE}_count WHERE tenant_id = '')`;
const ID = /^opportunity-lost-reason_[0-9a-f]{32}$/;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const digest = (key) => createHash('sha256').update(key).digest();
const KEYS = (process.env.API_KEYS ?? 'sk_test_bench')
  .split(',')
  .map((k) => k.trim())
  .filter(Boolean)
  .map(digest);

class HttpError extends Error {
  constructor(status, message, param) {
    super(message);
    this.status = status;
    this.param = param;
  }
}
const notFound = (id) => new HttpError(404, `No such opportunity-lost-reason: '${id}'`, 'id');

/** Three stores with the same five operations, each on the driver's prepared statements. */
function sqliteStore(file) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('foreign_keys = ON'); // as TypeORM's better-sqlite3 driver does
  const insert = db.prepare(`INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason) VALUES (?, ?, ?, ?)`);
  const select = db.prepare(`SELECT id, created_at, updated_at, lost_reason FROM ${TABLE} WHERE id = ?`);
  const page = db.prepare(
    `SELECT id, created_at, updated_at, lost_reason, ${TOTAL} AS total FROM ${TABLE} ORDER BY seq DESC LIMIT ? OFFSET ?`,
  );
  const count = db.prepare(`SELECT ${TOTAL} AS total`);
  const update = db.prepare(
    `UPDATE ${TABLE} SET updated_at = ?, lost_reason = CASE WHEN ? THEN ? ELSE lost_reason END WHERE id = ? RETURNING id, created_at, updated_at, lost_reason`,
  );
  const remove = db.prepare(`DELETE FROM ${TABLE} WHERE id = ?`);
  return {
    async insert(row) {
      insert.run(row.id, row.created_at, row.updated_at, row.lost_reason);
    },
    async get(id) {
      return select.get(id);
    },
    async page(limit, offset) {
      return page.all(limit, offset);
    },
    async count() {
      return count.get().total;
    },
    async update(id, now, set, value) {
      return update.get(now, set ? 1 : 0, value, id);
    },
    async remove(id) {
      return remove.run(id).changes;
    },
    close: async () => db.close(),
  };
}

function postgresStore(url) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: url, max: 10 });
  const q = async (name, text, values) => (await pool.query({ name, text, values })).rows;
  return {
    async insert(row) {
      await q('ins', `INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason) VALUES ($1, $2, $3, $4)`, [
        row.id,
        row.created_at,
        row.updated_at,
        row.lost_reason,
      ]);
    },
    async get(id) {
      return (await q('get', `SELECT id, created_at, updated_at, lost_reason FROM ${TABLE} WHERE id = $1`, [id]))[0];
    },
    page: (limit, offset) =>
      q('page', `SELECT id, created_at, updated_at, lost_reason, ${TOTAL} AS total FROM ${TABLE} ORDER BY seq DESC LIMIT $1 OFFSET $2`, [
        limit,
        offset,
      ]),
    async count() {
      return Number((await q('count', `SELECT ${TOTAL} AS total`, []))[0].total);
    },
    async update(id, now, set, value) {
      const rows = await q(
        'upd',
        `UPDATE ${TABLE} SET updated_at = $1, lost_reason = CASE WHEN $2::boolean THEN $3 ELSE lost_reason END WHERE id = $4 RETURNING id, created_at, updated_at, lost_reason`,
        [now, set, value, id],
      );
      return rows[0];
    },
    async remove(id) {
      return (await pool.query({ name: 'del', text: `DELETE FROM ${TABLE} WHERE id = $1`, values: [id] })).rowCount;
    },
    close: () => pool.end(),
  };
}

function mariadbStore(url) {
  const mysql = require('mysql2/promise');
  const pool = mysql.createPool({ uri: url.replace(/^mariadb:/, 'mysql:'), connectionLimit: 10 });
  const SELECT = `SELECT id, created_at, updated_at, lost_reason FROM ${TABLE} WHERE id = ?`;
  return {
    async insert(row) {
      await pool.execute(`INSERT INTO ${TABLE} (id, created_at, updated_at, lost_reason) VALUES (?, ?, ?, ?)`, [
        row.id,
        row.created_at,
        row.updated_at,
        row.lost_reason,
      ]);
    },
    async get(id) {
      return (await pool.execute(SELECT, [id]))[0][0];
    },
    async page(limit, offset) {
      // LIMIT/OFFSET placeholders take strings in mysql2's binary protocol
      const [rows] = await pool.execute(
        `SELECT id, created_at, updated_at, lost_reason, ${TOTAL} AS total FROM ${TABLE} ORDER BY seq DESC LIMIT ? OFFSET ?`,
        [String(limit), String(offset)],
      );
      return rows;
    },
    async count() {
      return Number((await pool.execute(`SELECT ${TOTAL} AS total`))[0][0].total);
    },
    async update(id, now, set, value) {
      // No UPDATE … RETURNING on MariaDB: UPDATE then SELECT in one transaction, as the module does.
      const connection = await pool.getConnection();
      try {
        await connection.query('START TRANSACTION');
        await connection.execute(`UPDATE ${TABLE} SET updated_at = ?, lost_reason = CASE WHEN ? THEN ? ELSE lost_reason END WHERE id = ?`, [
          now,
          set ? 1 : 0,
          value,
          id,
        ]);
        const [rows] = await connection.execute(SELECT, [id]);
        await connection.query('COMMIT');
        return rows[0];
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        connection.release();
      }
    },
    async remove(id) {
      return (await pool.execute(`DELETE FROM ${TABLE} WHERE id = ?`, [id]))[0].affectedRows;
    },
    close: () => pool.end(),
  };
}

/** No database: every id is one constant object (node:http's own ceiling). */
function constantStore() {
  const at = '2026-01-01T00:00:00.000Z';
  const row = {
    id: 'opportunity-lost-reason_00000000000000000000000000000000',
    created_at: at,
    updated_at: at,
    lost_reason: 'Price too high',
  };
  const none = async () => {
    throw new HttpError(404, 'No database: only GET of an object is served.');
  };
  return { get: async () => row, insert: none, page: none, count: none, update: none, remove: none, close: async () => undefined };
}

function storeFromUrl(url) {
  if (url === '') return constantStore();
  if (url.startsWith('sqlite:')) return sqliteStore(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:/.test(url)) return postgresStore(url);
  if (/^(mysql|mariadb):/.test(url)) return mariadbStore(url);
  throw new Error(`DATABASE_URL: unsupported "${url}"`);
}

const toObject = (r) => ({ id: r.id, created_at: r.created_at, updated_at: r.updated_at, lost_reason: r.lost_reason ?? null });

function authorized(header) {
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) return false;
  const given = digest(match[1]);
  let ok = false;
  for (const key of KEYS) ok = timingSafeEqual(given, key) || ok;
  return ok;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 100 * 1024) reject(new HttpError(413, 'The request body is too large.'));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (size === 0) return resolve({});
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          return reject(new HttpError(400, 'The request parameters must be a JSON object.'));
        }
        resolve(body);
      } catch {
        reject(new HttpError(400, 'The request body is not valid JSON.'));
      }
    });
    req.on('error', reject);
  });
}

/** `{ lost_reason?: string | null }` and nothing else. */
function checkBody(body) {
  for (const key of Object.keys(body)) {
    if (key !== 'lost_reason') throw new HttpError(400, `Received unknown parameter: ${key}`, key);
  }
  const value = body.lost_reason;
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string' || value.includes('\u0000') || !value.isWellFormed() || [...value].length > 500) {
    throw new HttpError(400, 'lost_reason must be a string of at most 500 characters', 'lost_reason');
  }
  return value;
}

function intParam(params, name, fallback, min, max) {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new HttpError(400, `${name} is invalid`, name);
  return Number(raw);
}

async function handle(store, req) {
  const url = new URL(req.url, 'http://x');
  let id;
  if (url.pathname === PATH) id = undefined;
  else if (url.pathname.startsWith(PATH + '/') && url.pathname.indexOf('/', PATH.length + 1) < 0)
    id = decodeURIComponent(url.pathname.slice(PATH.length + 1));
  else throw new HttpError(404, `Unrecognized request URL (${req.method}: ${url.pathname}).`);
  if (!authorized(req.headers.authorization)) throw new HttpError(401, 'Invalid API key provided.');

  if (id === undefined && req.method === 'POST') {
    const value = checkBody(await readBody(req));
    const now = new Date().toISOString();
    const row = {
      id: 'opportunity-lost-reason_' + randomBytes(16).toString('hex'),
      created_at: now,
      updated_at: now,
      lost_reason: value ?? null,
    };
    await store.insert(row);
    return [201, row];
  }
  if (id === undefined && req.method === 'GET') {
    const limit = intParam(url.searchParams, 'limit', 20, 1, 100);
    const offset = intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const rows = await store.page(limit, offset);
    const total = rows.length > 0 ? Number(rows[0].total) : await store.count();
    return [200, { data: rows.map(toObject), has_more: offset + rows.length < total, total }];
  }
  if (id !== undefined && req.method === 'GET') {
    const row = ID.test(id) ? await store.get(id) : undefined;
    if (!row) throw notFound(id);
    return [200, toObject(row)];
  }
  if (id !== undefined && req.method === 'PATCH') {
    const value = checkBody(await readBody(req));
    if (!ID.test(id)) throw notFound(id);
    const row = await store.update(id, new Date().toISOString(), value !== undefined, value ?? null);
    if (!row) throw notFound(id);
    return [200, toObject(row)];
  }
  if (id !== undefined && req.method === 'DELETE') {
    if (!ID.test(id) || !(await store.remove(id))) throw notFound(id);
    return [200, { id, deleted: true }];
  }
  throw new HttpError(404, `Unrecognized request URL (${req.method}: ${url.pathname}).`);
}

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

const store = storeFromUrl(process.env.DATABASE_URL ?? '');
const server = http.createServer((req, res) => {
  handle(store, req).then(
    ([status, body]) => send(res, status, body),
    (error) => {
      if (error instanceof HttpError) {
        const type = error.status === 401 ? 'authentication_error' : 'invalid_request_error';
        send(res, error.status, { error: { type, message: error.message, ...(error.param && { param: error.param }) } });
      } else {
        console.error(error);
        send(res, 500, { error: { type: 'api_error', message: 'An unexpected error occurred. Please try again later.' } });
      }
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 3500), '127.0.0.1');
const stop = () => {
  server.close(() => store.close().finally(() => process.exit(0)));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
