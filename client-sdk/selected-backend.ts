import type { TfjsBackendInfo } from '@fedrec/models/engine-choice.js';

// The tfjs backend selectBackend chose, kept apart from backend.ts so that reading it (the engine
// rule does, in every trainer) never loads tfjs into a process that trains with the plain-JS engine.
let selected: TfjsBackendInfo | undefined;

/** The chosen backend with the candidate that provided it (what the engine rule reads), or undefined before selection. */
export function currentBackendInfo(): TfjsBackendInfo | undefined {
  return selected ? { ...selected } : undefined;
}

export function setSelectedBackend(info: TfjsBackendInfo | undefined): void {
  selected = info ? { ...info } : undefined;
}
