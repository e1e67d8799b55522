import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line that matches (rejects if the process exits first). */
  line(re: RegExp): Promise<string>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Runs `tsx FILE ARGS` the way the npm scripts do, from the repository root, capturing its output. */
export function runTsx(file: string, args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  const watchers: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...watchers]) {
      const hit = out.split('\n').find((l) => w.re.test(l));
      if (hit !== undefined) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    line(re) {
      const hit = out.split('\n').find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        watchers.push({ re, resolve });
        void exited.then((code) => reject(new Error(`${file} exited (${code}) before printing ${re}\nstdout:\n${out}\nstderr:\n${err}`)));
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
