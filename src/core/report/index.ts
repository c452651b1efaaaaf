// Discretion reports: model, charts and renderers. Pure (string output, no I/O), usable in the webview. The dataset
// card (card.ts, with the yaml package) is imported from its own module, so the webviews do not bundle it.
export * from './charts';
export * from './consistency';
export * from './csv';
export * from './escape';
export * from './html';
export * from './json';
export * from './markdown';
export * from './model';
export * from './sections';
