// The own-data page: a person picks a file of their events; the page parses it in the browser,
// records it on the device (IndexedDB), joins the coordinator and trains on it. Nothing but sealed deltas leaves.
import { createBrowserClient, openIndexedDbStore, type BehaviourInput, type FederatedClient } from '@fedrec/client-sdk/browser/index.js';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { explainConnectError } from '../../connect-errors.js';
import { parseEventsCsv } from '../../events-csv.js';
import { stableHash, syntheticHistoryFor } from '../../synthetic-history.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};

const page = { events: [] as BehaviourInput[], client: undefined as FederatedClient | undefined, rounds: 0, error: '' };
(globalThis as { fedrecOwnData?: unknown }).fedrecOwnData = page;

const status = await fetch('/api/status').then((r) => r.json() as Promise<{ modelSpec: { options: Record<string, unknown> } }>);
const numItems = Number(status.modelSpec.options['numItems'] ?? 0);
$('max-item').textContent = String(numItems - 1);

$('sample').addEventListener('click', (ev) => {
  ev.preventDefault();
  // A synthetic user's history, as a file a person could have exported from an app.
  const { events } = syntheticHistoryFor(`sample-${Date.now()}`);
  const text = ['itemId,kind,value,timestamp', ...events.map((e) => `${e.itemId},click,,${e.timestamp}`)].join('\n');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  a.download = 'my-events.csv';
  a.click();
});

async function loadFile(input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  $('file-error').textContent = '';
  page.events = [];
  if (!file) return;
  try {
    const events = parseEventsCsv(await file.text(), file.name);
    const outside = events.find((e) => typeof e.itemId !== 'number' || e.itemId >= numItems);
    if (outside) throw new Error(`${file.name}: item "${String(outside.itemId)}" is not in the catalogue (ids 0..${numItems - 1})`);
    if (events.length < 2) throw new Error(`${file.name}: needs at least 2 events (one is held out to measure the model)`);
    page.events = events;
    $('file-info').textContent = `${file.name}: ${events.length} events on ${new Set(events.map((e) => e.itemId)).size} items, kept in this browser`;
  } catch (err) {
    page.error = err instanceof Error ? err.message : String(err);
    $('file-error').textContent = page.error;
  }
  $<HTMLButtonElement>('join').disabled = page.events.length === 0 || page.client !== undefined;
}
$<HTMLInputElement>('file').addEventListener('change', (ev) => void loadFile(ev.target as HTMLInputElement));

let ranking: Promise<void> | undefined;
let rankAgain = false;
/** Re-ranks on the device; model updates that arrive meanwhile fold into one more pass, so ranking never piles up. */
async function showRecommendations(client: FederatedClient): Promise<void> {
  if (ranking) {
    rankAgain = true;
    return ranking;
  }
  ranking = (async () => {
    do {
      rankAgain = false;
      const top = await client.recommend(10);
      $('recs').innerHTML = top.map((r) => `<li>item ${r.item} <span class="hint">${r.score.toFixed(3)}</span></li>`).join('');
    } while (rankAgain);
  })().finally(() => (ranking = undefined));
  return ranking;
}

async function join(): Promise<void> {
  $<HTMLButtonElement>('join').disabled = true;
  $('connect-error').textContent = '';
  const store = await openIndexedDbStore({ name: 'fedrec-own-data' });
  // The file replaces what an earlier visit loaded: the device trains on exactly this file.
  await store.clearEvents();
  const clientId = `own-${crypto.randomUUID().slice(0, 8)}`;
  const trainer = new LiveRecsysTrainer({ store, user: stableHash(clientId) % 1_000_000 });
  const client = await createBrowserClient({ url: location.origin, store, trainer, clientId });
  for (const e of page.events) await client.record(e);
  client.on('fit:done', (e) => {
    page.rounds++;
    $('rounds').insertAdjacentHTML('afterbegin', `<li>round ${e.roundId}: sent a sealed delta of ${e.bytesSent} bytes (${e.numExamples} examples)</li>`);
  });
  client.on('model:updated', ({ modelVersion }) => {
    $('status').textContent = `connected as ${clientId} · model v${modelVersion} · ${page.rounds} rounds taken part in`;
    void showRecommendations(client);
  });
  try {
    const welcome = await client.connect();
    page.client = client;
    $('status').textContent = `connected as ${clientId} to ${welcome.fingerprint} · model v${welcome.modelVersion}`;
    await showRecommendations(client);
  } catch (err) {
    $('connect-error').textContent = explainConnectError(err, location.origin) ?? String(err);
    $<HTMLButtonElement>('join').disabled = false;
  }
}
$('join').addEventListener('click', () => void join());
