// The device benchmark's page side: bundled for Chromium by bench/device.ts, driven by playwright.
import { selectBackend } from '@fedrec/client-sdk/browser/index.js';
import { measureDevice } from './measure.js';

(globalThis as { fedrecDeviceBench?: unknown }).fedrecDeviceBench = { selectBackend, measureDevice };
