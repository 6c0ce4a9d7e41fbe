import { ChildProcess, spawn } from 'node:child_process';
import { delimiter } from 'node:path';

/**
 * Child processes of the real-hosts spec: commands (npx, npm, nest build, the TypeORM CLI) and
 * the host apps themselves. Each runs in its own process group, so a timeout or the final clean-up
 * ends it together with whatever it started (npx → npm → node), by its id only.
 */

/** How much of a command's output an error message carries (its end: where npm says what failed). */
const OUTPUT_IN_ERRORS = 20_000;

const live = new Set<ChildProcess>();
/** Set by `stopAll()`: nothing starts afterwards (a preparation still under way stops at its next step). */
let closed = false;

/**
 * The environment a developer's shell would give: this process's, without what `npm run` and Jest
 * add (the repository's node_modules/.bin on PATH, npm_package_*, npm_lifecycle_*, its local
 * prefix, NODE_ENV=test), so npm and the CLIs in a host see the host, not this repository.
 * Registry, cache and certificate settings (npm_config_*) stay. CI=true: nothing prompts.
 */
export function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      /^npm_(package|lifecycle)_/.test(name) ||
      ['npm_command', 'npm_config_local_prefix', 'npm_config_call', 'INIT_CWD', 'NODE_ENV'].includes(name)
    )
      continue;
    if (/^(JEST|TS_JEST)/.test(name)) continue;
    env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => !/[\\/]node_modules[\\/]\.bin$/.test(entry))
    .join(delimiter);
  return { ...env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
}

export const tail = (text: string, max = OUTPUT_IN_ERRORS): string =>
  text.length > max ? `[… ${text.length - max} characters before]\n${text.slice(-max)}` : text;

/** Ends a process group we started, by its id: SIGTERM, then SIGKILL after `graceMs`. */
function killGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // Already gone.
    }
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      resolve();
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      // Whatever it started and left behind in its group goes too.
      signal('SIGKILL');
      resolve();
    });
    signal('SIGTERM');
  });
}

export interface CommandResult {
  command: string;
  cwd: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  stdout: string;
  seconds: number;
}

export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Resolve with a failed result instead of throwing. */
  allowFailure?: boolean;
}

export function describeResult(result: CommandResult): string {
  const ending = result.signal ? `was killed (${result.signal})` : `exited with ${result.code}`;
  return `\`${result.command}\` in ${result.cwd} ${ending} after ${result.seconds.toFixed(1)} s. Output:\n${tail(result.output)}`;
}

/** Runs a command to its end, stdin closed, stdout and stderr captured together in order. */
export function run(command: string, args: string[], options: RunOptions): Promise<CommandResult> {
  const line = [command, ...args].join(' ');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (closed) return reject(new Error(`\`${line}\` not started: the run is shutting down`));
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? shellEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(child);
    let output = '';
    let stdout = '';
    let timedOut = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      void killGroup(child, 2000);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`\`${line}\` in ${options.cwd} could not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const result: CommandResult = {
        command: line,
        cwd: options.cwd,
        code,
        signal,
        output,
        stdout,
        seconds: (Date.now() - started) / 1000,
      };
      if (timedOut) return reject(new Error(`TIMEOUT (${options.timeoutMs / 1000} s): ${describeResult(result)}`));
      if (code !== 0 && !options.allowFailure) return reject(new Error(describeResult(result)));
      resolve(result);
    });
  });
}

/** A long-running process (a host app), with its output so far. */
export class Service {
  private text = '';
  private exited?: string;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
  ) {
    if (closed) throw new Error(`${name} not started: the run is shutting down`);
    this.child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(this.child);
    this.child.stdout!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.child.on('error', (error) => (this.exited = `could not start: ${error.message}`));
    this.child.on('exit', (code, signal) => {
      this.exited = `exited with ${code ?? signal}`;
      live.delete(this.child);
    });
  }

  get output(): string {
    return this.text;
  }

  get running(): boolean {
    return this.exited === undefined;
  }

  /** "<name> (<status>). Output:\n…", for error messages. */
  describe(): string {
    return `${this.name} (${this.exited ?? 'running'}). Output:\n${tail(this.text)}`;
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        const match = pattern.exec(this.text);
        if (match) return resolve(match);
        if (this.exited !== undefined) return reject(new Error(`waiting for ${pattern}: ${this.describe()}`));
        if (Date.now() - started > timeoutMs)
          return reject(new Error(`waiting for ${pattern}: not seen within ${timeoutMs / 1000} s; ${this.describe()}`));
        setTimeout(check, 100);
      };
      check();
    });
  }

  stop(): Promise<void> {
    return killGroup(this.child, 5000);
  }
}

/** Ends every process this module started that is still running (clean-up, also after failures). */
export async function stopAll(): Promise<void> {
  closed = true;
  await Promise.all([...live].map((child) => killGroup(child, 5000)));
  live.clear();
}
