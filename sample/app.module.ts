import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LOST_REASON_MIGRATIONS, LostReasonModule } from 'nestjs-lost-reason';
import { databaseOptionsFromUrl } from './database-options.js';

/** The key the sample accepts when API_KEYS names none (never in production). */
export const DEMO_API_KEY = 'sk_test_sample';

/**
 * Keys from API_KEYS, comma-separated: bare keys (`sk_test_a`) or `tenant:key` entries
 * (`acme:sk_test_a`). Any `tenant:key` entry turns tenancy on; bare keys then belong to the
 * tenant `default`. Outside production, the demo key when API_KEYS names none.
 */
export function apiKeysFromEnv(env = process.env): string[] | Record<string, string> {
  const entries = (env.API_KEYS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) {
    if (env.NODE_ENV === 'production') throw new Error('API_KEYS must be set in production.');
    return [DEMO_API_KEY];
  }
  if (!entries.some((entry) => entry.includes(':'))) return entries;
  return Object.fromEntries(
    entries.map((entry) => {
      const separator = entry.lastIndexOf(':');
      return separator < 0 ? [entry, 'default'] : [entry.slice(separator + 1), entry.slice(0, separator)];
    }),
  );
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      ...databaseOptionsFromUrl(process.env.DATABASE_URL),
      autoLoadEntities: true,
      // The production schema: the module's migrations (with the count table that keeps list
      // totals cheap), run at start-up.
      synchronize: false,
      migrations: LOST_REASON_MIGRATIONS,
      migrationsRun: true,
    }),
    LostReasonModule.forRoot({
      apiKeys: apiKeysFromEnv(),
      // How many requests run at once, tenants taking turns beyond it; by default the pool's size.
      ...(process.env.MAX_CONCURRENT_REQUESTS && { maxConcurrentRequests: Number(process.env.MAX_CONCURRENT_REQUESTS) }),
    }),
  ],
})
export class AppModule {}
