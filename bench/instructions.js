#!/usr/bin/env node
'use strict';
/**
 * `node bench/instructions.js`: CPU instructions per request of each server, counted by
 * `valgrind --tool=callgrind` (repeatable on a noisy machine, unlike req/s). Each server runs under
 * callgrind on one SQLite file (embedded: the database's work is counted too, in the same process),
 * is warmed up uninstrumented, then counts `--requests` sequential requests per workload
 * (`callgrind_control -i on/off`, a dump per workload). The warm-up is long on purpose: V8 goes on
 * compiling the hot path, on its own threads (which callgrind counts too), for thousands of
 * requests. After 500 the module on Fastify counted 1,256,000 per retrieve, after 10,000 about
 * 210,000, the same code: the short warm-up measured the compiler.
 *
 *   node bench/instructions.js [--requests=5000] [--warmup=10000] [--workloads=retrieve,list]
 *                              [--servers=module,module-fastify,baseline,baseline-fastify,floor,ceiling-express,ceiling-fastify,http]
 *                              [--no-build]
 *
 * Needs valgrind (Debian's package). Builds like `npm run bench` unless --no-build.
 */
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { randomBytes } = require('node:crypto');
const { connect, migrate } = require('./db');
const { SERVERS } = require('./servers');
const { build } = require('./build');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist-bench', 'instructions');
const API_PATH = '/api/crm/opportunity-lost-reason';
const KEY = 'sk_test_bench';
const argv = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const list = (value) => String(value).split(',').filter(Boolean);
const requests = Number(argv.requests ?? 5000);
const warmup = Number(argv.warmup ?? 10000);
const workloads = list(argv.workloads ?? 'retrieve,list');
const servers = list(argv.servers ?? 'module,module-fastify,baseline,baseline-fastify,floor,ceiling-express,ceiling-fastify,http');

const PORT = 3580;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
/** One request; resolves with its status once the body is read. */
const get = (urlPath) =>
  new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: PORT, path: urlPath, agent, headers: { authorization: `Bearer ${KEY}` } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      },
    );
    request.on('error', reject);
  });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  if (!('no-build' in argv)) build();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const url = `sqlite:${path.join(OUT, 'bench.sqlite')}`;
  await migrate(url);
  const store = await connect(url);
  const ids = Array.from({ length: 10000 }, () => 'opportunity-lost-reason_' + randomBytes(16).toString('hex'));
  await store.seed(ids);
  await store.close();
  const paths = {
    retrieve: (i) => `${API_PATH}/${ids[(i * 7919) % ids.length]}`,
    list: () => `${API_PATH}?limit=20&offset=0`,
  };

  const results = {};
  for (const name of servers) {
    const file = path.join(OUT, `${name}.callgrind`);
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--instr-atstart=no',
        '--smc-check=all-non-file',
        `--callgrind-out-file=${file}`,
        process.execPath,
        SERVERS[name].script,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, PORT: String(PORT), DATABASE_URL: url, API_KEYS: KEY, NODE_ENV: 'production', ...SERVERS[name].env },
        stdio: ['ignore', 'ignore', fs.openSync(path.join(OUT, `${name}.log`), 'w')],
      },
    );
    try {
      for (let started = Date.now(); ;) {
        if ((await get(paths.retrieve(0)).catch(() => 0)) === 200) break;
        if (Date.now() - started > 300_000) throw new Error(`${name} did not start under valgrind`);
        await sleep(1000);
      }
      for (const workload of workloads.filter((w) => SERVERS[name].only?.includes(w) ?? true)) {
        for (let i = 0; i < warmup; i++) await get(paths[workload](i));
        execFileSync('callgrind_control', ['-i', 'on', String(child.pid)]);
        for (let i = 0; i < requests; i++) {
          const status = await get(paths[workload](i + warmup));
          if (status !== 200) throw new Error(`${name} ${workload}: ${status}`);
        }
        execFileSync('callgrind_control', ['-i', 'off', String(child.pid)]);
        execFileSync('callgrind_control', ['-d', workload, String(child.pid)]);
        (results[name] ??= {})[workload] = await instructionsOfLastDump(file);
        console.log(
          `[instructions] ${name} ${workload}: ${Math.round(results[name][workload] / requests).toLocaleString('en')} per request`,
        );
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
    }
  }
  const header = `| server | ${workloads.join(' | ')} |`;
  const rows = servers.map(
    (name) =>
      `| ${SERVERS[name].label} | ${workloads.map((w) => (w in results[name] ? Math.round(results[name][w] / requests).toLocaleString('en') : '–')).join(' | ')} |`,
  );
  console.log(
    `\nInstructions per request (callgrind, ${requests} sequential requests after ${warmup} uninstrumented, SQLite file, 10,000 rows):\n`,
  );
  console.log([header, `|---|${workloads.map(() => '---:').join('|')}|`, ...rows].join('\n'));
}

/** The instructions (Ir) of the newest dump callgrind wrote for `file` (`file.1`, `file.2`, …). */
async function instructionsOfLastDump(file) {
  const dir = path.dirname(file);
  for (let attempt = 0; attempt < 100; attempt++) {
    const dumps = fs
      .readdirSync(dir)
      .filter((entry) => entry.startsWith(path.basename(file) + '.'))
      .map((entry) => path.join(dir, entry))
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    const text = dumps[0] && fs.readFileSync(dumps[0], 'utf8');
    const summary = text && /^totals: (\d+)/m.exec(text);
    if (summary) {
      fs.renameSync(dumps[0], `${dumps[0]}.read`);
      return Number(summary[1]);
    }
    await sleep(100);
  }
  throw new Error(`no callgrind dump for ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
