// An app embedding the client SDK in Node: behaviour is recorded on the device, the device takes
// part in rounds, and recommendations are computed on the device after every model update.
//   npm start -- --model neumf --model-options '{"numItems":200}' &   # a coordinator
//   npm run example:node-app -- http://localhost:8080 .fedrec/device-1
// #region readme (README.md quotes this region; test/docs/readme.test.ts keeps the two identical)
import { createNodeClient, LiveRecsysTrainer, openFileStore } from '@fedrec/client-sdk/node/index.js';

const [url = 'http://localhost:8080', storeDir = '.fedrec/device-1'] = process.argv.slice(2);

// Events, the client id and the private embedding all live in this directory, on the device.
const store = await openFileStore(storeDir);
const trainer = new LiveRecsysTrainer({ store, user: 1, engine: 'js' });
const client = await createNodeClient({ url, store, trainer, backend: false });

// What the app sees the user do; item ids are the model's item indices (0 .. numItems-1).
if ((await store.count()) === 0) {
  for (const itemId of [3, 14, 15, 92, 65, 35]) await client.record({ itemId, kind: 'click' });
  await client.record({ itemId: 89, kind: 'rating', value: 5 });
}

client.on('fit:done', (e) => console.log(`round ${e.roundId}: sent a sealed delta of ${e.bytesSent} bytes (${e.numExamples} examples)`));
client.on('model:updated', ({ modelVersion }) => {
  client.recommend(5).then(
    (top) => console.log(`model v${modelVersion}: recommended ${top.map((r) => `${r.item} (${r.score.toFixed(3)})`).join(', ')}`),
    (err: unknown) => console.error(`model v${modelVersion}: recommend failed: ${err instanceof Error ? err.message : String(err)}`),
  );
});

const welcome = await client.connect();
// #endregion
console.log(`connected as ${client.clientId} to coordinator ${welcome.fingerprint} (model v${welcome.modelVersion}); Ctrl-C to stop`);
console.log(`recommended now: ${(await client.recommend(5)).map((r) => r.item).join(', ')}`);
process.on('SIGINT', () => void client.close().then(() => process.exit(0)));
