// The consistency suite (../shared/spec/consistency-metrics.md): pure functions over typed arrays.
export * from './ensemble';
export * from './groups';
export * from './internal';
export * from './multiplicity';
export * from './order';
export * from './probability';
export * from './ranking';
export * from './suite';
