// The first-run walkthrough (package.json contributes.walkthroughs, discretion.gettingStarted): each step
// completes on `onContext:<key>`, and the key is set here when the user has done the thing (the sample
// opened, a label stored from the workbench, the dashboard opened, metrics computed, a report exported),
// not when a command was merely opened. Context keys do not outlive the window: what was done is also
// kept in globalState and the keys are set again at activation.
import * as vscode from 'vscode';

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
  const steps = done(context);
  if (!steps.includes(step)) void context.globalState.update(STATE_KEY, [...steps, step]);
}

/** At activation: the keys of the steps done in an earlier window are set again. */
export function restoreWalkthrough(context: vscode.ExtensionContext): void {
  for (const step of done(context)) setKey(step);
}
