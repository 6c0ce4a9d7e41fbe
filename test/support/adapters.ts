import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export type AdapterName = 'express' | 'fastify';

/** The HTTP adapters the e2e suite runs on; ADAPTER=express narrows the set. */
export function testedAdapters(): AdapterName[] {
  const requested = (process.env.ADAPTER ?? 'express,fastify').split(',').map((name) => name.trim());
  for (const name of requested) {
    if (name !== 'express' && name !== 'fastify') throw new Error(`ADAPTER: unknown adapter "${name}"`);
  }
  return requested as AdapterName[];
}

export function createAdapter(name: AdapterName): AbstractHttpAdapter {
  return name === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
}

/** The major version of an installed package (found from `from`, e.g. another package's folder). */
export function installedMajor(name: string, from?: string): number {
  let dir = dirname(require.resolve(name, from ? { paths: [from] } : undefined));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name: found, version } = JSON.parse(readFileSync(manifest, 'utf8'));
      if (found === name) return Number(version.split('.')[0]);
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of ${name}`);
    dir = dirname(dir);
  }
}

/**
 * What the oldest line (NestJS 10: Express 4, Fastify 4) does differently, as docs/installation.md says:
 * Express 4's body parser has no brotli, and NestJS 10's Fastify adapter logs a 413 as an error.
 */
export const OLDEST_LINE_QUIRKS = {
  expressBrotli: () => installedMajor('body-parser', dirname(require.resolve('express'))) >= 2,
  fastifyLogs413: () => installedMajor('@nestjs/core') < 11,
};
