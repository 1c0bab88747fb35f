/**
 * One drill as a state machine over pod updates, run against a cluster: the engine the
 * worker and `oomtest run` drive.
 */
export { runDrill, type DrillDeps, type DrillTuning, type RunDrillOptions } from './run.js';
export {
  DrillMachine,
  ENDING_CODES,
  killMessage,
  parseBackoffSeconds,
  type Ending,
  type MachineOptions,
  type Transition,
} from './machine.js';
export { exitWords, restartWords, verdictOf, type Verdict, type VerdictInput } from './verdict.js';
export { TimeoutBudget } from './budget.js';
export type { DrillOutcome, DrillPhase, DrillProgress, DrillStatus, KillRecord } from './types.js';
