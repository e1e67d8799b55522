// Samples GET /api/status every 50 ms from its own process (so its event loop is not the coordinator's)
// and reports each latency to the parent on request.
const [url] = process.argv.slice(2);
const latencies: Array<[at: number, ms: number]> = [];
let running = true;
process.on('message', (m) => {
  if (m === 'stop') {
    running = false;
    process.send?.({ latencies });
    setTimeout(() => process.exit(0), 50);
  }
});
while (running) {
  const t0 = performance.now();
  try {
    await (await fetch(`${url}/api/status`)).arrayBuffer();
    latencies.push([Date.now(), performance.now() - t0]);
  } catch {
    latencies.push([Date.now(), Number.POSITIVE_INFINITY]);
  }
  await new Promise((r) => setTimeout(r, 50));
}
