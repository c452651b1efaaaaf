// The typed protocol between the dashboard webview (webview/dashboard, "Discretion: Show Dashboard") and its
// panel (src/extension/dashboard.ts). The host validates every incoming message with parseDashboardMessage
// before acting on it; anything else is dropped.
import type { ReportModel } from '../core/report/model';

export const DASHBOARD_FORMATS = ['html', 'md', 'json', 'csv'] as const;
export type DashboardFormat = (typeof DASHBOARD_FORMATS)[number];

export type DashboardWebviewMessage =
  | { type: 'ready' }
  | { type: 'loadRun'; id: number }
  | { type: 'compute' }
  | { type: 'export'; formats: DashboardFormat[]; psAnnotator: string | null }
  /** "Export training data": the host asks for the format, the source and the target (src/app/training.ts). */
  | { type: 'exportTraining' }
  | { type: 'openPair'; pairIdx: number };

export interface RunSummary {
  id: number;
  label: string;
}

export type DashboardHostMessage =
  | { type: 'runs'; runs: RunSummary[]; current: number | null }
  | { type: 'model'; model: ReportModel; run: number | null }
  | { type: 'status'; text: string; error?: boolean };

const isInt = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** Returns the message when it is exactly one of the known shapes, otherwise null. */
export function parseDashboardMessage(msg: unknown): DashboardWebviewMessage | null {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return null;
  const m = msg as Record<string, unknown>;
  const keys = Object.keys(m).sort().join(',');
  switch (m.type) {
    case 'ready':
    case 'compute':
    case 'exportTraining':
      return keys === 'type' ? { type: m.type } : null;
    case 'loadRun':
      return keys === 'id,type' && isInt(m.id) ? { type: 'loadRun', id: m.id } : null;
    case 'openPair':
      return keys === 'pairIdx,type' && isInt(m.pairIdx) ? { type: 'openPair', pairIdx: m.pairIdx } : null;
    case 'export': {
      if (
        keys !== 'formats,psAnnotator,type' ||
        !Array.isArray(m.formats) ||
        m.formats.length === 0 ||
        m.formats.length > DASHBOARD_FORMATS.length
      )
        return null;
      if (!m.formats.every((f) => (DASHBOARD_FORMATS as readonly unknown[]).includes(f))) return null;
      if (m.psAnnotator !== null && (typeof m.psAnnotator !== 'string' || m.psAnnotator.length > 500)) return null;
      return {
        type: 'export',
        formats: [...new Set(m.formats as DashboardFormat[])],
        psAnnotator: m.psAnnotator as string | null,
      };
    }
    default:
      return null;
  }
}
