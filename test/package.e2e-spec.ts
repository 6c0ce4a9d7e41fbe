import { execFileSync, ExecFileSyncOptions } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { AppProcess, startAppProcess } from './support/app-process';
import { ISO_UTC_MS, OBJECT_ID, RESOURCE_MISSING } from './support/contract';
import { packWorkingTree } from './support/pack';

/**
 * The package as users get it: `npm pack` on a fresh copy of the working tree (its `prepack`
 * builds dist/ from scratch), then a brand-new host app in a temporary folder that installs the
 * tarball from the registry's point of view (no path into this repository), registers the module
 * with `forRootAsync` on its own TypeORM connection and serves it over HTTP.
 *
 * Runs on SQLite only, whatever `DB` says: it proves the package, not a database.
 */

const ROOT = join(__dirname, '..');
const RESOURCE = '/api/crm/opportunity-lost-reason';
const API_KEY = 'sk_test_tarball';

/** What a NestJS + TypeORM host brings itself, at the versions this repository is tested with. */
const HOST_DEPENDENCIES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/typeorm',
  'typeorm',
  'class-validator',
  'class-transformer',
  'reflect-metadata',
  'rxjs',
  'better-sqlite3',
];

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const installedVersion = (name: string, root = ROOT): string => readJson(join(root, 'node_modules', name, 'package.json')).version;

/** npm and node, non-interactive, as CI runs them. */
function run(command: string, args: string[], cwd: string, options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(command, args, {
      cwd,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      shell: process.platform === 'win32',
      ...options,
    }) as string;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** The module's TypeScript sources (specs excluded), relative to lib/, without extension. */
function librarySources(dir = join(ROOT, 'lib')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return librarySources(path);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts') || entry.name.endsWith('.d.ts')) return [];
    return [relative(join(ROOT, 'lib'), path).split(sep).join('/').replace(/\.ts$/, '')];
  });
}

