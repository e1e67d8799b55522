import type { RecommenderEngine } from '../../recommender-engine.js';
import { SEQ_SCORE_FUNCTION, seqArch } from '../arch.js';
import { seqStateOf } from '../init.js';
import { planSequenceTraining } from '../plan.js';
import { fitSeqJs } from './local-fit.js';
import { scoreSeqAllJs, scoreSeqJs } from './score.js';

/** The plan, the private state and the score function: what both engines of the seq model share. */
export function seqEngineCommon(): Pick<RecommenderEngine, 'numItems' | 'initialPrivate' | 'planFit' | 'privateFromHistory' | 'scoreFunction'> {
  return {
    numItems: (options) => seqArch(options).numItems,
    initialPrivate: (options) => seqStateOf(seqArch(options), []),
    planFit: (options, history, o) => planSequenceTraining(history, seqArch(options).numItems, { ...o, seqLen: seqArch(options).seqLen }),
    privateFromHistory: (options, history) => seqStateOf(seqArch(options), history),
    scoreFunction: () => [...SEQ_SCORE_FUNCTION],
  };
}

/** FedProx's term is built into the NCF engines only: a round config asking it of the seq model fails the fit, saying why. */
export function refuseProximal(o: { proximalMu?: number }): void {
  if ((o.proximalMu ?? 0) > 0) throw new Error(`the seq model does not implement FedProx (proximalMu ${o.proximalMu}); run it with proximalMu 0`);
}

/** The plain-JS seq engine: hand-written backprop, no tfjs (the default on CPU). */
export function seqJsEngine(): RecommenderEngine {
  return {
    kind: 'recommender',
    ...seqEngineCommon(),
    fit: (options, shared, priv, plan, o) => {
      refuseProximal(o);
      return fitSeqJs(seqArch(options), shared, priv, plan, o);
    },
    score: async (options, shared, priv, items) => scoreSeqJs(seqArch(options), shared, priv, items),
    scoreAll: async (options, shared, priv) => scoreSeqAllJs(seqArch(options), shared, priv),
  };
}
