import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { existsSync } from 'node:fs';

/**
 * The folders of lib/ are layers: each imports only the layers listed before it, so no import
 * cycle can form between them. Files directly in lib/ are the wiring (module, its definition, the
 * providers, the options' resolution, the public index) and sit above every folder. Migrations are
 * frozen snapshots: only their index is imported, and only by the public index.
 */
const LAYERS = ['common', 'persistence', 'errors', 'dto', 'interfaces', 'tenancy', 'hooks', 'idempotency', 'service', 'http', 'migrations'];

const LIB = __dirname;

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.ts$/.test(entry.name) && !/\.(spec|d)\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** The file a relative import names (`./x`, `./x.js`, `./folder`), if it is in lib/. */
function target(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

/** The layer of a file: its top folder, or `root` for a file directly in lib/. */
const layerOf = (file: string): string => {
  const parts = relative(LIB, file).split(sep);
  return parts.length === 1 ? 'root' : parts[0];
};

const imports = sources(LIB).flatMap((file) =>
  [
    ...readFileSync(file, 'utf8').matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].flatMap((match) => {
    const to = target(file, match[1] ?? match[2]);
    return to ? [{ from: relative(LIB, file), to: relative(LIB, to), fromLayer: layerOf(file), toLayer: layerOf(to) }] : [];
  }),
);

describe('the layers of lib/', () => {
  it('has every folder in the list of layers', () => {
    const folders = readdirSync(LIB, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !LAYERS.includes(folder))).toEqual([]);
  });

  it('imports only downward: from a folder, only folders listed before it; nothing below imports the wiring', () => {
    const rank = (layer: string) => (layer === 'root' ? LAYERS.length : LAYERS.indexOf(layer));
    const upward = imports.filter(({ fromLayer, toLayer }) => fromLayer !== toLayer && rank(toLayer) > rank(fromLayer));
    expect(upward.map(({ from, to }) => `${from} -> ${to}`)).toEqual([]);
  });

  it('imports migrations only through their index, from the public index only', () => {
    const intoMigrations = imports.filter(({ fromLayer, toLayer }) => toLayer === 'migrations' && fromLayer !== 'migrations');
    expect(intoMigrations.map(({ from, to }) => `${from} -> ${to}`)).toEqual(['index.ts -> migrations/index.ts']);
  });
});
