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
