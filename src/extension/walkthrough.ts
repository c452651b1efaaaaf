// The first-run walkthrough (package.json contributes.walkthroughs, discretion.gettingStarted): each step
// completes on `onContext:<key>`, and the key is set here when the user has done the thing (the sample
// opened, a label stored from the workbench, the dashboard opened, metrics computed, a report exported),
// not when a command was merely opened. Context keys do not outlive the window: what was done is also
// kept in globalState and the keys are set again at activation.
//
// VS Code creates its walkthrough service only when something first needs it (the Welcome page, a
// walkthrough opened): a completion key that is already set when that service registers the walkthrough
// never ticks its step in that window (VS Code 1.139 notes the event as seen without progressing the step).
// So markDone also runs `welcome.markStepComplete`, the command behind the walkthrough's own check boxes,
// which creates the service if need be, ticks the step and has VS Code remember it.
import * as vscode from 'vscode';

export const WALKTHROUGH_ID = 'discretion.gettingStarted';

/** Each walkthrough step's context key, in the walkthrough's order. */
export const WALKTHROUGH_KEYS = {
  sample: 'discretion.walkthrough.sampleOpened',
  label: 'discretion.walkthrough.pairLabelled',
  dashboard: 'discretion.walkthrough.dashboardOpened',
  metrics: 'discretion.walkthrough.metricsComputed',
  report: 'discretion.walkthrough.reportExported',
} as const;

export type WalkthroughStep = keyof typeof WALKTHROUGH_KEYS;

const STATE_KEY = 'discretion.walkthroughDone';
/** The keys set in this window (markDone runs on every label committed: one message to VS Code, not one a label). */
const set = new Set<WalkthroughStep>();

function setKey(step: WalkthroughStep): void {
  set.add(step);
  void vscode.commands.executeCommand('setContext', WALKTHROUGH_KEYS[step], true);
}

function done(context: vscode.ExtensionContext): WalkthroughStep[] {
  const steps = context.globalState.get<unknown>(STATE_KEY);
  if (!Array.isArray(steps)) return [];
  return steps.filter((s): s is WalkthroughStep => typeof s === 'string' && Object.hasOwn(WALKTHROUGH_KEYS, s));
}

/** The user has done `step`: its context key is set (the walkthrough ticks it) and remembered. */
export function markDone(context: vscode.ExtensionContext, step: WalkthroughStep): void {
  if (set.has(step)) return;
  setKey(step);
  // (an internal command: should a VS Code lack it, the context key above still ticks the step)
  vscode.commands
    .executeCommand('welcome.markStepComplete', `${context.extension.id}#${WALKTHROUGH_ID}#${step}`)
    .then(undefined, () => undefined);
  const steps = done(context);
  if (!steps.includes(step)) void context.globalState.update(STATE_KEY, [...steps, step]);
}

/** At activation: the keys of the steps done in an earlier window are set again. */
export function restoreWalkthrough(context: vscode.ExtensionContext): void {
  for (const step of done(context)) setKey(step);
}
