// Globals of the pages the e2e suites and benchmarks drive, which they read (or reset) with evaluate():
// the workbench webview's benchmark clocks (set by webview/workbench/main.ts, which declares them for the
// webview's own build), the empty reference webview's first paint (test/e2e/empty-webview/extension.js),
// the flag a hostile text would set if it ran (never set: the suites assert it stays undefined), and the
// text node the team suite keeps to see the status line replaced.
interface Window {
  __discretionTimings?: number[];
  __discretionPhases?: { posted: number; received: number; host: number; rendered: number; painted: number }[];
  __discretionFirstPaint?: number;
  __discretionCommits?: number[];
  __emptyFirstPaint?: number;
  __pwned?: unknown;
  e2eStatusNode?: ChildNode | null;
}
