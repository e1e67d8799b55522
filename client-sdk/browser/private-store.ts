import { getFloat32, type BehaviourStore } from '../store/behaviour-store.js';

/** What a trainer needs to keep private tensors on the device (recsys's PrivateStore has this shape). */
export interface Float32KeyValue {
  get(key: string): Promise<Float32Array | undefined>;
  set(key: string, value: Float32Array): Promise<void>;
}

/** Private tensors (a user's own embedding) kept in the device's behaviour store under one prefix. */
export function privateTensorStore(store: BehaviourStore, prefix = 'fedrec:private:'): Float32KeyValue {
  return {
    get: (key) => getFloat32(store, prefix + key),
    set: (key, value) => store.set(prefix + key, value),
  };
}
