import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Apps run as child processes of a spec, as users run them: the built sample (`npm start`) and
 * hosts that install the packed package. Each is started with its environment over this
 * process's own, and is ready once it prints that it serves.
 */

const ROOT = join(__dirname, '..', '..');

/** A TCP port free on this machine at the time of asking. */
export const freePort = (): Promise<number> =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** An app running as a child process. */
export interface AppProcess {
  child: ChildProcess;
  /** What it printed so far, stdout and stderr together, as it came. */
  output: () => string;
  /** Ends it (SIGTERM) and waits until it has exited; nothing to do if it already has. */
  stop: () => Promise<void>;
}

export interface AppProcessOptions {
  /** Who it is, in error messages ("the sample", "the host app"…). */
  name: string;
  /** The arguments of `node`: the script and its own arguments. */
  args: string[];
  cwd?: string;
  /** Over this process's environment; a variable set to `undefined` is left out. */
  env: NodeJS.ProcessEnv;
  /** Seen in its output once it serves. */
  ready: RegExp;
  /** Gives up and kills it when not ready by then; by default it has the test's own time. */
  timeoutMs?: number;
}

/**
 * Starts `node <args>` and resolves once `ready` matches its output, with the match; rejects,
 * with what it printed, if it exits (or times out) first.
 */
export function startAppProcess(options: AppProcessOptions): Promise<AppProcess & { ready: RegExpExecArray }> {
  const { name, args, cwd, env, ready, timeoutMs } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      await exited;
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill();
            reject(new Error(`${name} did not listen within ${timeoutMs / 1000} s:\n${output}`));
          }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output: () => output, stop, ready: match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code ?? signal}:\n${output}`));
    });
  });
}

/** Builds what `npm start` runs: the package, then the sample (dist-sample/) against the package's public entry. */
export function buildSample(): void {
  try {
    execFileSync('npm', ['run', '--silent', 'build:sample'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build:sample failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** Starts the built sample with `env` (PORT, DATABASE_URL, API_KEYS…) and resolves once it serves. */
export function startSample(env: NodeJS.ProcessEnv, name = 'the sample'): Promise<AppProcess> {
  return startAppProcess({ name, args: [join(ROOT, 'dist-sample', 'main.js')], env, ready: /Serving http:\/\// });
}
