/**
 * Real database clusters for tests, started from the Debian packages installed on the machine:
 *
 * - `startGalera()`: a 3-node MariaDB 10.11 Galera cluster (galera-4 provider, rsync SST);
 * - `startPostgresPair()`: a PostgreSQL 15 primary and a hot standby streaming from it.
 *
 * Each cluster lives in a fresh temporary folder (data directories, option files, sockets, pid files,
 * the servers' output) and listens on 127.0.0.1 only, on ports checked to be free: the machine's own
 * servers (3306, 5432), their data and their configuration are never touched. MariaDB reads only the
 * option file written here (`--defaults-file`), never /etc/mysql; PostgreSQL is started with `postgres
 * -D <our folder>`, never through the Debian cluster wrappers that read /etc/postgresql.
 *
 * Accounts: run as root (as in CI), a server runs as its package's account, `mysql` or `postgres`:
 * PostgreSQL refuses to run as root, and Galera's rsync SST fails as root. Run by anyone else, it runs
 * as that user. The account is switched with `setpriv`, which then execs the server, so the process we
 * spawn is the server itself (its pid, its signals).
 *
 * Clean-up, in three layers:
 * 1. `stop()` ends the servers (a polite signal, then SIGKILL after a few seconds) and removes the folder;
 * 2. a process 'exit' handler SIGKILLs whatever is still running and removes the folders, so a test run
 *    that crashes or forgets `stop()` leaves nothing behind (the servers are unref'd: they do not keep
 *    Node alive by themselves);
 * 3. each server is started with `setpriv --pdeathsig=SIGKILL`: the kernel kills it when this Node
 *    process dies without running its handlers (SIGKILL, an OOM kill, a CI job cancelled).
 * Each server leads its own process group and is signalled as a group, so what it started goes with it
 * (an SST script and its rsync daemon). PostgreSQL's child processes leave the group (each calls setsid),
 * but end by themselves when they see the postmaster gone.
 *
 * Readiness is checked with the drivers the repository already has (`mysql2`, `pg`), nothing else.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createConnection, RowDataPacket } from 'mysql2/promise';

const SETPRIV = '/usr/bin/setpriv';
const MARIADBD = '/usr/sbin/mariadbd';
const MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db';
const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** How long a server gets to stop after the polite signal before SIGKILL. */
const STOP_GRACE_MS = 5000;
/** The same for a Galera node (see `stop()` in `startGalera()`). */
const GALERA_STOP_GRACE_MS = 3000;
/** How long a cluster gets to come up (measured on 2 busy CPUs: Galera 17 to 33 s, the PostgreSQL pair 2 to 11 s). */
const START_TIMEOUT_MS = 120_000;
/** How much of a server's output an error message carries (its end). */
const LOG_TAIL = 6000;

/** A node of a cluster, as a test connects to it. */
export interface ClusterNode {
  port: number;
  /** `mysql://root@127.0.0.1:<port>/test` or `postgres://postgres@127.0.0.1:<port>/test`. */
  url: string;
}

export interface GaleraCluster {
  /** The three nodes, in start order: `nodes[0]` bootstrapped the cluster. */
  nodes: ClusterNode[];
  /**
   * Cuts node `i` (an index into `nodes`) off the cluster with `gmcast.isolate=1`. Resolves when it is
   * non-Primary (its queries then fail with errno 1047) and the others form a Primary component without it.
   */
  isolate(i: number): Promise<void>;
  /** Undoes `isolate(i)` (`gmcast.isolate=0`); resolves when every node is Synced in the full cluster again. */
  rejoin(i: number): Promise<void>;
  /** Stops the three servers (SIGTERM, then SIGKILL) and removes their folder. Idempotent. */
  stop(): Promise<void>;
}

