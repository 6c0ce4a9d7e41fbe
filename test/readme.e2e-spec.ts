import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, buildSample, freePort, startSample } from './support/app-process';
import { DATABASES, DatabaseName, dropModuleSchema, testedDatabases } from './support/databases';

const ROOT = join(__dirname, '..');

/** The ```bash block of a README section. */
function bashBlockOf(section: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${section}`);
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(start));
  if (start < 0 || !block) throw new Error(`README has no bash block under "## ${section}"`);
  return block[1];
}

describe('README', () => {
  let sample: AppProcess | undefined;
  let port: number;

  beforeAll(() => {
    // What `npm start` builds: the package, then the sample against the package's public entry.
    buildSample();
  }, 120_000);
  let restoreSampleData: (() => void) | undefined;
  afterEach(async () => {
    await sample?.stop();
    sample = undefined;
    restoreSampleData?.();
    restoreSampleData = undefined;
  });

  // Real curl: a POST with no body sends no Content-Length (supertest always sends one).
  it.each(['express', 'fastify'])(
    '"A tour with curl" works as written against the sample on SQLite (%s), printing the demo key',
    async (adapter) => {
      port = await freePort();
      sample = await startSample({ PORT: String(port), DATABASE_URL: 'sqlite::memory:', API_KEYS: '', NODE_ENV: '', ADAPTER: adapter });
      expect(sample.output()).toContain(`Adapter: ${adapter}`);
      expect(sample.output()).toContain('use the demo key sk_test_sample');
      expect(sample.output()).toContain('Database: better-sqlite3 :memory:');
      const script = bashBlockOf('A tour with curl').replaceAll('localhost:3000', `localhost:${port}`);
      const output = execFileSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8' });
      expect(output).toContain('"lost_reason":"Price too high"');
      expect(output).toContain('"lost_reason":"Went with a competitor"');
      expect(output).toMatch(/"has_more":false,"total":2/);
      expect(output).toMatch(/"id":"opportunity-lost-reason_[0-9a-f]{32}","deleted":true/);
      expect(output).toContain('"param":"limit"');
    },
  );

  it('the sample says it uses the demo key whenever API_KEYS names none', async () => {
    port = await freePort();
    sample = await startSample({ PORT: String(port), DATABASE_URL: 'sqlite::memory:', API_KEYS: ' , ', NODE_ENV: '' });
    expect(sample.output()).toContain('use the demo key sk_test_sample');
  });

  it('the sample turns tenancy on for tenant:key entries of API_KEYS', async () => {
    port = await freePort();
    sample = await startSample({
      PORT: String(port),
      DATABASE_URL: 'sqlite::memory:',
      API_KEYS: 'acme:sk_test_acme, globex:sk_test_globex, sk_test_plain',
    });
    const url = `http://localhost:${port}/api/crm/opportunity-lost-reason`;
    const as = (key: string) => ({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });
    const created = (await (
      await fetch(url, { method: 'POST', headers: as('sk_test_acme'), body: '{"lost_reason":"acme only"}' })
    ).json()) as { id: string };
    expect((await fetch(`${url}/${created.id}`, { headers: as('sk_test_acme') })).status).toBe(200);
    expect((await fetch(`${url}/${created.id}`, { headers: as('sk_test_globex') })).status).toBe(404);
    expect((await fetch(`${url}/${created.id}`, { headers: as('sk_test_plain') })).status).toBe(404);
    expect(((await (await fetch(url, { headers: as('sk_test_globex') })).json()) as { total: number }).total).toBe(0);
  });

  const serverUrls = () => {
    const dbs = testedDatabases();
    const urls: string[] = [];
    if (dbs.includes('postgres')) urls.push((DATABASES.postgres as { url: string }).url);
    if (dbs.includes('mariadb')) {
      const mysql = (DATABASES.mariadb as { url: string }).url;
      urls.push(mysql, mysql.replace(/^mysql:/, 'mariadb:'));
    }
    return urls.length > 0 ? urls : ['sqlite::memory:'];
  };

  it.each(serverUrls())('the sample serves on DATABASE_URL=%s', async (url) => {
    // The sample migrates from an empty schema; the synchronize-schema suites start from one too.
    const db: DatabaseName | undefined = url.startsWith('postgres') ? 'postgres' : /^(mysql|mariadb):/.test(url) ? 'mariadb' : undefined;
    if (db) await dropModuleSchema(db);
    try {
      port = await freePort();
      sample = await startSample({ PORT: String(port), DATABASE_URL: url, API_KEYS: 'sk_test_db' });
      const api = `http://localhost:${port}/api/crm/opportunity-lost-reason`;
      const headers = { Authorization: 'Bearer sk_test_db', 'Content-Type': 'application/json' };
      const created = (await (await fetch(api, { method: 'POST', headers, body: '{"lost_reason":"via URL"}' })).json()) as { id: string };
      const retrieved = await fetch(`${api}/${created.id}`, { headers });
      expect(retrieved.status).toBe(200);
      expect(await fetch(`${api}/${created.id}`, { method: 'DELETE', headers }).then((r) => r.status)).toBe(200);
    } finally {
      await sample?.stop();
      sample = undefined;
      if (db) await dropModuleSchema(db);
    }
  });

  it('the sample refuses to start in production without API_KEYS', async () => {
    port = await freePort();
    await expect(
      startSample({ PORT: String(port), DATABASE_URL: 'sqlite::memory:', API_KEYS: '', NODE_ENV: 'production' }),
    ).rejects.toThrow(/API_KEYS must be set in production/);
  });

  it('the sample takes its keys from API_KEYS and, by default, creates an SQLite file under sample/data', async () => {
    port = await freePort();
    // The developer's own sample data is moved aside for the test and put back afterwards.
    const database = join(ROOT, 'sample', 'data', 'lost-reasons.sqlite');
    const parked = `${database}.parked-by-test`;
    if (existsSync(database)) renameSync(database, parked);
    restoreSampleData = () => {
      rmSync(database, { force: true });
      if (existsSync(parked)) renameSync(parked, database);
    };
    const env = { PORT: String(port), DATABASE_URL: undefined, API_KEYS: 'sk_test_a, sk_test_b' };
    sample = await startSample(env);
    expect(existsSync(database)).toBe(true);
    const url = `http://localhost:${port}/api/crm/opportunity-lost-reason`;
    expect((await fetch(url, { headers: { Authorization: 'Bearer sk_test_b' } })).status).toBe(200);
    expect((await fetch(url, { headers: { Authorization: 'Bearer sk_test_sample' } })).status).toBe(401);
  });
});
