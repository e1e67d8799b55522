// Reads a `node --cpu-prof` profile and prints where the samples inside given time windows went: self
// time per function (name, file:line) and, for the heaviest frames, their callers' chain. For the
// round windows that coordinator-run.ts prints (roundWindowsUs, the profile's own monotonic clock).
// Usage: node --import tsx bench/coordinator/profile-window.ts FILE.cpuprofile '[[startUs,endUs],...]' [top]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, windowsArg, topArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as Profile;
const windows = JSON.parse(windowsArg ?? '[]') as Array<[number, number]>;
const top = Number(topArg ?? 40);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode): string => {
  const f = n.callFrame;
  const url = f.url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*wt-[a-z]+\//, '');
  return `${f.functionName || '(anon)'} ${url}:${f.lineNumber + 1}`;
};

const self = new Map<string, number>();
const chains = new Map<string, Map<string, number>>();
let t = profile.startTime;
let inside = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  if (windows.length > 0 && !windows.some(([a, b]) => t >= a && t <= b)) continue;
  const node = byId.get(profile.samples[i]!)!;
  const name = label(node);
  if (node.callFrame.functionName === '(idle)') idle += dt;
  inside += dt;
  self.set(name, (self.get(name) ?? 0) + dt);
  // The caller chain (up to 8 frames) of this sample, to tell who reached a hot leaf.
  const chain: string[] = [];
  for (let p = parent.get(node.id); p !== undefined && chain.length < 8; p = parent.get(p)) {
    const pn = byId.get(p)!;
    if (pn.callFrame.functionName === '(root)') break;
    chain.push(label(pn));
  }
  const m = chains.get(name) ?? new Map<string, number>();
  const key = chain.join(' < ');
  m.set(key, (m.get(key) ?? 0) + dt);
  chains.set(name, m);
}

console.log(`window time ${(inside / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms, busy ${((inside - idle) / 1000).toFixed(0)} ms`);
const sorted = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [name, us] of sorted) {
  console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  const callers = [...(chains.get(name) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 2);
  for (const [c, cu] of callers) if (c) console.log(`          ${(cu / 1000).toFixed(0).padStart(6)} ms < ${c.slice(0, 400)}`);
}
