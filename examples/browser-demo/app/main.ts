import './style.css';
import type { BehaviourEvent } from '@fedrec/client-sdk/browser/index.js';
import type { Catalog, CatalogItem } from '../catalog-types.js';
import { reasonText } from '@fedrec/client-sdk/trainers/explain.js';
import { DemoDevice } from './device.js';

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el;
};
const esc = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const kb = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`);

let catalog: Catalog = { source: 'synthetic', items: [] };
let titles = new Map<number, string>();
let events: BehaviourEvent[] = [];
const title = (item: number) => titles.get(item) ?? `item ${item}`;

function describe(e: BehaviourEvent): string {
  if (e.kind === 'rating') return `rated ${'★'.repeat(e.value ?? 0)}`;
  return e.kind === 'click' ? 'liked' : e.kind;
}

let renderedItems: string | undefined;

function renderItems(device: DemoDevice): void {
  const q = ($('search') as HTMLInputElement).value.trim().toLowerCase();
  const liked = new Set(events.filter((e) => e.kind === 'click' || (e.kind === 'rating' && (e.value ?? 0) >= 4)).map((e) => Number(e.itemId)));
  const list: CatalogItem[] = (
    q ? catalog.items.filter((i) => i.title.toLowerCase().includes(q)) : [...catalog.items].sort((a, b) => b.popularity - a.popularity)
  ).slice(0, 40);
  const html = list
    .map(
      (i) =>
        `<li data-item="${i.item}" class="${liked.has(i.item) ? 'liked' : ''}"><span class="title" title="${esc(i.title)}">${esc(i.title)}</span>` +
        `<button class="like" data-act="like">♥ like</button><span class="stars">${[1, 2, 3, 4, 5].map((v) => `<button data-act="rate" data-value="${v}">${v}★</button>`).join('')}</span></li>`,
    )
    .join('');
  // Rewritten only when it changed: every round re-renders the page, and replacing unchanged buttons
  // would pull them from under a click that is on its way.
  if (html !== renderedItems) $('items').innerHTML = renderedItems = html;
  void device;
}

function renderRecs(device: DemoDevice): void {
  $('recs').innerHTML = device.recommendations
    .map(
      (r) =>
        `<li data-item="${r.item}"><span class="title">${esc(title(r.item))}</span> <span class="score">${r.score.toFixed(3)}</span>` +
        (r.reason ? `<span class="reason">${esc(reasonText(r.reason, title))}</span>` : '') +
        '</li>',
    )
    .join('');
  $('rec-info').textContent = device.trainer.model
    ? `global model v${device.modelVersion} + your private embedding · re-ranked in ${device.lastRecommendMs.toFixed(0)} ms on ${device.client.backend ?? '?'}`
    : 'waiting for the global model…';
}

function renderActivity(): void {
  $('activity').innerHTML = events.length
    ? [...events]
        .reverse()
        .slice(0, 12)
        .map((e) => `<li>${describe(e)} <b>${esc(title(Number(e.itemId)))}</b></li>`)
        .join('')
    : '<li class="hint">nothing yet: like or rate a few titles</li>';
}

async function renderWire(device: DemoDevice): Promise<void> {
  const sent = device.participation.filter((p) => p.verdict !== 'declined');
  const bytes = sent.reduce((s, p) => s + p.bytesSent, 0);
  const accepted = sent.filter((p) => p.verdict === 'accepted').length;
  $('totals').innerHTML =
    `<div>rounds taken part in<b id="n-rounds">${sent.length}</b></div><div>accepted into the model<b>${accepted}</b></div><div>sealed bytes sent<b>${kb(bytes)}</b></div>`;
  $('rounds').querySelector('tbody')!.innerHTML =
    device.participation
      .slice(0, 14)
      .map(
        (p) =>
          `<tr><td>${p.roundId}</td><td>${p.bytesSent ? kb(p.bytesSent) : '–'}</td><td>${p.numExamples || '–'}</td><td class="v-${p.verdict}" title="${esc(p.note)}">${p.verdict}${p.verdict === 'declined' ? ': not enough liked items yet' : ''}</td></tr>`,
      )
      .join('') || '<tr><td colspan="4" class="hint">no rounds yet</td></tr>';
  const floats = await device.trainer.privateFloats();
  $('stays').innerHTML = [
    `${events.length} behaviour events (your likes and ratings), in IndexedDB`,
    `your private user embedding: ${floats} floats, in IndexedDB, never sent`,
    `which items you liked: only folded into the sealed delta's numbers`,
  ]
    .map((t) => `<li>${t}</li>`)
    .join('');
}

function renderStatus(device: DemoDevice): void {
  const c = device.client;
  const conn = $('s-conn');
  conn.textContent = c.connected ? 'connected' : c.status.state;
  conn.className = `pill ${c.connected ? 'on' : 'off'}`;
  $('s-backend').textContent = `tfjs ${c.backend ?? '…'}`;
  $('s-version').textContent = `model v${device.modelVersion}`;
  $('s-client').textContent = device.clientId;
}

async function renderAll(device: DemoDevice): Promise<void> {
  events = await device.events();
  renderStatus(device);
  renderItems(device);
  renderRecs(device);
  renderActivity();
  await renderWire(device);
}

async function main(): Promise<void> {
  catalog = (await (await fetch('/demo/catalog.json')).json()) as Catalog;
  titles = new Map(catalog.items.map((i) => [i.item, i.title]));
  $('catalog-source').textContent = `${catalog.items.length} titles (${catalog.source === 'movielens-100k' ? 'MovieLens 100K' : 'synthetic'})`;
  // The catalogue's popularity is the cold-start prior: a new visitor sees popular titles at once.
  const prior = new Float32Array(Math.max(0, ...catalog.items.map((i) => i.item + 1)));
  for (const i of catalog.items) prior[i.item] = i.popularity;
  const device = await DemoDevice.open(location.origin, prior);
  let pending = false;
  const rerender = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      void renderAll(device);
    });
  };
  device.onChange(rerender);
  $('search').addEventListener('input', () => renderItems(device));
  $('items').addEventListener('click', (ev) => {
    const button = (ev.target as HTMLElement).closest('button');
    const row = button?.closest('li');
    if (!button || !row) return;
    const item = Number(row.dataset['item']);
    const act = button.dataset['act'];
    if (act === 'like') void device.record(item, 'click');
    if (act === 'rate') void device.record(item, 'rating', Number(button.dataset['value']));
  });
  // For tests and the curious: the device as the page sees it.
  (globalThis as { fedrecDemo?: unknown }).fedrecDemo = {
    device,
    status: () => ({
      ...device.client.status,
      clientId: device.clientId,
      modelVersion: device.modelVersion,
      participation: device.participation,
      recommendations: device.recommendations,
    }),
  };
  await renderAll(device);
  await device.connect();
  await renderAll(device);
}

main().catch((err: unknown) => {
  document.body.insertAdjacentHTML('afterbegin', `<pre class="v-rejected">${esc(String(err instanceof Error ? (err.stack ?? err.message) : err))}</pre>`);
});
