// Discretion reports: model, charts and renderers. Pure (string output, no I/O), usable in the webview.
export * from './charts';
export * from './consistency';
export * from './csv';
export * from './escape';
export * from './html';
export * from './json';
export * from './markdown';
export * from './model';
export * from './sections';
