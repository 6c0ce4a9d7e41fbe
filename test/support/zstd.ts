import * as zlib from 'node:zlib';

const { zstdCompressSync, zstdDecompressSync } = zlib as {
  zstdCompressSync?: (bytes: Buffer) => Buffer;
  zstdDecompressSync?: (bytes: Buffer) => Buffer;
};

/**
 * zstd compression where this Node's zlib has it (22.15+, 23.8+), else undefined. The host apps
 * run in the test's process, on the same Node: they take zstd bodies exactly when this is defined.
 */
export const zstdCompress = zstdCompressSync;

/** Whether this Node's zstd inflates no bytes at all to nothing (Node 22) or refuses them (24, 26). */
export function zstdInflatesNothing(): boolean {
  try {
    zstdDecompressSync?.(Buffer.alloc(0));
    return zstdDecompressSync !== undefined;
  } catch {
    return false;
  }
}
