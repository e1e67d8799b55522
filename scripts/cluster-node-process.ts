import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Spawns one coordinator node of a local cluster: the real CLI (`npm start -- --redis ...`) in its own process.
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface NodeProcess {
  nodeId: string;
  url: string;
  port: number;
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  /** kill -9, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean leave), and wait for the exit. */
  stop(): Promise<void>;
  /** Called with each JSON log line after the node is ready. */
  onLog?: (entry: Record<string, unknown>) => void;
}

/** Fast rounds on a tiny model, no adaptive bounds: the settings the cluster tests and the bench run nodes with. */
export const TEST_NODE_ARGS = [
  '--model',
  'logistic',
  '--model-options',
  '{"features":3}',
  '--round-interval-ms',
  '0',
  '--evaluate-every',
  '0',
  '--retry-delay-ms',
  '100',
  '--norm-bound',
  'off',
  '--weight-cap',
  'off',
];

/** Starts `apps/coordinator-cli/cli.ts --redis <url>` as its own process (so kill -9 is real) and waits until it is ready. */
export async function spawnNode(
  redisUrl: string,
  checkpointDir: string,
  nodeId: string,
  args: string[] = TEST_NODE_ARGS,
  port = 0,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'apps/coordinator-cli/cli.ts',
      '--redis',
      redisUrl,
      '--node-id',
      nodeId,
      // Nodes sum plain updates and combine partial sums: npm start's secagg+ default does not cluster.
      '--secure-aggregation',
      'off',
      '--checkpoint-dir',
      checkpointDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-format',
      'json',
      ...args,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const logs: Array<Record<string, unknown>> = [];
  // The log reader starts before the node object exists; it reaches onLog through this holder.
  const holder: { node?: NodeProcess } = {};
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${nodeId} not ready within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (logs.length > 10_000) logs.splice(0, 5_000);
      holder.node?.onLog?.(entry);
      if (entry['msg'] === 'fedrec coordinator ready') {
        clearTimeout(timer);
        resolve(String(entry['url']));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`node ${nodeId} exited early: ${stderr}`));
    });
  });
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const node: NodeProcess = { nodeId, url, port: Number(new URL(url).port), child, logs, kill9: () => stopWith('SIGKILL'), stop: () => stopWith('SIGTERM') };
  holder.node = node;
  return node;
}
