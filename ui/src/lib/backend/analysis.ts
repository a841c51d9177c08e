// Commands of the Analysis page (src-tauri/src/commands/analysis.rs): the
// same numbers as `kehu report …`. Same contract as `api`: failures throw a
// UiError.

import { call } from './index';
import type { Bucket } from '../bindings/Bucket';
import type { Dashboard } from '../bindings/Dashboard';
import type { Dimension } from '../bindings/Dimension';
import type { Filter } from '../bindings/Filter';
import type { Funnel } from '../bindings/Funnel';
import type { HeatCell } from '../bindings/HeatCell';
import type { SegmentSummary } from '../bindings/SegmentSummary';
import type { Sources } from '../bindings/Sources';
import type { TargetReport } from '../bindings/TargetReport';
import type { TrendPoint } from '../bindings/TrendPoint';

export const analysis = {
  dashboard: (filter: Filter) => call<Dashboard>('analysis_dashboard', { filter }),
  pipelineFunnel: (filter: Filter) => call<Funnel>('analysis_pipeline_funnel', { filter }),
  customerFunnel: (filter: Filter) => call<Funnel>('analysis_customer_funnel', { filter }),
  trend: (filter: Filter, by: Bucket) => call<TrendPoint[]>('analysis_trend', { filter, by }),
  heatmap: (filter: Filter, rows: Dimension, cols: Dimension) =>
    call<HeatCell[]>('analysis_heatmap', { filter, rows, cols }),
  sources: (filter: Filter) => call<Sources>('analysis_sources', { filter }),
  segments: (ownerId: string | null) => call<SegmentSummary>('analysis_segments', { ownerId }),
  targets: (period: string) => call<TargetReport>('analysis_targets', { period }),
  exportXlsx: (filter: Filter, path: string) => call<void>('analysis_export', { filter, path }),
  exportPdf: (filter: Filter, path: string) => call<void>('analysis_export_pdf', { filter, path }),
};