export interface PostgresPair {
  primary: ClusterNode;
  standby: ClusterNode;
  /** Stops the standby (fast shutdown, then SIGKILL); its data directory stays for `startStandby()`. */
  stopStandby(): Promise<void>;
  /** Starts the stopped standby again; resolves when it is in recovery and streaming from the primary. */
  startStandby(): Promise<void>;
  /** Stops the primary (fast shutdown) and starts it again; resolves when it accepts connections and a running standby streams again. */
  restartPrimary(): Promise<void>;
  /** Resolves when the standby has replayed everything the primary had written when called (its reads then see those writes). */
  waitForStandby(): Promise<void>;
  /** Stops both servers and removes their folder. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Accounts, folders, ports

interface Account {
  name: string;
  uid: number;
  gid: number;
}

const runningAsRoot = (): boolean => process.getuid?.() === 0;

/** Who runs a server: as root, the package's own account; otherwise whoever runs the tests. */
function serverAccount(packageAccount: 'mysql' | 'postgres'): Account {
  if (!runningAsRoot()) {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid };
  }
  const [name, , uid, gid] = execFileSync('getent', ['passwd', packageAccount], { encoding: 'utf8' }).trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** `command args` as `account`, killed by the kernel if this process dies (see the clean-up notes above). */
function asAccount(account: Account, command: string, args: string[]): [string, string[]] {
  const credentials = runningAsRoot() ? [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--init-groups'] : [];
  return [SETPRIV, [...credentials, '--pdeathsig=SIGKILL', '--', command, ...args]];
}

/** A server's environment: nothing of ours (no npm or Jest variables), messages in English, temporary files in `folder`. */
function serverEnv(folder: string): NodeJS.ProcessEnv {
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: folder, TMPDIR: folder };
}

/** Folders not yet removed, for the 'exit' handler. */
const liveFolders = new Set<string>();

/** The file naming the process that made a folder, for `sweepStaleFolders()`. */
const OWNER_FILE = 'owner.pid';

/**
 * A fresh folder under the system's temporary folder, owned by `account` (which must be able to reach it:
 * /tmp is; a TMPDIR under /root would not be).
 */
function makeFolder(prefix: string, account: Account): string {
  sweepStaleFolders(prefix);
  const folder = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(folder, OWNER_FILE), `${process.pid}\n`);
  chownSync(folder, account.uid, account.gid);
  liveFolders.add(folder);
  installExitHandler();
  return folder;
}

/**
 * Removes the folders of earlier runs that died without their 'exit' handler (SIGKILL): their servers died
 * with them (--pdeathsig), their data did not. A folder whose owner still runs (a run side by side) stays.
 */
function sweepStaleFolders(prefix: string): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const folder = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(folder, OWNER_FILE), 'utf8'));
    } catch {
      continue; // Not one of ours, or being made right now.
    }
    if (!Number.isInteger(owner) || owner <= 0 || ownerRuns(owner)) continue;
    rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
  }
}

function ownerRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // Runs, as someone else.
  }
}

function makeDir(path: string, account: Account): string {
  mkdirSync(path, { mode: 0o700 });
  chownSync(path, account.uid, account.gid);
  return path;
}

function removeFolder(folder: string): void {
  rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
  liveFolders.delete(folder);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * `wanted` if all its ports are free on 127.0.0.1, else the first of `wanted` shifted by 100, 200, …
 * that is (two runs side by side each get their own). A port taken between this check and the server's
 * bind makes the start fail with the server's "address in use".
 */
async function freePorts(wanted: number[]): Promise<number[]> {
  for (let shift = 0; shift < 2000; shift += 100) {
    const ports = wanted.map((port) => port + shift);
    const free = await Promise.all(ports.map(isFree));
    if (free.every(Boolean)) return ports;
  }
  throw new Error(`no free set of ports like ${wanted.join(', ')} (shifted by up to 1900) on 127.0.0.1`);
}

// ---------------------------------------------------------------------------------------------------
// Processes

/** Servers still running, for the 'exit' handler. */
const liveServers = new Set<Server>();
let exitHandlerInstalled = false;

/** Last resort: a test run that ends without `stop()` (a crash, a forgotten call) leaves no server and no folder. */
function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.once('exit', () => {
    for (const server of liveServers) server.kill('SIGKILL');
    for (const folder of liveFolders) {
      try {
        rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // Nothing more can be done while exiting.
      }
    }
  });
}

