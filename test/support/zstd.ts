import * as zlib from 'node:zlib';

/**
 * zstd compression where this Node's zlib has it (22.15+, 23.8+), else undefined. The host apps
 * run in the test's process, on the same Node: they take zstd bodies exactly when this is defined.
 */
export const zstdCompress = (zlib as { zstdCompressSync?: (bytes: Buffer) => Buffer }).zstdCompressSync;
