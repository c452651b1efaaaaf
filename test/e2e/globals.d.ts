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
  // the benchmarks' own (scripts/e2e-bench.mjs, scripts/e2e-webview-bench.mjs): the Enter keydowns'
  // timestamps and the browser's Event Timing entries of keydowns ([startTime, duration]); the webview
  // bench's stub host (its cards, and the VS Code API it stands in for)
  __benchEnters?: number[];
  __benchEventTimings?: [number, number][];
  __cardFor?: (pairIdx: number, seq: number) => { pairIdx: number; seq: number };
  acquireVsCodeApi?: () => { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
}
