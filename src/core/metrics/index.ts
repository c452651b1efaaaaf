// Discretion metrics engine (Buyl et al., "AI Alignment at Your Discretion", FAccT 2025; spec in
// ../shared/spec/discretion-metrics.md). Pure, synchronous TypeScript over typed arrays: no I/O.

export * from './analyze';
export * from './agreement';
export * from './categories';
export * from './conflicts';
export * from './da';
export * from './dd';
export * from './priority';
export * from './prng';
export * from './ranks';
export * from './stats';
