/**
 * Tries test/clusters/clusters.ts by hand: starts the Galera cluster and the PostgreSQL pair, replicates
 * a row through each, shows what clients get from an isolated Galera node, a stopped standby and a
 * restarting primary, stops everything and checks that no server process of ours is left.
 *
 *   bash test/clusters/try-clusters.sh                       # compiles with tsc to a temporary folder, runs
 *   TRY_CLUSTERS_CRASH=exit bash test/clusters/try-clusters.sh     # exits mid-run without stop(): the 'exit' handler cleans up
 *   TRY_CLUSTERS_CRASH=sigkill bash test/clusters/try-clusters.sh  # SIGKILLs itself mid-run: --pdeathsig cleans up
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'mysql2/promise';
import { connectPostgres, GaleraCluster, PostgresPair, startGalera, startPostgresPair } from './clusters';

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function timed<T>(label: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await action();
  console.log(`  ${label}: ${seconds(started)}`);
  return result;
}

interface DriverError {
  errno?: number;
  code?: string;
  sqlState?: string;
  severity?: string;
  message: string;
}

/** What a client sees of a driver's error: mysql2's errno, code and SQLSTATE, pg's SQLSTATE code and severity. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { errno, code, sqlState, severity } = error as Error & DriverError;
  const fields = Object.entries({ errno, code, sqlState, severity, message: JSON.stringify(error.message) });
  return fields
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

async function expectError(label: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
    console.log(`  ${label}: no error (unexpected)`);
  } catch (error) {
    console.log(`  ${label}: ${describeError(error)}`);
  }
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  args: string;
}

/** The processes on the machine, from `ps`. */
function processes(): ProcessInfo[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [, pid, ppid, args] = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line) ?? [];
      return { pid: Number(pid), ppid: Number(ppid), args };
    });
}

/**
 * The servers of ours and everything under them: descendants of this process, but not the `ps` itself.
 * (PostgreSQL's children leave the postmaster's session, so only the parent links tell them.)
 */
function ourServerProcesses(): ProcessInfo[] {
  const all = processes();
  const ours = new Set([process.pid]);
  for (let grown = true; grown;) {
    grown = false;
    for (const p of all)
      if (ours.has(p.ppid) && !ours.has(p.pid)) {
        ours.add(p.pid);
        grown = true;
      }
  }
  return all.filter((p) => p.pid !== process.pid && ours.has(p.pid) && !p.args.startsWith('ps '));
}

/** Which of `seen` still run (the same pid with the same command line), and any process naming one of our folders. */
function leftBehind(seen: Map<number, string>): ProcessInfo[] {
  return processes().filter((p) => seen.get(p.pid) === p.args || /lost-reason-(galera|pg)-/.test(p.args));
}

async function tryGalera(galera: GaleraCluster): Promise<void> {
  console.log(`Galera nodes: ${galera.nodes.map((node) => node.url).join(', ')}`);
  const [node1, node2, node3] = await Promise.all(galera.nodes.map((node) => createConnection(node.url)));
  try {
    await node1.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40))');
    await node1.query("INSERT INTO t VALUES (1, 'written through node1')");
    // Galera is "virtually synchronous": a commit is certified everywhere, but applied on the other nodes a
    // moment later. wsrep_sync_wait=1 makes this session's reads wait for what the cluster has committed.
    await node3.query('SET SESSION wsrep_sync_wait = 1');
    const [rows] = await node3.query('SELECT id, v FROM t');
    console.log(`  read through node3: ${JSON.stringify(rows)}`);

    await timed('isolate(1) (node2)', () => galera.isolate(1));
    await expectError('node2, its open connection, SELECT * FROM t', () => node2.query('SELECT * FROM t'));
    await expectError('node2, a new connection, SELECT * FROM t', async () => {
      const fresh = await createConnection(galera.nodes[1].url);
      try {
        await fresh.query('SELECT * FROM t');
      } finally {
        fresh.destroy();
      }
    });
    await expectError('node2, INSERT', () => node2.query("INSERT INTO t VALUES (9, 'never')"));
    const [select1] = await node2.query('SELECT 1 AS one');
    console.log(`  node2, SELECT 1 (no table): ${JSON.stringify(select1)}`);
    await node1.query("INSERT INTO t VALUES (2, 'written while node2 was isolated')");

    await timed('rejoin(1) (node2)', () => galera.rejoin(1));
    await node2.query('SET SESSION wsrep_sync_wait = 1');
    const [after] = await node2.query('SELECT id, v FROM t ORDER BY id');
    console.log(`  node2 after rejoin: ${JSON.stringify(after)}`);
  } finally {
    for (const connection of [node1, node2, node3]) connection.destroy();
  }
}

