// The dashboard host drops every webview message that is not exactly one of the known shapes.
import { describe, expect, it } from 'vitest';
import { renderReportBody } from '../../src/core/report';
import { parseDashboardMessage } from '../../src/shared/dashboardProtocol';
import { fixture } from './fixture';

describe('dashboard messages', () => {
  it('accepts the known shapes', () => {
    expect(parseDashboardMessage({ type: 'ready' })).toEqual({ type: 'ready' });
    expect(parseDashboardMessage({ type: 'loadRun', id: 3 })).toEqual({ type: 'loadRun', id: 3 });
    expect(parseDashboardMessage({ type: 'openPair', pairIdx: 0 })).toEqual({ type: 'openPair', pairIdx: 0 });
    expect(parseDashboardMessage({ type: 'exportTraining' })).toEqual({ type: 'exportTraining' });
    expect(parseDashboardMessage({ type: 'export', formats: ['html', 'csv', 'html'], psAnnotator: null })).toEqual({
      type: 'export',
      formats: ['html', 'csv'],
      psAnnotator: null,
    });
  });
  it('rejects anything else', () => {
    for (const bad of [
      null,
      'ready',
      [],
      { type: 'ready', extra: 1 },
      { type: 'loadRun', id: -1 },
      { type: 'loadRun', id: 1.5 },
      { type: 'loadRun', id: '1' },
      { type: 'openPair', pairIdx: Number.NaN },
      { type: 'openPair', pairIdx: -1 },
      { type: 'openPair', index: 0 },
      { type: 'openPair', pairIdx: 0, index: 0 },
      { type: 'export', formats: ['pdf'], psAnnotator: null },
      { type: 'export', formats: [], psAnnotator: null },
      { type: 'export', formats: ['html'] },
      { type: 'export', formats: ['html'], psAnnotator: 5 },
      { type: 'runCommand', command: 'x' },
      // the host asks for the format, the source and the target itself: the webview names none of them
      { type: 'exportTraining', format: 'hf' },
      { type: 'exportTraining', out: '/etc/passwd' },
      { __proto__: { type: 'ready' } },
    ]) {
      expect(parseDashboardMessage(bad), JSON.stringify(bad)).toBeNull();
    }
  });
  it('the dashboard body links override pairs to the workbench with buttons (no command: URIs), the file body does not', () => {
    const { model } = fixture();
    const dash = renderReportBody(model, { mode: 'dashboard' });
    expect(dash).toContain('<button type="button" class="open-pair" data-pair="1">');
    expect(dash).not.toMatch(/command:|href="(?!#)/);
    expect(renderReportBody(model, { mode: 'file' })).not.toContain('open-pair');
  });
});
