import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * What a fresh clone holds: the working tree without dependencies, build output, local data or
 * tarballs (.gitignore), so `npm pack` cannot ship a leftover dist/. Files that vanish while
 * being copied (other suites write sample/data) are skipped.
 */
function copyWorkingTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const rel = relative(ROOT, source).split(sep).join('/');
    if (['node_modules', '.git', 'coverage', 'sample/data'].includes(rel) || /^dist/.test(rel) || rel.endsWith('.tgz')) continue;
    try {
      if (entry.isDirectory()) copyWorkingTree(source, join(to, entry.name));
      else if (entry.isFile()) copyFileSync(source, join(to, entry.name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * `npm pack` of a fresh copy of the working tree into `destination`: its `prepack` must build
 * dist/ by itself. The tarball's path and the files it holds, sorted.
 */
export function packWorkingTree(destination: string): { tarball: string; files: string[] } {
  const clone = join(destination, 'clone');
  copyWorkingTree(ROOT, clone);
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'junction');
  let output: string;
  try {
    output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
      cwd: clone,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm pack failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
  const [packed] = JSON.parse(output.slice(output.indexOf('[')));
  return { tarball: join(destination, packed.filename), files: packed.files.map((file: { path: string }) => file.path).sort() };
}