async function tryPostgres(pair: PostgresPair): Promise<void> {
  console.log(`PostgreSQL: primary ${pair.primary.url}, standby ${pair.standby.url}`);
  const primary = await connectPostgres(pair.primary.url, (error) =>
    console.log(`  primary client 'error' event: ${describeError(error)}`),
  );
  const standby = await connectPostgres(pair.standby.url, (error) =>
    console.log(`  standby client 'error' event: ${describeError(error)}`),
  );
  await primary.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
  await primary.query("INSERT INTO t VALUES (1, 'written on the primary')");
  await timed('waitForStandby()', () => pair.waitForStandby());
  console.log(`  read on the standby: ${JSON.stringify((await standby.query('SELECT id, v FROM t')).rows)}`);
  await expectError('standby, INSERT', () => standby.query("INSERT INTO t VALUES (9, 'never')"));

  await timed('stopStandby()', () => pair.stopStandby());
  await expectError('standby, its open connection, SELECT', () => standby.query('SELECT 1'));
  await expectError('standby, a new connection', () => connectPostgres(pair.standby.url));
  await primary.query("INSERT INTO t VALUES (2, 'written while the standby was stopped')");
  await timed('startStandby()', () => pair.startStandby());
  await pair.waitForStandby();
  const standbyAgain = await connectPostgres(pair.standby.url);
  console.log(`  standby after its restart: ${JSON.stringify((await standbyAgain.query('SELECT id, v FROM t ORDER BY id')).rows)}`);
  await standbyAgain.end();

  // What new connections to the primary get while it restarts: try one every 50 ms and keep each distinct error.
  const seen = new Map<string, number>();
  let restarting = true;
  const probing = (async () => {
    while (restarting) {
      try {
        const client = await connectPostgres(pair.primary.url);
        await client.query('SELECT 1');
        await client.end();
      } catch (error) {
        const text = describeError(error);
        seen.set(text, (seen.get(text) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await timed('restartPrimary()', () => pair.restartPrimary());
  restarting = false;
  await probing;
  for (const [text, count] of seen) console.log(`  primary, a new connection during the restart (${count}×): ${text}`);
  await expectError('primary, its open connection, SELECT', () => primary.query('SELECT 1'));
  const primaryAgain = await connectPostgres(pair.primary.url);
  await primaryAgain.query("INSERT INTO t VALUES (3, 'written after the primary restarted')");
  await primaryAgain.end();
  await pair.waitForStandby();
  const standbyLast = await connectPostgres(pair.standby.url);
  console.log(`  standby after the primary's restart: ${JSON.stringify((await standbyLast.query('SELECT id FROM t ORDER BY id')).rows)}`);
  await standbyLast.end();
}

async function main(): Promise<void> {
  const crash = process.env.TRY_CLUSTERS_CRASH;
  const started = Date.now();
  console.log('Starting:');
  const galera = await timed('startGalera()', () => startGalera());
  const pair = await timed('startPostgresPair()', () => startPostgresPair());
  const seen = new Map<number, string>();
  const record = () => {
    for (const p of ourServerProcesses()) seen.set(p.pid, p.args);
  };
  record();
  console.log(`  ${seen.size} server processes of ours: ${[...seen].map(([pid, args]) => `${pid} ${args.split(' ')[0]}`).join(', ')}`);

  if (crash === 'exit') {
    console.log('Exiting without stop() (TRY_CLUSTERS_CRASH=exit)');
    process.exit(3);
  }
  if (crash === 'sigkill') {
    console.log(`SIGKILLing myself (TRY_CLUSTERS_CRASH=sigkill); pids to check: ${[...seen.keys()].join(' ')}`);
    process.kill(process.pid, 'SIGKILL');
  }

  try {
    await tryGalera(galera);
    await tryPostgres(pair);
  } finally {
    record(); // The standby and the primary were restarted: new processes.
    console.log('Stopping:');
    await timed('galera.stop()', () => galera.stop());
    await timed('pair.stop()', () => pair.stop());
  }

  const left = leftBehind(seen);
  const folders = readdirSync(tmpdir()).filter((name) => /^lost-reason-(galera|pg)-/.test(name));
  console.log(
    `Left behind, of ${seen.size} server processes seen: ${left.length} processes${left.map((p) => `\n  ${p.pid} ${p.args}`).join('')}; folders: ${folders.join(', ') || 'none'}`,
  );
  console.log(`Total: ${seconds(started)}`);
  if (left.length > 0 || folders.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
