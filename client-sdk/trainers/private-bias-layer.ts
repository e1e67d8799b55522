// client-sdk/index.ts still exports PrivateBias from here; the layer lives with the model that uses it.
export { PrivateBias } from '@fedrec/models/private-bias-layer.js';
