// The workbench use case: one annotator labelling pairs, alone (a queue) or in a team (claims), and what a
// label and its undo become in the store. The extension's panel drives the session; tests and the bench
// call the label functions directly.
export { WorkbenchSession, type SessionOptions } from './session';
export { PairTakenError, type FreedPairHooks } from './claims';
export { READ_AHEAD } from './cards';
export { saveLabel, undoLastLabel, submittedLabelState, type WorkbenchLabel } from './labels';
