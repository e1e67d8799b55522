import { dashboardExtension } from '@fedrec/dashboard';
import { demoExtension } from '@fedrec/examples/browser-demo/demo-extension.js';
import { wireMeterExtension } from '@fedrec/simulate/socket/wire-meter-extension.js';
import { extensionContract } from './extension.contract.js';

// Every extension the project ships runs the same contract.
extensionContract('dashboard', () => dashboardExtension());
extensionContract('wire meter (simulate)', () => wireMeterExtension());
extensionContract('browser demo page', () => demoExtension({ source: 'synthetic', items: [] }));
