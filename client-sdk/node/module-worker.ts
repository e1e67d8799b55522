import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread from a module next to the caller: the compiled `.js` when running
 * built code, else the `.ts` source through tsx (worker threads do not inherit tsx's loader).
 */
export function startModuleWorker(callerUrl: string, moduleBaseName: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${moduleBaseName}.js`, callerUrl), { workerData });
  const target = JSON.stringify(new URL(`./${moduleBaseName}.ts`, callerUrl).href);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${target}); });`;
  return new Worker(boot, { eval: true, workerData });
}
