import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { CommandResult, describeResult, run, Service, shellEnv, stopAll } from './processes';
import { ISO_UTC_MS, OBJECT_ID } from '../support/contract';
import { packWorkingTree } from '../support/pack';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * The packed package in REAL hosts, made the way users make them: `npx @nestjs/cli@<major> new`
 * (NestJS 12: an ES-module host on TypeScript 6 and `module: nodenext`, instrumented by
 * `@nestjs/observe`, whose proxies wrap every provider; NestJS 11 and 10: CommonJS hosts), a plain
 * `npm install` of the tarball with TypeORM, @nestjs/config and the drivers, the host's own code
 * as a developer would add it (test/hosts/host-src/*.tpl: database.ts, a data-source.ts for the
 * TypeORM CLI, an OpportunitiesModule injecting LostReasonService), the host's own `nest build`
 * (which type-checks our declarations under the host's TypeScript and settings), then
 * `node dist/main.js` served over HTTP on PostgreSQL and MariaDB, on Express and Fastify; the
 * NestJS 12 host with tenancy on (two keys, two tenants), the others without.
 *
 * The CLI's `src/main.ts` and `src/app.module.ts` are kept and only added to (imports, modules in
 * `imports: [...]`, the adapter, shutdown hooks and the printed URL), by edits anchored on the
 * generated text (HostKind.edits): when `nest new` generates something else, the run fails and
 * shows the file, rather than testing a host nobody generates any more. The NestJS 12 host keeps
 * ObserveModule and `instrument: ObserveInstrument` as generated; its agent sends to a collector
 * stub in this process (OBSERVE_ENDPOINT), not to observe-api.nestjs.com.
 *
 * Needs the network (npm registry), PostgreSQL and MariaDB (POSTGRES_URL / MARIADB_URL, as the
 * e2e suite), and creates and drops its own databases `lost_reason_host_<run>_…`.
 * LOST_REASON_KEEP_HOSTS=1 keeps the temporary folder (printed at the end) for a look.
 */

const ROOT = join(__dirname, '..', '..');
const MINUTE = 60_000;
const RESOURCE = '/api/crm/opportunity-lost-reason';
const API_KEYS = ['sk_test_host_4eC39HqLyjWDarjt', 'sk_test_host_second_key'];
/** With tenancy on, API_KEYS[i] answers for TENANTS[i]. */
const TENANTS = ['acme', 'globex'];
const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
/** What every host installs next to the tarball (a plain install: no --force, no --legacy-peer-deps). */
const PLAIN_PACKAGES = ['@nestjs/typeorm', 'typeorm', '@nestjs/config', 'class-validator', 'class-transformer', 'pg', 'mysql2'];

type DatabaseKind = 'postgres' | 'mariadb';
type Adapter = 'express' | 'fastify';
/** How the schema is built: the TypeORM CLI from dist/data-source.js, or the app's `migrationsRun: true`. */
type SchemaBy = 'typeorm migration:run' | 'migrationsRun: true';

interface HostKind {
  name: string;
  cli: string;
  module: 'esm' | 'cjs';
  /** Passed to `npm install <tarball> …`. */
  packages: string[];
  /** Installed afterwards, one `npm install` per entry (space-separated names). */
  extraPackages: string[];
  /** The major (or exact) version of each package this host stands for, as docs/installation.md's table says. */
  versions: Record<string, string>;
  /** What the host adds to the generated src/main.ts and src/app.module.ts. */
  edits: Edit[];
}

/**
 * An addition to a file `nest new` generated (under src/): the one match of `anchor` becomes
 * `replace(match, ...groups)`. `__EXT__` in the result is the host's relative-import extension.
 */
interface Edit {
  file: 'main.ts' | 'app.module.ts';
  anchor: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

const template = (name: string) => readFileSync(join(__dirname, 'host-src', name), 'utf8');

/** app.module.ts (every major): our imports after Nest's, our modules after the generated ones. */
const APP_MODULE_EDITS: Edit[] = [
  {
    file: 'app.module.ts',
    anchor: /^import \{ Module \} from '@nestjs\/common';\n/m,
    replace: (line) => line + template('app.module.imports.ts.tpl'),
  },
  {
    file: 'app.module.ts',
    anchor: /^ {2}imports: \[([\s\S]*?)\],$/m,
    replace: (_, generated) => {
      const kept = generated.trimEnd();
      return `  imports: [${kept}${kept && !kept.endsWith(',') ? ',' : ''}\n${template('app.module.modules.ts.tpl').trimEnd()}\n  ],`;
    },
  },
];

/** main.ts: shutdown hooks (and `before`) ahead of the generated `listen`, the URL it serves after it (startApp waits for it). */
const listenEdit = (before: string[] = []): Edit => ({
  file: 'main.ts',
  anchor: /^ {2}await app\.listen\(process\.env\.PORT \?\? 3000\);\n/m,
  replace: (listen) =>
    [
      '  app.enableShutdownHooks();',
      ...before,
      listen.trimEnd(),
      '  console.log(`Application is running on: ${await app.getUrl()}`);',
      '',
    ].join('\n'),
});

interface Variant {
  host: HostKind;
  adapter: Adapter;
  database: DatabaseKind;
  schema: SchemaBy;
  /** Keys as `tenant:key` entries (API_KEYS[i] for TENANTS[i]), or bare keys. */
  tenancy: boolean;
}

const HOSTS: HostKind[] = [
  {
    name: 'nest12-host',
    cli: '@nestjs/cli@12',
    module: 'esm',
    packages: PLAIN_PACKAGES,
    // The OpenAPI document, with the UI on Fastify too (docs/openapi-and-hooks.md: it needs @fastify/static).
    extraPackages: ['@nestjs/platform-fastify', '@nestjs/swagger @fastify/static'],
    versions: { '@nestjs/core': '12', '@nestjs/typeorm': '12', typeorm: '1', '@nestjs/swagger': '12', typescript: '6' },
    edits: [
      ...APP_MODULE_EDITS,
      {
        file: 'main.ts',
        anchor: /^import \{ NestFactory \} from '@nestjs\/core';\n/m,
        replace: (line) =>
          line +
          [
            "import { ExpressAdapter } from '@nestjs/platform-express';",
            "import { FastifyAdapter } from '@nestjs/platform-fastify';",
            "import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';",
            '',
          ].join('\n'),
      },
      // The adapter goes in front of the generated options, which stay as they are: the
      // instrumentation is the point of this host (its proxies around our providers).
      {
        file: 'main.ts',
        anchor: /^( {2}const app = await NestFactory\.create\(AppModule), (\{\n {4}instrument: ObserveInstrument,\n {2}\}\);\n)/m,
        replace: (_, create, options) =>
          [
            "  // HTTP_ADAPTER=fastify serves on Fastify, otherwise Express (the CLI's default).",
            "  const adapter = process.env.HTTP_ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();",
            `${create}, adapter, ${options}`,
          ].join('\n'),
      },
      listenEdit([
        "  const config = new DocumentBuilder().setTitle('Host').addBearerAuth().build();",
        "  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));",
      ]),
    ],
  },
  {
    name: 'nest11-host',
    cli: '@nestjs/cli@11',
    module: 'cjs',
    packages: PLAIN_PACKAGES,
    extraPackages: [],
    versions: { '@nestjs/core': '11', '@nestjs/typeorm': '12', typeorm: '1' },
    edits: [...APP_MODULE_EDITS, listenEdit()],
  },
  {
    name: 'nest10-host',
    cli: '@nestjs/cli@10',
    module: 'cjs',
    // The TypeORM 0.3 line in a real host. @nestjs/config 12 requires NestJS 11+: a NestJS 10 app
    // has @nestjs/config 3 (a plain `npm install @nestjs/config` there is an ERESOLVE of theirs).
    packages: ['@nestjs/typeorm@^10', 'typeorm@0.3.26', '@nestjs/config@^3', 'class-validator', 'class-transformer', 'pg', 'mysql2'],
    extraPackages: [],
    versions: { '@nestjs/core': '10', '@nestjs/typeorm': '10', typeorm: '0.3.26' },
    edits: [...APP_MODULE_EDITS, listenEdit()],
  },
];

const VARIANTS: Variant[] = [
  { host: HOSTS[0], adapter: 'express', database: 'postgres', schema: 'typeorm migration:run', tenancy: true },
  { host: HOSTS[0], adapter: 'fastify', database: 'mariadb', schema: 'migrationsRun: true', tenancy: true },
  { host: HOSTS[1], adapter: 'express', database: 'mariadb', schema: 'typeorm migration:run', tenancy: false },
  { host: HOSTS[2], adapter: 'express', database: 'postgres', schema: 'migrationsRun: true', tenancy: false },
];

/** What the spec learnt along the way, printed at the end (versions, timings, other packages' type errors). */
const report: string[] = [];
const note = (line: string) => report.push(line);

// ---------------------------------------------------------------------------------------------
// The package

// ---------------------------------------------------------------------------------------------
// The hosts

interface Host {
  kind: HostKind;
  dir: string;
  generated: CommandResult;
  installs: CommandResult[];
  build: CommandResult;
  main: string;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const installedVersion = (host: string, name: string): string => {
  const path = join(host, 'node_modules', name, 'package.json');
  return existsSync(path) ? readJson(path).version : '(none)';
};

/**
 * The host's code: its own files from test/hosts/host-src/*.tpl, and its additions to the
 * generated main.ts and app.module.ts (relative imports end in .js in the ES-module host).
 */
function writeHostSource(kind: HostKind, dir: string): void {
  const ext = kind.module === 'esm' ? '.js' : '';
  const files = [
    'database.ts',
    'data-source.ts',
    'api-keys.ts',
    'opportunities/opportunities.module.ts',
    'opportunities/opportunities.service.ts',
    'opportunities/opportunities.controller.ts',
  ];
  for (const file of files) {
    const target = join(dir, 'src', file);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, template(`${file}.tpl`).replace(/__EXT__/g, ext));
  }
  for (const { file, anchor, replace } of kind.edits) {
    const path = join(dir, 'src', file);
    const source = readFileSync(path, 'utf8');
    const matches = source.match(new RegExp(anchor.source, `${anchor.flags}g`))?.length ?? 0;
    if (matches !== 1)
      throw new Error(
        `\`${kind.cli} new\` generated a src/${file} this spec does not know: ${anchor} matches it ${matches} times, not once. ` +
          `Read what the CLI generates now and update ${kind.name}'s edits.\n--- src/${file}\n${source}`,
      );
    writeFileSync(path, source.replace(anchor, (match, ...groups) => replace(match, ...groups)).replace(/__EXT__/g, ext));
  }
}

/** Generates, installs and builds one host. */
async function prepareHost(kind: HostKind, tarball: string, parent: string): Promise<Host> {
  const dir = join(parent, kind.name);
  // stdin closed and CI=true: a CLI that prompts fails or times out instead of hanging.
  const generated = await run('npx', ['-y', kind.cli, 'new', kind.name, '--package-manager', 'npm', '--skip-git', '--strict'], {
    cwd: parent,
    timeoutMs: 10 * MINUTE,
  });
  const installs = [await run('npm', ['install', tarball, ...kind.packages], { cwd: dir, timeoutMs: 10 * MINUTE })];
  for (const names of kind.extraPackages)
    installs.push(await run('npm', ['install', ...names.split(' ')], { cwd: dir, timeoutMs: 10 * MINUTE }));
  writeHostSource(kind, dir);
  const build = await run('npm', ['run', 'build'], { cwd: dir, timeoutMs: 5 * MINUTE });
  // Where `nest build` puts the entry point depends on the generated tsconfig's rootDir.
  const main = ['dist/main.js', 'dist/src/main.js'].find((path) => existsSync(join(dir, path)));
  if (!main) throw new Error(`nest build in ${dir} wrote no dist/main.js. ${describeResult(build)}`);
  const versions = [
    '@nestjs/cli',
    '@nestjs/core',
    '@nestjs/platform-fastify',
    '@nestjs/typeorm',
    'typeorm',
    '@nestjs/config',
    'class-validator',
    'typescript',
    'pg',
    'mysql2',
  ]
    .map((name) => `${name}@${installedVersion(dir, name)}`)
    .join(' ');
  const engines = new Set(
    [generated, ...installs].flatMap((step) => [...step.output.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((match) => match[1])),
  );
  if (engines.size) note(`${kind.name}: npm EBADENGINE (on Node.js ${process.versions.node}) for ${[...engines].join(', ')}`);
  note(
    `${kind.name}: ${versions}; generated in ${generated.seconds.toFixed(0)} s, installed in ${installs.reduce((sum, step) => sum + step.seconds, 0).toFixed(0)} s, built in ${build.seconds.toFixed(0)} s (${main})`,
  );
  return { kind, dir, generated, installs, build, main };
}

// ---------------------------------------------------------------------------------------------
// Databases

interface Database {
  kind: DatabaseKind;
  name: string;
  /** Straight to the server. */
  url: string;
}

const databases: Database[] = [];

async function admin(kind: DatabaseKind, sql: string): Promise<void> {
  const url = kind === 'postgres' ? POSTGRES_URL : MARIADB_URL;
  const dataSource = new DataSource(kind === 'postgres' ? { type: 'postgres', url } : { type: 'mariadb', url });
  try {
    await dataSource.initialize();
    await dataSource.query(sql);
  } catch (error) {
    const server = new URL(url);
    throw new Error(
      `${kind} at ${server.host} (${kind === 'postgres' ? 'POSTGRES_URL' : 'MARIADB_URL'}): \`${sql}\` failed: ${(error as Error).message}`,
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

async function createDatabase(kind: DatabaseKind, suffix: string, charset: 'utf8mb4' | 'latin1' = 'utf8mb4'): Promise<Database> {
  const name = `lost_reason_host_${RUN_ID}_${suffix}`;
  if (kind === 'postgres') await admin(kind, `CREATE DATABASE "${name}"`);
  else
    await admin(
      kind,
      `CREATE DATABASE \`${name}\` CHARACTER SET ${charset} COLLATE ${charset === 'latin1' ? 'latin1_swedish_ci' : 'utf8mb4_unicode_ci'}`,
    );
  const url = new URL(kind === 'postgres' ? POSTGRES_URL : MARIADB_URL);
  url.pathname = `/${name}`;
  const database = { kind, name, url: url.toString() };
  databases.push(database);
  return database;
}

async function dropDatabases(): Promise<void> {
  const failures: string[] = [];
  for (const { kind, name } of databases.splice(0)) {
    try {
      await admin(kind, kind === 'postgres' ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${name}\``);
    } catch (error) {
      failures.push(`${kind} ${name}: ${(error as Error).message}`);
    }
  }
  if (failures.length) throw new Error(`could not drop databases:\n${failures.join('\n')}`);
}

/** The same database, through a proxy on this machine. */
function via(proxy: TcpProxy, database: Database): string {
  const url = new URL(database.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

const serverOf = (database: Database) => {
  const url = new URL(database.url);
  return { host: url.hostname, port: Number(url.port || (database.kind === 'postgres' ? 5432 : 3306)) };
};

// ---------------------------------------------------------------------------------------------
// The TypeORM CLI and the running host app

/** `npx typeorm <command> -d dist/data-source.js` in the host, on `url`. */
function typeormCli(host: Host, args: string[], url: string): Promise<CommandResult> {
  const dataSource = host.main.replace(/main\.js$/, 'data-source.js');
  return run('npx', ['typeorm', ...args, '-d', dataSource], { cwd: host.dir, env: shellEnv({ DATABASE_URL: url }), timeoutMs: 3 * MINUTE });
}

interface App {
  service: Service;
  base: string;
}

/**
 * Where the NestJS 12 host's @nestjs/observe agent sends its telemetry (OBSERVE_ENDPOINT): a stub
 * that accepts every batch as the collector does, so no run sends anything to observe-api.nestjs.com.
 */
const collector = {
  server: createServer((request, response) => {
    collector.batches++;
    request.resume().on('end', () => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
  }),
  batches: 0,
  url: '',
};

/** CRM_API_KEYS: `tenant:key` entries turn tenancy on (host-src/api-keys.ts.tpl). */
const apiKeysOf = (variant: Variant) => (variant.tenancy ? API_KEYS.map((key, i) => `${TENANTS[i]}:${key}`) : API_KEYS).join(',');

async function startApp(host: Host, label: string, variant: Variant, env: Record<string, string>): Promise<App> {
  const service = new Service(
    `${host.kind.name} (${label})`,
    process.execPath,
    [host.main],
    host.dir,
    shellEnv({ PORT: '0', CRM_API_KEYS: apiKeysOf(variant), OBSERVE_ENDPOINT: collector.url, HTTP_ADAPTER: variant.adapter, ...env }),
  );
  // main.ts prints `Application is running on: <app.getUrl()>` once it listens.
  const [, url] = await service.waitFor(/Application is running on: (\S+)/, 2 * MINUTE);
  return { service, base: `http://127.0.0.1:${new URL(url).port}` };
}

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** One request to the host app; a failure to connect carries the app's output. */
async function call(
  app: App,
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? API_KEYS[0] : options.key;
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${app.base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new Error(
      `${method} ${path} failed: ${(error as Error).message} (${String((error as Error).cause ?? '')})\n${app.service.describe()}`,
    );
  }
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** `expect(answer.status).toBe(status)`, with the answer and the app's output when it is not. */
function expectStatus(answer: Answer, status: number, app: App): void {
  if (answer.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${answer.status}: ${answer.text}\n${app.service.describe()}`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('the packed package in real hosts generated by @nestjs/cli', () => {
  let tmp: string | undefined;
  let tarball: string | undefined;
  const preparations = new Map<HostKind, Promise<Host>>();
  const started = Date.now();

  beforeAll(async () => {
    tmp = realpathSync(mkdtempSync(join(tmpdir(), 'lost-reason-real-hosts-')));
    await new Promise<void>((resolve) => collector.server.listen(0, '127.0.0.1', resolve));
    collector.url = `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}`;
    tarball = packWorkingTree(tmp).tarball;
    // All hosts are generated, installed and built in parallel; each host's tests await their own.
    for (const kind of HOSTS) {
      const preparation = prepareHost(kind, tarball, tmp);
      preparation.catch(() => undefined); // awaited (and reported) by the host's own beforeAll
      preparations.set(kind, preparation);
    }
  }, 6 * MINUTE);

  afterAll(async () => {
    // Also after failures: no process, database or folder left behind. Commands still running
    // (a host whose tests never ran, a hung CLI) are ended first and nothing starts after, so
    // every preparation settles at once.
    await stopAll();
    await Promise.allSettled([...preparations.values()]);
    const failures: unknown[] = [];
    await dropDatabases().catch((error) => failures.push(error));
    collector.server.closeAllConnections();
    await new Promise((resolve) => collector.server.close(resolve));
    note(`@nestjs/observe sent ${collector.batches} request(s) to the collector stub`);
    if (tmp && process.env.LOST_REASON_KEEP_HOSTS !== '1') rmSync(tmp, { recursive: true, force: true });
    else if (tmp) note(`kept ${tmp} (LOST_REASON_KEEP_HOSTS=1)`);
    note(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(`real hosts:\n  ${report.join('\n  ')}`);
    if (failures.length) throw failures[0];
  }, 5 * MINUTE);

  describe.each(
    HOSTS.map((kind) => [`${kind.name} (${kind.cli} new, ${kind.module === 'esm' ? 'ES module' : 'CommonJS'})`, kind] as const),
  )('%s', (_title, kind) => {
    let host: Host;

    beforeAll(async () => {
      const preparation = preparations.get(kind);
      if (!preparation) throw new Error('the package was not packed: see the first failure');
      host = await preparation;
    }, 20 * MINUTE);

    it('is what the CLI generates for this major', () => {
      const pkg = readJson(join(host.dir, 'package.json'));
      const major = kind.cli.split('@').pop();
      expect(pkg.dependencies['@nestjs/core']).toMatch(new RegExp(`^\\^${major}\\.`));
      if (kind.module === 'esm') {
        expect(pkg.type).toBe('module');
        // Instrumented as generated: @nestjs/observe's proxies wrap every provider, ours included.
        expect(readFileSync(join(host.dir, 'src', 'app.module.ts'), 'utf8')).toMatch(/ObserveModule\.forRoot\(/);
        expect(readFileSync(join(host.dir, 'src', 'main.ts'), 'utf8')).toMatch(/instrument: ObserveInstrument/);
        const tsconfig = readFileSync(join(host.dir, 'tsconfig.json'), 'utf8');
        expect(tsconfig).toMatch(/"module":\s*"nodenext"/i);
        expect(readFileSync(join(host.dir, host.main), 'utf8')).toMatch(/^import /m);
      } else {
        expect(pkg.type).toBeUndefined();
        expect(readFileSync(join(host.dir, host.main), 'utf8')).toMatch(/require\(/);
      }
    });

    it(`has the versions its line stands for (${Object.entries(kind.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')})`, () => {
      for (const [name, version] of Object.entries(kind.versions)) {
        const installed = installedVersion(host.dir, name);
        expect({ name, installed: installed === version || installed.startsWith(`${version}.`) }).toEqual({ name, installed: true });
      }
    });

    it(
      'installs the tarball with a plain npm install: no ERESOLVE, no peer warning about nestjs-lost-reason',
      async () => {
        for (const install of host.installs) {
          expect(install.code).toBe(0);
          const output = install.output;
          const suspicious = output
            .split('\n')
            .filter((line) => /ERESOLVE/.test(line) || (/nestjs-lost-reason/.test(line) && /peer|warn|err/i.test(line)));
          if (suspicious.length) throw new Error(`npm reported:\n${suspicious.join('\n')}\n\n${describeResult(install)}`);
        }
        // npm's own view of the tree: our peers resolved, valid, deduped to the host's copies.
        const ls = await run('npm', ['ls', '--all', '--json'], { cwd: host.dir, timeoutMs: 2 * MINUTE, allowFailure: true });
        const tree = JSON.parse(ls.stdout);
        // (Problems of the generated host itself, e.g. a dev tool's peer on TypeScript 5 next to the
        // CLI's TypeScript 6, are not ours.)
        expect((tree.problems ?? []).filter((problem: string) => /nestjs-lost-reason[@/ ]|nestjs-lost-reason$/.test(problem))).toEqual([]);
        const ours = tree.dependencies['nestjs-lost-reason'];
        expect(ours).toMatchObject({ version: readJson(join(ROOT, 'package.json')).version });
        const shipped = readJson(join(host.dir, 'node_modules', 'nestjs-lost-reason', 'package.json'));
        for (const peer of Object.keys(shipped.peerDependencies)) {
          const entry = ours.dependencies?.[peer] ?? {};
          expect({ peer, invalid: entry.invalid, missing: entry.missing }).toEqual({ peer, invalid: undefined, missing: undefined });
          if (!shipped.peerDependenciesMeta?.[peer]?.optional)
            expect({ peer, version: entry.version }).toEqual({ peer, version: installedVersion(host.dir, peer) });
        }
      },
      3 * MINUTE,
    );

    it("builds with the host's own `nest build` (our declarations under its TypeScript and tsconfig)", () => {
      expect(host.build.code).toBe(0);
      expect(existsSync(join(host.dir, host.main))).toBe(true);
      expect(existsSync(join(host.dir, host.main.replace(/main\.js$/, 'data-source.js')))).toBe(true);
    });

    it(
      "type-checks our declaration files with skipLibCheck: false under the host's tsconfig",
      async () => {
        mkdirSync(join(host.dir, 'libcheck'), { recursive: true });
        writeFileSync(
          join(host.dir, 'libcheck', 'uses-package.ts'),
          "import * as lostReason from 'nestjs-lost-reason';\nimport type { LostReasonModuleOptions, LostReasonObject } from 'nestjs-lost-reason';\n" +
            'export const api = Object.keys(lostReason);\nexport type Used = [LostReasonModuleOptions, LostReasonObject];\n',
        );
        writeFileSync(
          join(host.dir, 'tsconfig.libcheck.json'),
          JSON.stringify(
            {
              extends: './tsconfig.json',
              compilerOptions: { skipLibCheck: false, noEmit: true, incremental: false },
              include: ['libcheck/uses-package.ts'],
            },
            null,
            2,
          ),
        );
        const tsc = await run('npx', ['tsc', '-p', 'tsconfig.libcheck.json', '--pretty', 'false', '--listFiles'], {
          cwd: host.dir,
          timeoutMs: 3 * MINUTE,
          allowFailure: true,
        });
        const lines = tsc.output.split('\n');
        expect(lines.some((line) => line.endsWith('/node_modules/nestjs-lost-reason/dist/index.d.ts'))).toBe(true);
        const errors = lines.filter((line) => /error TS\d+:/.test(line));
        const ours = errors.filter((line) => line.includes('node_modules/nestjs-lost-reason/'));
        const others = errors.filter((line) => !line.includes('node_modules/nestjs-lost-reason/'));
        note(
          `${kind.name} skipLibCheck:false: ${ours.length} error(s) in our .d.ts, ${others.length} elsewhere${others.length ? `:\n    ${others.join('\n    ')}` : ''}`,
        );
        if (ours.length)
          throw new Error(`our declaration files do not compile with skipLibCheck: false in ${kind.name}:\n${ours.join('\n')}`);
      },
      3 * MINUTE,
    );

    describe.each(
      VARIANTS.filter((variant) => variant.host === kind).map(
        (variant) =>
          [
            `${variant.adapter}, ${variant.database}, schema by ${variant.schema}, ${variant.tenancy ? 'tenancy on' : 'no tenancy'}`,
            variant,
          ] as const,
      ),
    )('served on %s', (label, variant) => {
      let database: Database;
      let proxy: TcpProxy;
      let app: App;
      const slug = `${kind.name.split('-')[0]}_${variant.adapter}`;
      const schemaEnv = { DATABASE_MIGRATIONS_RUN: String(variant.schema === 'migrationsRun: true') };

      beforeAll(async () => {
        if (!host) throw new Error(`${kind.name} was not prepared: see the host's first failure`);
        database = await createDatabase(variant.database, slug);
        if (variant.schema === 'typeorm migration:run') await typeormCli(host, ['migration:run'], database.url);
        proxy = new TcpProxy(serverOf(database));
        await proxy.start();
        app = await startApp(host, label, variant, { ...schemaEnv, DATABASE_URL: via(proxy, database) });
      }, 5 * MINUTE);

      afterAll(async () => {
        await app?.service.stop();
        await proxy?.stop();
      });

      it('starts without a Node.js warning about the package (ESM host: import of our CommonJS, our require() of ES modules)', () => {
        const warnings = app.service.output.split('\n').filter((line) => /Warning|warn/i.test(line));
        if (warnings.length) note(`${kind.name} (${label}) start-up warnings:\n    ${warnings.join('\n    ')}`);
        expect(warnings.filter((line) => /nestjs-lost-reason|ExperimentalWarning/.test(line))).toEqual([]);
      });

      it(
        'has every shipped migration applied and a schema matching the entities (typeorm migration:show, schema:log)',
        async () => {
          const show = await typeormCli(host, ['migration:show'], database.url);
          const applied = show.output.split('\n').filter((line) => /^\s*\[X\]/.test(line));
          const pending = show.output.split('\n').filter((line) => /^\s*\[ \]/.test(line));
          if (pending.length || applied.length < 4) throw new Error(`migrations not all applied:\n${describeResult(show)}`);
          const log = await typeormCli(host, ['schema:log'], database.url);
          if (!/Your schema is up to date/.test(log.output))
            throw new Error(`the schema differs from the entities:\n${describeResult(log)}`);
        },
        3 * MINUTE,
      );

      it('creates, retrieves, lists, updates and deletes over HTTP', async () => {
        const before = await call(app, 'GET', `${RESOURCE}?limit=1`);
        expectStatus(before, 200, app);

        const text = 'Zu teuer 💸 价格太高, déjà vu';
        const created = await call(app, 'POST', RESOURCE, { body: { lost_reason: text } });
        expectStatus(created, 201, app);
        expect(created.body).toMatchObject({
          id: expect.stringMatching(OBJECT_ID),
          created_at: expect.stringMatching(ISO_UTC_MS),
          lost_reason: text,
        });
        expect(created.body.updated_at).toBe(created.body.created_at);
        const second = await call(app, 'POST', RESOURCE, { body: { lost_reason: 'Price too high' } });
        expectStatus(second, 201, app);

        const retrieved = await call(app, 'GET', `${RESOURCE}/${created.body.id}`);
        expectStatus(retrieved, 200, app);
        expect(retrieved.body).toEqual(created.body);

        const list = await call(app, 'GET', `${RESOURCE}?limit=2&offset=0`);
        expectStatus(list, 200, app);
        expect(list.body).toEqual({ data: [second.body, created.body], has_more: before.body.total > 0, total: before.body.total + 2 });
        const page = await call(app, 'GET', `${RESOURCE}?limit=1&offset=1`);
        expect(page.body).toMatchObject({ data: [created.body], total: before.body.total + 2 });

        const updated = await call(app, 'PATCH', `${RESOURCE}/${created.body.id}`, { body: { lost_reason: 'Went with a competitor' } });
        expectStatus(updated, 200, app);
        expect(updated.body).toMatchObject({
          id: created.body.id,
          created_at: created.body.created_at,
          lost_reason: 'Went with a competitor',
        });
        expect(updated.body.updated_at > created.body.updated_at).toBe(true);
        expect((await call(app, 'GET', `${RESOURCE}/${created.body.id}`)).body).toEqual(updated.body);

        const invalid = await call(app, 'GET', `${RESOURCE}?limit=500`);
        expectStatus(invalid, 400, app);
        expect(invalid.body.error).toMatchObject({ type: 'invalid_request_error', param: 'limit' });

        const deleted = await call(app, 'DELETE', `${RESOURCE}/${created.body.id}`);
        expectStatus(deleted, 200, app);
        expect(deleted.body).toEqual({ id: created.body.id, deleted: true });
        const gone = await call(app, 'GET', `${RESOURCE}/${created.body.id}`);
        expectStatus(gone, 404, app);
        expect(gone.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
        expect((await call(app, 'GET', `${RESOURCE}?limit=1`)).body.total).toBe(before.body.total + 1);
      });

      it('replays a POST retried with the same Idempotency-Key and body', async () => {
        const headers = { 'Idempotency-Key': `host-${slug}-${RUN_ID}` };
        const before = (await call(app, 'GET', `${RESOURCE}?limit=1`)).body.total;
        const first = await call(app, 'POST', RESOURCE, { body: { lost_reason: 'Budget cut' }, headers });
        expectStatus(first, 201, app);
        expect(first.headers.get('idempotent-replayed')).toBeNull();
        const retry = await call(app, 'POST', RESOURCE, { body: { lost_reason: 'Budget cut' }, headers });
        expectStatus(retry, 201, app);
        expect(retry.body).toEqual(first.body);
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
        expect((await call(app, 'GET', `${RESOURCE}?limit=1`)).body.total).toBe(before + 1);
        const other = await call(app, 'POST', RESOURCE, { body: { lost_reason: 'Other' }, headers });
        expectStatus(other, 400, app);
        expect(other.body.error.type).toBe('idempotency_error');
      });

      it('answers 401 without credentials and with a wrong key, and accepts every key the factory returned', async () => {
        for (const key of [null, 'sk_test_wrong']) {
          for (const [method, path] of [
            ['GET', RESOURCE],
            ['POST', RESOURCE],
          ]) {
            const answer = await call(app, method, path, { key, body: method === 'POST' ? { lost_reason: 'x' } : undefined });
            expectStatus(answer, 401, app);
            expect(answer.body.error.type).toBe('authentication_error');
          }
        }
        for (const key of API_KEYS) expectStatus(await call(app, 'GET', `${RESOURCE}?limit=1`, { key }), 200, app);
      });

      if (variant.tenancy)
        it("keeps each key to its tenant's objects: create, retrieve and list see only that tenant's", async () => {
          const created: { id: string }[] = [];
          for (const [i, key] of API_KEYS.entries()) {
            const before = await call(app, 'GET', `${RESOURCE}?limit=100`, { key });
            expectStatus(before, 200, app);
            const object = await call(app, 'POST', RESOURCE, { key, body: { lost_reason: `Only for ${TENANTS[i]}` } });
            expectStatus(object, 201, app);
            const retrieved = await call(app, 'GET', `${RESOURCE}/${object.body.id}`, { key });
            expectStatus(retrieved, 200, app);
            expect(retrieved.body).toEqual(object.body);
            const list = await call(app, 'GET', `${RESOURCE}?limit=100`, { key });
            expectStatus(list, 200, app);
            expect(list.body).toMatchObject({ data: [object.body, ...before.body.data], total: before.body.total + 1 });
            created.push(object.body);
          }
          for (const [i, key] of API_KEYS.entries()) {
            const other = created[1 - i];
            for (const [method, body] of [['GET'], ['PATCH', { lost_reason: 'Not yours' }], ['DELETE']] as const) {
              const answer = await call(app, method, `${RESOURCE}/${other.id}`, { key, body });
              expectStatus(answer, 404, app);
              expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
            }
            const ids = (await call(app, 'GET', `${RESOURCE}?limit=100`, { key })).body.data.map((object: { id: string }) => object.id);
            expect(ids).toContain(created[i].id);
            expect(ids).not.toContain(other.id);
          }
        });

      it(`serves host routes on the injected LostReasonService${variant.tenancy ? ' (forTenant(tenant) in host code)' : ''}`, async () => {
        // Module routes take the tenant from the key; the host's code names it.
        const hostPath = (i: number) => (variant.tenancy ? `/host/tenants/${TENANTS[i]}/lost-reasons` : '/host/lost-reasons');
        for (const [i, key] of API_KEYS.entries()) {
          const count = await call(app, 'GET', `${hostPath(i)}/count`, { key: null });
          expectStatus(count, 200, app);
          expect(count.body.total).toBe((await call(app, 'GET', `${RESOURCE}?limit=1`, { key })).body.total);
          const created = await call(app, 'POST', hostPath(i), { key: null, body: { reason: `Marked lost by the host (${i})` } });
          expectStatus(created, 201, app);
          expect(created.body.id).toMatch(OBJECT_ID);
          const stored = await call(app, 'GET', `${RESOURCE}/${created.body.id}`, { key });
          expectStatus(stored, 200, app);
          expect(stored.body.lost_reason).toBe(`Marked lost by the host (${i})`);
          expect((await call(app, 'GET', `${hostPath(i)}/count`, { key: null })).body.total).toBe(count.body.total + 1);
          if (variant.tenancy) expectStatus(await call(app, 'GET', `${RESOURCE}/${created.body.id}`, { key: API_KEYS[1 - i] }), 404, app);
        }
      });

      (variant.host.versions['@nestjs/swagger'] ? it : it.skip)(
        "documents the module in the host's OpenAPI document, and serves the UI",
        async () => {
          // Our CommonJS build require()s @nestjs/swagger 12 (ES modules only); the host imports it.
          const document = await call(app, 'GET', '/docs-json', { key: null });
          expectStatus(document, 200, app);
          expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining([RESOURCE, `${RESOURCE}/{id}`]));
          expect(document.body.paths[RESOURCE].post.tags).toEqual(['Opportunity Lost Reasons']);
          const ui = await call(app, 'GET', '/docs', { key: null });
          expectStatus(ui, 200, app);
          expect(String(ui.body)).toContain('swagger-ui');
        },
      );

      it(
        'answers 400, not 500, for text a latin1 MariaDB table cannot store',
        async () => {
          const latin1 = await createDatabase('mariadb', `${slug}_latin1`, 'latin1');
          if (variant.schema === 'typeorm migration:run') await typeormCli(host, ['migration:run'], latin1.url);
          const onLatin1 = await startApp(host, `${label}, latin1 MariaDB`, variant, { ...schemaEnv, DATABASE_URL: latin1.url });
          try {
            for (const text of ['😀', '中文']) {
              const refused = await call(onLatin1, 'POST', RESOURCE, { body: { lost_reason: `Zu teuer ${text}` } });
              expectStatus(refused, 400, onLatin1);
              expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'lost_reason' });
            }
            const created = await call(onLatin1, 'POST', RESOURCE, { body: { lost_reason: 'Zu teuer, déjà vu' } });
            expectStatus(created, 201, onLatin1);
            expect(created.body.lost_reason).toBe('Zu teuer, déjà vu');
            const patched = await call(onLatin1, 'PATCH', `${RESOURCE}/${created.body.id}`, { body: { lost_reason: '😀' } });
            expectStatus(patched, 400, onLatin1);
            expect((await call(onLatin1, 'GET', RESOURCE)).body).toMatchObject({ data: [created.body], total: 1 });
          } finally {
            await onLatin1.service.stop();
          }
        },
        3 * MINUTE,
      );

      it(
        'answers 503 while the database is unreachable, and serves again once it is back',
        async () => {
          expectStatus(await call(app, 'GET', RESOURCE), 200, app);
          proxy.cut('refuse');
          try {
            for (const [method, path, body] of [
              ['GET', RESOURCE, undefined],
              ['POST', RESOURCE, { lost_reason: 'During the outage' }],
            ] as const) {
              const answer = await call(app, method, path, { body });
              expectStatus(answer, 503, app);
              expect(answer.body.error.type).toBe('api_error');
              expect(answer.headers.get('retry-after')).toBe('1');
              expect(answer.text).not.toMatch(/ECONNREFUSED|postgres:\/\/|mysql:\/\/|127\.0\.0\.1/);
            }
          } finally {
            await proxy.restore();
          }
          let answer = await call(app, 'GET', RESOURCE);
          for (
            const deadline = Date.now() + 30_000;
            answer.status !== 200 && Date.now() < deadline;
            answer = await call(app, 'GET', RESOURCE)
          ) {
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
          expectStatus(answer, 200, app);
          expectStatus(await call(app, 'POST', RESOURCE, { body: { lost_reason: 'After the outage' } }), 201, app);
          expect(app.service.running).toBe(true);
        },
        2 * MINUTE,
      );
    });
  });
});
