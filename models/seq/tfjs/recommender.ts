import type { RecommenderEngine } from '../../recommender-engine.js';
import { seqArch } from '../arch.js';
import { refuseProximal, seqEngineCommon } from '../engine/recommender.js';
import { fitSeqTf, scoreSeqTf } from './local-fit.js';

/** The tfjs seq engine on the active backend (wasm, webgl, webgpu, cpu): the rule's choice on GPU backends. */
export function seqTfjsEngine(): RecommenderEngine {
  return {
    kind: 'recommender',
    ...seqEngineCommon(),
    fit: (options, shared, priv, plan, o) => {
      refuseProximal(o);
      return fitSeqTf(seqArch(options), shared, priv, plan, o);
    },
    score: (options, shared, priv, items) => scoreSeqTf(seqArch(options), shared, priv, items),
    scoreAll: (options, shared, priv) =>
      scoreSeqTf(
        seqArch(options),
        shared,
        priv,
        Int32Array.from({ length: seqArch(options).numItems }, (_, i) => i),
      ),
  };
}
