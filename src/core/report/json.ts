// metrics.json: the metrics document (as `discretion metrics --json` prints it) plus the report's provenance,
// under a versioned schema id. The JSON Schema ships beside this file (metrics-report.schema.json).

import type { ReportModel } from './model';

export const REPORT_SCHEMA_ID = 'discretion-report/1';

/** The metrics.json value: every field of the metrics document unchanged, plus report_schema and provenance. */
export function toMetricsJson(model: ReportModel): Record<string, unknown> {
  const out: Record<string, unknown> = {
    report_schema: REPORT_SCHEMA_ID,
    ...model.metrics,
    provenance: model.provenance,
  };
  if (model.labelShares) out.label_shares = model.labelShares;
  if (model.consistency) out.consistency = model.consistency;
  if (model.overrides)
    out.consensus_overrides = { total_pairs: model.overrides.totalPairs, per_annotator: model.overrides.perAnnotator };
  return out;
}

export function renderMetricsJson(model: ReportModel): string {
  return JSON.stringify(toMetricsJson(model), null, 2) + '\n';
}
