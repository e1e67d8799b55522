import type { CoordinatorExtension } from '@fedrec/coordinator';
import { WireMeter } from '@fedrec/dashboard/wire-meter.js';

/** Counts bytes on the clients' connections, so a simulation can report traffic per round. */
export function wireMeterExtension(): CoordinatorExtension & { meter: WireMeter } {
  const meter = new WireMeter();
  return { name: 'wire-meter', meter, attach: ({ io }) => meter.attach(io) };
}
