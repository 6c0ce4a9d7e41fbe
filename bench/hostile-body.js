#!/usr/bin/env node
/**
 * What refusing a hostile body costs: the module on Fastify (whose default body limit, 1 MiB, lets
 * the largest bodies through; Express stops at 100 kB with a 413 before parsing), answering
 *   - small:   `{"lost_reason":1}`, a 400 for a wrong type;
 *   - hostile: `{"lost_reason":[{"k0":0},{"k1":1},…]}`, just under 1 MiB of small objects, a 400;
 * and, while hostile bodies arrive 4 at a time, how long another client's GET (a 404 answered
 * without a query) takes.
 * Prints medians in ms. Run after `npm run bench` (or its build): it starts
 * dist-bench/apps/module-app.js on an in-memory SQLite database (no table: nothing here queries).
 *
 *   node bench/hostile-body.js [--rounds=50]
 */
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROUNDS = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.split('=')[1] ?? 50);
const PORT = 3990;
const KEY = 'sk_test_hostile_body';
const BASE = `http://127.0.0.1:${PORT}/api/crm/opportunity-lost-reason`;
const HEADERS = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };

function hostileBody() {
  const items = [];
  let size = 20;
  for (let i = 0; size < 1024 * 1024 - 40; i++) {
    const item = `{"k${i % 7}":${i}}`;
    items.push(item);
    size += item.length + 1;
  }
  return `{"lost_reason":[${items.join(',')}]}`;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(send) {
  const started = process.hrtime.bigint();
  const response = await send();
  await response.arrayBuffer();
  return { status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

async function main() {
  const app = spawn(process.execPath, [path.join(__dirname, '..', 'dist-bench', 'apps', 'module-app.js')], {
    env: { ...process.env, ADAPTER: 'fastify', PORT: String(PORT), DATABASE_URL: 'sqlite::memory:', API_KEYS: KEY, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fetch(`${BASE}/nope`, { headers: HEADERS });
        break;
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const hostile = hostileBody();
    const post = (body) => () => fetch(BASE, { method: 'POST', headers: HEADERS, body });
    // A 404 the module answers without a query: the time of the request path alone.
    const get = () => fetch(`${BASE}/nope`, { headers: HEADERS });
    const rounds = { small: [], hostile: [], getAlone: [], getUnderHostile: [] };
    for (let i = 0; i < ROUNDS; i++) {
      rounds.small.push(await timed(post('{"lost_reason":1}')));
      rounds.hostile.push(await timed(post(hostile)));
      rounds.getAlone.push(await timed(get));
      const flood = Array.from({ length: 4 }, () => timed(post(hostile)));
      rounds.getUnderHostile.push(await timed(get));
      rounds.hostile.push(...(await Promise.all(flood)));
    }
    const statuses = new Set([...rounds.small, ...rounds.hostile].map((r) => r.status));
    console.log(`hostile body: ${(hostile.length / 1024).toFixed(0)} KiB; answers ${[...statuses].join(', ')}; ${ROUNDS} rounds, medians:`);
    for (const [name, results] of Object.entries(rounds))
      console.log(`  ${name.padEnd(16)} ${median(results.map((r) => r.ms)).toFixed(2)} ms`);
  } finally {
    app.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
