import { AVAILABLE_DATABASES_ENV, dropModuleSchema, isCi, probe, requestedDatabases, serverDatabases } from './databases';

/** Each server's databases before the run, for the teardown's check that the suite leaves none behind. */
export const DATABASES_BEFORE_ENV = 'LOST_REASON_DATABASES_BEFORE';

/**
 * Decides which databases the e2e suite runs on. Under CI every requested database must
 * answer; on a laptop an unreachable server is skipped with a notice.
 */
export default async function globalSetup(): Promise<void> {
  const available: string[] = [];
  const before: Record<string, string[]> = {};
  for (const name of requestedDatabases()) {
    try {
      await probe(name);
      available.push(name);
      await dropModuleSchema(name);
      before[name] = await serverDatabases(name);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (isCi()) throw new Error(`e2e: database "${name}" is unreachable under CI: ${reason}`);
      console.warn(`\n[e2e] SKIPPING ${name}: unreachable (${reason}). Set DB= to choose databases.\n`);
    }
  }
  process.env[AVAILABLE_DATABASES_ENV] = available.join(',');
  process.env[DATABASES_BEFORE_ENV] ??= JSON.stringify(before);
}
