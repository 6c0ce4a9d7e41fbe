import { DatabaseName, isCi, serverDatabases } from './databases';
import { DATABASES_BEFORE_ENV } from './global-setup';

/**
 * Fails the run when it leaves a database behind on a shared server: the tests create their own
 * (a latin1 one, a replica) and must drop every one, as the README promises. Under CI only, where
 * the run has the servers to itself: on a laptop another run may be creating its own meanwhile.
 */
export default async function globalTeardown(): Promise<void> {
  if (!isCi()) return;
  const before: Partial<Record<DatabaseName, string[]>> = JSON.parse(process.env[DATABASES_BEFORE_ENV] ?? '{}');
  const left: string[] = [];
  for (const [name, databases] of Object.entries(before) as [DatabaseName, string[]][]) {
    for (const database of await serverDatabases(name)) if (!databases.includes(database)) left.push(`${name}: ${database}`);
  }
  if (left.length > 0) throw new Error(`The tests left databases behind: ${left.join(', ')}`);
}
