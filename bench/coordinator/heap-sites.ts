// Reads a sampling heap profile (coordinator-run.ts's `heapProfile`, or DevTools' .heapprofile) and prints the
// bytes allocated per function (self: allocated in that frame), with the heaviest frames' caller chains.
// Usage: node --import tsx bench/coordinator/heap-sites.ts FILE.heapprofile [updates] [top]
// With `updates` (the round's accepted updates) the figures are also per update.
import { readFileSync } from 'node:fs';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const [file, updatesArg, topArg] = process.argv.slice(2);
const { head } = JSON.parse(readFileSync(file!, 'utf8')) as { head: HeapNode };
const updates = Number(updatesArg ?? 0);
const top = Number(topArg ?? 30);

const label = (n: HeapNode): string => {
  const f = n.callFrame;
  const url = f.url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*wt-[a-z0-9-]+\//, '');
  return `${f.functionName || '(anon)'} ${url}:${f.lineNumber + 1}`;
};

const self = new Map<string, number>();
const chains = new Map<string, Map<string, number>>();
let total = 0;
function walk(n: HeapNode, path: string[]): void {
  const here = [...path, label(n)];
  if (n.selfSize > 0) {
    const key = label(n);
    total += n.selfSize;
    self.set(key, (self.get(key) ?? 0) + n.selfSize);
    const chain = here.slice(-6, -1).reverse().join(' < ');
    const c = chains.get(key) ?? new Map<string, number>();
    c.set(chain, (c.get(chain) ?? 0) + n.selfSize);
    chains.set(key, c);
  }
  for (const c of n.children) walk(c, here);
}
walk(head, []);

const kb = (b: number): string => `${(b / 1024).toFixed(0)} KB${updates > 0 ? ` (${(b / 1024 / updates).toFixed(2)} KB/update)` : ''}`;
console.log(`sampled allocations: ${kb(total)}`);
const ranked = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [key, bytes] of ranked) {
  console.log(`${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${kb(bytes)}  ${key}`);
  const best = [...chains.get(key)!].sort((a, b) => b[1] - a[1]).slice(0, 2);
  for (const [chain, b] of best) console.log(`         ${((100 * b) / bytes).toFixed(0)}% from ${chain}`);
}