const tailOf = (file: string): string => {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > LOG_TAIL ? `[… ${text.length - LOG_TAIL} characters before]\n${text.slice(-LOG_TAIL)}` : text;
  } catch (error) {
    return `(no output: ${messageOf(error)})`;
  }
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a command as `account` to its end; rejects with its output if it fails. */
function runCommand(account: Account, command: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<string> {
  const [file, argv] = asAccount(account, command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd, env: serverEnv(cwd), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(output);
      reject(new Error(`\`${command} ${args.join(' ')}\` ended with ${signal ?? code}. Output:\n${output.slice(-LOG_TAIL)}`));
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** A long-running server process, its output (stdout and stderr) appended to `logFile`. */
class Server {
  private readonly child: ChildProcess;
  private status?: string;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly logFile: string,
    account: Account,
    command: string,
    args: string[],
    cwd: string,
  ) {
    const [file, argv] = asAccount(account, command, args);
    const log = openSync(logFile, 'a');
    // detached: its own process group (and session), which `stop()` signals as a whole.
    this.child = spawn(file, argv, { cwd, env: serverEnv(cwd), stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    this.child.unref();
    liveServers.add(this);
    installExitHandler();
    this.exited = new Promise((resolve) => {
      const ended = (status: string) => {
        this.status ??= status;
        liveServers.delete(this);
        resolve();
      };
      this.child.once('error', (error) => ended(`could not start: ${error.message}`));
      this.child.once('exit', (code, signal) => ended(`exited with ${signal ?? code}`));
    });
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** "<name> (<status>); the end of its output: …", for error messages. */
  describe(): string {
    return `${this.name} (${this.status ?? 'running'}); the end of ${this.logFile}:\n${tailOf(this.logFile)}`;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.pid !== undefined) signalGroup(this.child.pid, signal);
  }

  /** `signal` (SIGTERM for MariaDB, SIGINT, a fast shutdown, for PostgreSQL), SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals, graceMs = STOP_GRACE_MS): Promise<void> {
    if (this.running) {
      this.child.ref(); // Node stays up until the exit is seen.
      this.kill(signal);
      const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    // Whatever it started and left behind in its group (an SST's rsync daemon) goes too.
    this.kill('SIGKILL');
  }
}

/**
 * Polls `check` until it returns true. It returns (or throws) what it saw otherwise, quoted if the time
 * runs out. Fails at once, with its output, if one of `servers` exits.
 */
async function waitFor(what: string, servers: Server[], check: () => Promise<true | string>, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not checked';
  for (;;) {
    const dead = servers.find((server) => !server.running);
    if (dead) throw new Error(`${what}: ${dead.describe()}`);
    try {
      const seen = await check();
      if (seen === true) return;
      last = seen;
    } catch (error) {
      last = messageOf(error);
    }
    if (Date.now() > deadline) {
      const outputs = servers.map((server) => server.describe()).join('\n\n');
      throw new Error(`${what}: not within ${timeoutMs / 1000} s (last seen: ${last})\n\n${outputs}`);
    }
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------------
// MariaDB Galera

interface GaleraNode {
  name: string;
  folder: string;
  data: string;
  optionFile: string;
  logFile: string;
  port: number;
  galeraPort: number;
  istPort: number;
  sstPort: number;
  server?: Server;
}

/** A small InnoDB with relaxed durability: the nodes are thrown away. */
const INNODB_SETTINGS = [
  'innodb_buffer_pool_size=64M',
  'innodb_log_file_size=16M',
  'innodb_flush_log_at_trx_commit=2',
  'innodb_doublewrite=0',
];

/** The option file of a node: everything it reads (started with `--defaults-file`, so not /etc/mysql). */
function galeraOptions(node: GaleraNode, all: GaleraNode[]): string {
  const peers = all.map((peer) => `127.0.0.1:${peer.galeraPort}`).join(',');
  const provider = [
    `base_port=${node.galeraPort}`,
    `gmcast.listen_addr=tcp://127.0.0.1:${node.galeraPort}`,
    `ist.recv_addr=127.0.0.1:${node.istPort}`,
    'gcache.size=64M',
  ].join(';');
  return [
    `# ${node.name} of a throwaway Galera cluster started by test/clusters/clusters.ts.`,
    '[mysqld]',
    `datadir=${node.data}`,
    `socket=${join(node.folder, 'mariadbd.sock')}`,
    `pid-file=${join(node.folder, 'mariadbd.pid')}`,
    `port=${node.port}`,
    'bind-address=127.0.0.1',
    'skip-name-resolve',
    // As Debian's own server configuration (50-server.cnf) has it; the compiled-in default is latin1.
    'character-set-server=utf8mb4',
    'collation-server=utf8mb4_general_ci',
    ...INNODB_SETTINGS,
    // What Galera requires.
    'binlog_format=ROW',
    'default_storage_engine=InnoDB',
    'innodb_autoinc_lock_mode=2',
    'wsrep_on=ON',
    `wsrep_provider=${GALERA_PROVIDER}`,
    'wsrep_cluster_name=lost-reason-test',
    `wsrep_cluster_address=gcomm://${peers}`,
    `wsrep_node_name=${node.name}`,
    `wsrep_node_address=127.0.0.1:${node.galeraPort}`,
    `wsrep_node_incoming_address=127.0.0.1:${node.port}`,
    `wsrep_provider_options="${provider}"`,
    'wsrep_sst_method=rsync',
    `wsrep_sst_receive_address=127.0.0.1:${node.sstPort}`,
    '',
  ].join('\n');
}

interface StatusRow extends RowDataPacket {
  Variable_name: string;
  Value: string;
}

/** Runs one statement on a node as root, over TCP, on a connection of its own. */
async function mysqlQuery(port: number, sql: string): Promise<RowDataPacket[]> {
  const connection = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2000 });
  try {
    const [rows] = await connection.query<RowDataPacket[]>(sql);
    return rows;
  } finally {
    // A polite goodbye (COM_QUIT): a dropped socket costs an "Aborted connection" warning in the server's output.
    await connection.end().catch(() => connection.destroy());
  }
}

async function wsrepStatus(port: number): Promise<Map<string, string>> {
  const rows = (await mysqlQuery(port, "SHOW GLOBAL STATUS LIKE 'wsrep\\_%'")) as StatusRow[];
  return new Map(rows.map((row) => [row.Variable_name, row.Value]));
}

/** True if the node is Synced in a Primary component of `size` nodes, else what it is. */
async function galeraSynced(node: GaleraNode, size: number): Promise<true | string> {
  const status = await wsrepStatus(node.port);
  const state = status.get('wsrep_local_state_comment');
  const component = status.get('wsrep_cluster_status');
  const seen = status.get('wsrep_cluster_size');
  if (state === 'Synced' && component === 'Primary' && seen === String(size) && status.get('wsrep_ready') === 'ON') return true;
  return `${node.name}: ${state}, ${component}, cluster size ${seen}`;
}

export async function startGalera(): Promise<GaleraCluster> {
  const account = serverAccount('mysql');
  // Per node: client port, Galera (group communication) port, IST port, SST (rsync daemon) port.
  const ports = await freePorts([13306, 13307, 13308, 14567, 14577, 14587, 14568, 14578, 14588, 14444, 14454, 14464]);
  const folder = makeFolder('lost-reason-galera-', account);
  const nodes: GaleraNode[] = [0, 1, 2].map((i) => {
    const nodeFolder = makeDir(join(folder, `node${i + 1}`), account);
    return {
      name: `node${i + 1}`,
      folder: nodeFolder,
      data: join(nodeFolder, 'data'),
      optionFile: join(nodeFolder, 'my.cnf'),
      logFile: join(nodeFolder, 'mariadbd.log'),
      port: ports[i],
      galeraPort: ports[3 + i],
      istPort: ports[6 + i],
      sstPort: ports[9 + i],
    };
  });
  const servers = (): Server[] => nodes.flatMap((node) => (node.server ? [node.server] : []));
  const isolated = new Set<number>();
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // A node's shutdown takes about a second, but sometimes hangs in Galera's leave protocol until its 5 s
    // suspect timeout (whether the nodes leave together or one after the other): SIGKILL after 3 s instead. The
    // data is thrown away, so a kill during InnoDB's shutdown costs nothing.
    await Promise.all(servers().map((server) => server.stop('SIGTERM', GALERA_STOP_GRACE_MS)));
    removeFolder(folder);
  };

  const start = (node: GaleraNode, extra: string[] = []): void => {
    // --defaults-file has to come first.
    node.server = new Server(
      `mariadbd ${node.name} (port ${node.port})`,
      node.logFile,
      account,
      MARIADBD,
      [`--defaults-file=${node.optionFile}`, ...extra],
      node.folder,
    );
  };

  /** Every node not isolated Synced in a Primary component of all of them. */
  const allSynced = (): Promise<void> => {
    const members = nodes.filter((_, i) => !isolated.has(i));
    return waitFor(`Galera: every node Synced in a cluster of ${members.length}`, servers(), async () => {
      for (const node of members) {
        const seen = await galeraSynced(node, members.length);
        if (seen !== true) return seen;
      }
      return true;
    });
  };

  try {
    for (const node of nodes) writeFileSync(node.optionFile, galeraOptions(node, nodes), { mode: 0o644 });
    // Only node1 needs system tables: the others receive its whole data directory by rsync SST when they join.
    // `--auth-root-authentication-method=normal`: root@localhost, root@127.0.0.1 and root@::1 with no password.
    await runCommand(
      account,
      MARIADB_INSTALL_DB,
      [
        '--no-defaults',
        `--datadir=${nodes[0].data}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...INNODB_SETTINGS.map((setting) => `--${setting}`),
      ],
      folder,
    );
    start(nodes[0], ['--wsrep-new-cluster']);
    await waitFor('Galera: node1 bootstrapped', servers(), () => galeraSynced(nodes[0], 1));
    await mysqlQuery(nodes[0].port, 'CREATE DATABASE IF NOT EXISTS test');
    // Empty data directories: each joiner receives node1's whole data directory by rsync SST. node1 is the only
    // donor, so the two SSTs run one after the other; starting both joiners at once overlaps the second one's
    // preparation with the first one's transfer.
    for (const node of nodes.slice(1)) makeDir(node.data, account);
    start(nodes[1]);
    start(nodes[2]);
    await allSynced();
  } catch (error) {
    await stop();
    throw error;
  }

  const checkIndex = (i: number): GaleraNode => {
    const node = nodes[i];
    if (!node) throw new Error(`no Galera node ${i}: the nodes are 0, 1 and 2`);
    return node;
  };

  return {
    nodes: nodes.map((node) => ({ port: node.port, url: `mysql://root@127.0.0.1:${node.port}/test` })),

    async isolate(i: number): Promise<void> {
      const node = checkIndex(i);
      await mysqlQuery(node.port, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
      isolated.add(i);
      await waitFor(`Galera: ${node.name} non-Primary`, servers(), async () => {
        const component = (await wsrepStatus(node.port)).get('wsrep_cluster_status');
        return component === 'non-Primary' || `${node.name}: ${component}`;
      });
      await allSynced();
    },

    async rejoin(i: number): Promise<void> {
      const node = checkIndex(i);
      await mysqlQuery(node.port, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
      isolated.delete(i);
      await allSynced();
    },

    stop,
  };
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL primary and hot standby

/** What these helpers use of `pg`. The repository has `pg` but not `@types/pg`, hence this much typing of our own. */
export interface PgClient {
  connect(): Promise<void>;
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

interface PgModule {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;
}

const pg = createRequire(__filename)('pg') as PgModule;

/**
 * A connected `pg` client. An error on an idle client (its server stopping) is passed to `onError`
 * (by default ignored: the next query fails anyway), never thrown as an unhandled 'error' event.
 */
export async function connectPostgres(url: string, onError: (error: Error) => void = () => undefined): Promise<PgClient> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', onError);
  await client.connect();
  return client;
}

async function pgQuery<Row = Record<string, unknown>>(url: string, sql: string): Promise<Row[]> {
  const client = await connectPostgres(url);
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface PgServer {
  name: string;
  data: string;
  port: number;
  logFile: string;
  server?: Server;
}

export async function startPostgresPair(): Promise<PostgresPair> {
  const account = serverAccount('postgres');
  const [primaryPort, standbyPort] = await freePorts([15432, 15433]);
  const folder = makeFolder('lost-reason-pg-', account);
  const primary: PgServer = { name: 'primary', data: join(folder, 'primary'), port: primaryPort, logFile: join(folder, 'primary.log') };
  const standby: PgServer = { name: 'standby', data: join(folder, 'standby'), port: standbyPort, logFile: join(folder, 'standby.log') };
  const url = (node: PgServer, database = 'test') => `postgres://postgres@127.0.0.1:${node.port}/${database}`;
  const servers = (): Server[] => [primary, standby].flatMap((node) => (node.server?.running ? [node.server] : []));
  let stopped = false;

  const start = (node: PgServer): void => {
    // Settings on the command line win over postgresql.conf, which pg_basebackup copies from the primary to the standby.
    const settings = [
      'listen_addresses=127.0.0.1',
      `port=${node.port}`,
      `unix_socket_directories=${folder}`,
      'fsync=off', // Throwaway data.
      'wal_level=replica',
      'max_wal_senders=5',
      'wal_keep_size=256MB', // A stopped standby catches up from the primary's WAL (no slot to forget).
      'hot_standby=on',
      'wal_retrieve_retry_interval=1s', // The standby reconnects within a second of the primary's restart (5 s by default).
    ];
    node.server = new Server(
      `postgres ${node.name} (port ${node.port})`,
      node.logFile,
      account,
      join(PG_BIN, 'postgres'),
      ['-D', node.data, ...settings.flatMap((setting) => ['-c', setting])],
      folder,
    );
  };

  const stopServer = async (node: PgServer): Promise<void> => {
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM (smart) would wait for every client to disconnect.
    await node.server?.stop('SIGINT');
    node.server = undefined;
  };

  const primaryUp = (): Promise<void> =>
    waitFor('PostgreSQL: the primary accepting connections', servers(), async () => {
      await pgQuery(url(primary, 'postgres'), 'SELECT 1');
      return true;
    });

  const standbyStreaming = (): Promise<void> =>
    waitFor('PostgreSQL: the standby in recovery and streaming', servers(), async () => {
      const [row] = await pgQuery<{ recovery: boolean; status: string | null; replayed: string | null }>(
        url(standby),
        'SELECT pg_is_in_recovery() AS recovery, (SELECT status FROM pg_stat_wal_receiver) AS status, pg_last_wal_replay_lsn()::text AS replayed',
      );
      if (row.recovery && row.status === 'streaming' && row.replayed !== null) return true;
      return `standby: in recovery ${row.recovery}, WAL receiver ${row.status ?? 'not running'}, replayed up to ${row.replayed}`;
    });

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopServer(standby);
    await stopServer(primary);
    removeFolder(folder);
  };

  try {
    // Trust for every connection: pg_hba.conf is replaced below anyway. No locale (C), UTF-8; --no-sync: throwaway.
    await runCommand(
      account,
      join(PG_BIN, 'initdb'),
      ['-D', primary.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
      folder,
    );
    writeFileSync(
      join(primary.data, 'pg_hba.conf'),
      [
        '# Throwaway cluster of test/clusters/clusters.ts: postgres, without a password, from this machine only.',
        'local all all trust',
        'host all postgres 127.0.0.1/32 trust',
        'host replication postgres 127.0.0.1/32 trust',
        '',
      ].join('\n'),
    );
    start(primary);
    await primaryUp();
    // Before the base backup: the standby starts with it.
    await pgQuery(url(primary, 'postgres'), 'CREATE DATABASE test');
    // -R: standby.signal and primary_conninfo; -X stream: the WAL of the backup's own duration; -c fast: no spread checkpoint.
    const source = ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres'];
    const options = ['-R', '-X', 'stream', '-c', 'fast', '--no-sync'];
    await runCommand(account, join(PG_BIN, 'pg_basebackup'), [...source, '-D', standby.data, ...options], folder);
    start(standby);
    await standbyStreaming();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    primary: { port: primary.port, url: url(primary) },
    standby: { port: standby.port, url: url(standby) },

    stopStandby: () => stopServer(standby),

    async startStandby(): Promise<void> {
      if (standby.server?.running) return;
      start(standby);
      await standbyStreaming();
    },

    async restartPrimary(): Promise<void> {
      await stopServer(primary);
      start(primary);
      await primaryUp();
      if (standby.server?.running) await standbyStreaming();
    },

    async waitForStandby(): Promise<void> {
      const [{ lsn }] = await pgQuery<{ lsn: string }>(url(primary), 'SELECT pg_current_wal_lsn()::text AS lsn');
      await waitFor(`PostgreSQL: the standby replaying up to ${lsn}`, servers(), async () => {
        const [row] = await pgQuery<{ behind: string | null }>(
          url(standby),
          `SELECT pg_wal_lsn_diff('${lsn}', pg_last_wal_replay_lsn())::text AS behind`,
        );
        return (row.behind !== null && Number(row.behind) <= 0) || `standby ${row.behind} bytes behind`;
      });
    },

    stop,
  };
}