/** The host app: plain CommonJS, no compiler, importing the package by its name. */
const HOST_MAIN = `'use strict';
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { TypeOrmModule } = require('@nestjs/typeorm');
const { LostReasonModule, LOST_REASON_MIGRATIONS } = require('nestjs-lost-reason');

// SCHEMA=migrations: the table comes from the shipped migrations, as production hosts run.
const schema =
  process.env.SCHEMA === 'migrations'
    ? { synchronize: false, migrations: LOST_REASON_MIGRATIONS, migrationsRun: true }
    : { synchronize: true };

class AppModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true, ...schema }),
    LostReasonModule.forRootAsync({ useFactory: async () => ({ apiKeys: [${JSON.stringify(API_KEY)}] }) }),
  ],
})(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  const resolved = require.resolve('nestjs-lost-reason');
  const migrations = LOST_REASON_MIGRATIONS.map((migration) => migration.name);
  console.log('LISTENING ' + JSON.stringify({ port, resolved, migrations }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** The host app once it listens, with what its LISTENING line says. */
interface Started extends AppProcess {
  port: number;
  resolved: string;
  migrations: string[];
}

/** Starts the host app and resolves once it listens. */
async function startHost(cwd: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const host = await startAppProcess({ name: 'the host app', args: ['main.js'], cwd, env, ready: /^LISTENING (.+)$/m, timeoutMs: 30_000 });
  return { ...host, ...JSON.parse(host.ready[1]) };
}

describe('the npm package (npm pack, installed in a brand-new host app)', () => {
  let tmp: string;
  let files: string[];
  let tarball: string;
  let host: string;
  let shipped: { main: string; types: string; exports: Record<string, { types: string; default: string } | string> };

  beforeAll(() => {
    tmp = realpathSync(mkdtempSync(join(tmpdir(), 'nestjs-lost-reason-package-')));

    ({ tarball, files } = packWorkingTree(tmp));

    // A host app of its own, depending on the tarball and on what a host already has.
    host = join(tmp, 'host');
    mkdirSync(host);
    const dependencies: Record<string, string> = { 'nestjs-lost-reason': `file:${tarball}` };
    for (const name of HOST_DEPENDENCIES) dependencies[name] = installedVersion(name);
    writeFileSync(
      join(host, 'package.json'),
      JSON.stringify(
        { name: 'tarball-host', version: '0.0.0', private: true, dependencies, allowScripts: { 'better-sqlite3': true } },
        null,
        2,
      ),
    );
    writeFileSync(join(host, 'main.js'), HOST_MAIN);
    // Install scripts off: the only one is better-sqlite3's native build. This very version is
    // already installed for this Node.js in the repository, so its folder is copied rather than
    // downloaded or compiled again (minutes without network access to GitHub). The whole folder:
    // 12 builds its binary into build/, 13 ships prebuilds/ (the Node.js 22+ runs in CI).
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], host);
    const driver = join('node_modules', 'better-sqlite3');
    if (installedVersion('better-sqlite3', host) === installedVersion('better-sqlite3')) {
      cpSync(join(ROOT, driver), join(host, driver), { recursive: true, force: true });
    } else {
      run('npm', ['rebuild', 'better-sqlite3'], host);
    }
    shipped = readJson(join(host, 'node_modules', 'nestjs-lost-reason', 'package.json'));
  }, 360_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('the tarball', () => {
    it('holds the built code, its types, the migrations, README and the docs it links, LICENSE and package.json', () => {
      expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
      const linkedDocs = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/\]\((docs\/[^)#]+)/g)].map(([, doc]) => doc);
      expect(linkedDocs.length).toBeGreaterThan(5);
      expect(files).toEqual(expect.arrayContaining(linkedDocs));
      const migrations = librarySources().filter((source) => source.startsWith('migrations/'));
      expect(migrations).toContain('migrations/index');
      expect(migrations.length).toBeGreaterThan(1);
      for (const migration of migrations) expect(files).toEqual(expect.arrayContaining([`dist/${migration}.js`, `dist/${migration}.d.ts`]));
    });

    it('holds exactly what lib/ compiles to: no stale build output', () => {
      const expected = librarySources().flatMap((source) => [`dist/${source}.js`, `dist/${source}.d.ts`]);
      expect(files.filter((file) => file.startsWith('dist/')).sort()).toEqual(expected.sort());
    });

    it('holds nothing else: no sources, tests, specs, sample, source maps or configuration', () => {
      const unexpected = files.filter((file) => !/^(dist\/.+\.(js|d\.ts)|docs\/[a-z-]+\.md|README\.md|LICENSE|package\.json)$/.test(file));
      expect(unexpected).toEqual([]);
      expect(files.filter((file) => /(^|\/)(lib|test|sample|bench)\/|\.spec\.|\.map$|tsconfig/.test(file))).toEqual([]);
    });

    it('is MIT-licensed with its LICENSE', () => {
      expect(shipped).toMatchObject({ license: 'MIT' });
      const license = readFileSync(join(host, 'node_modules', 'nestjs-lost-reason', 'LICENSE'), 'utf8');
      expect(license).toContain('MIT License');
      expect(license).toContain('Copyright (c) 2026 nestjs-lost-reason contributors');
    });

    it('points main, types and exports at files it holds', () => {
      const root = shipped.exports['.'] as { types: string; default: string };
      for (const entry of [shipped.main, shipped.types, root.types, root.default]) {
        expect(files).toContain(entry.replace(/^\.\//, ''));
      }
    });

    it('requires only peer dependencies and Node.js built-ins, in its code and its types', () => {
      const peers = Object.keys(readJson(join(ROOT, 'package.json')).peerDependencies);
      const installed = join(host, 'node_modules', 'nestjs-lost-reason');
      const imported = new Set<string>();
      for (const file of files.filter((path) => path.startsWith('dist/'))) {
        const text = readFileSync(join(installed, file), 'utf8');
        for (const [, specifier] of text.matchAll(/(?:require\(|import\(|from )["']([^"']+)["']/g)) {
          if (!specifier.startsWith('.'))
            imported.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
        }
      }
      const foreign = [...imported].filter((name) => !peers.includes(name) && !name.startsWith('node:') && !builtinModules.includes(name));
      expect(foreign).toEqual([]);
    });
  });

  describe('installed in the host app', () => {
    it('is a copy in its node_modules, resolved by name, with no path into this repository', () => {
      const installed = join(host, 'node_modules', 'nestjs-lost-reason');
      expect(lstatSync(installed).isSymbolicLink()).toBe(false);
      const resolved = run(process.execPath, ['-p', "require.resolve('nestjs-lost-reason')"], host).trim();
      expect(resolved).toBe(join(installed, 'dist', 'index.js'));
      expect(realpathSync(resolved).startsWith(realpathSync(ROOT))).toBe(false);
      const nest = run(
        process.execPath,
        ['-p', "require.resolve('@nestjs/common', { paths: [require.resolve('nestjs-lost-reason')] })"],
        host,
      ).trim();
      expect(nest.startsWith(join(host, 'node_modules'))).toBe(true);
    });

    it('leaves the optional peer dependencies out: the host below runs without them', () => {
      const meta: Record<string, { optional?: boolean }> = readJson(join(ROOT, 'package.json')).peerDependenciesMeta ?? {};
      for (const [name, { optional }] of Object.entries(meta)) {
        if (optional) expect(existsSync(join(host, 'node_modules', name))).toBe(false);
      }
    });
  });

  describe.each([
    ['synchronize: true', 'synchronize'],
    ['the shipped migrations', 'migrations'],
  ])('served by the host app with forRootAsync on its own connection, schema from %s', (_, schema) => {
    let started: Started | undefined;
    let base: string;
    const auth = { Authorization: `Bearer ${API_KEY}` };
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const headers: Record<string, string> = { ...auth };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: await response.json() };
    };

    beforeAll(async () => {
      started = await startHost(host, { SCHEMA: schema });
      base = `http://127.0.0.1:${started.port}`;
    }, 60_000);

    afterAll(async () => {
      await started?.stop();
    });

    it('loads the package from the host node_modules', () => {
      expect(started!.resolved).toBe(join(host, 'node_modules', 'nestjs-lost-reason', 'dist', 'index.js'));
      expect(started!.migrations.length).toBeGreaterThan(0);
    });

    it('creates, lists, retrieves, updates and deletes over HTTP', async () => {
      const anonymous = await fetch(`${base}${RESOURCE}`);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { type: string } }).error.type).toBe('authentication_error');

      const created = await call('POST', RESOURCE, { lost_reason: 'Price too high' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(OBJECT_ID),
        created_at: expect.stringMatching(ISO_UTC_MS),
        updated_at: created.body.created_at,
        lost_reason: 'Price too high',
      });
      const empty = await call('POST', RESOURCE);
      expect(empty.status).toBe(201);
      expect(empty.body.lost_reason).toBeNull();

      const list = await call('GET', `${RESOURCE}?limit=20&offset=0`);
      expect(list).toEqual({ status: 200, body: { data: [empty.body, created.body], has_more: false, total: 2 } });
      const page = await call('GET', `${RESOURCE}?limit=1`);
      expect(page).toEqual({ status: 200, body: { data: [empty.body], has_more: true, total: 2 } });

      expect(await call('GET', `${RESOURCE}/${created.body.id}`)).toEqual({ status: 200, body: created.body });

      const updated = await call('PATCH', `${RESOURCE}/${created.body.id}`, { lost_reason: 'Went with a competitor' });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        id: created.body.id,
        created_at: created.body.created_at,
        lost_reason: 'Went with a competitor',
      });
      expect(await call('GET', `${RESOURCE}/${created.body.id}`)).toEqual({ status: 200, body: updated.body });

      const invalid = await call('GET', `${RESOURCE}?limit=500`);
      expect(invalid.status).toBe(400);
      expect(invalid.body.error).toMatchObject({ type: 'invalid_request_error', param: 'limit' });

      expect(await call('DELETE', `${RESOURCE}/${created.body.id}`)).toEqual({ status: 200, body: { id: created.body.id, deleted: true } });
      const gone = await call('GET', `${RESOURCE}/${created.body.id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.error).toMatchObject(RESOURCE_MISSING);
      expect((await call('GET', RESOURCE)).body).toEqual({ data: [empty.body], has_more: false, total: 1 });
    });
  });
});
