//! The Analysis page: dashboard, funnels, trends, heatmap, sources,
//! segments, targets, the report workbook and the PDF report. Each command is the core
//! function of the same name (src/analysis/), so the page shows exactly the
//! numbers of `kehu report …`.

use super::Res;
use crate::state::AppState;
use kehu::analysis::segments::{self, Badge, SegmentRules, SegmentSummary};
use kehu::analysis::targets::{self, TargetReport};
use kehu::analysis::{
    self, Bucket, Dashboard, Dimension, Filter, Funnel, HeatCell, Sources, TrendPoint,
};
use std::path::PathBuf;
use tauri::State;

#[tauri::command]
pub async fn analysis_dashboard(state: State<'_, AppState>, filter: Filter) -> Res<Dashboard> {
    state.with(|ws| {
        let now = ws.now_ms();
        analysis::dashboard(ws.conn(), &filter.validated()?, now)
    })
}

#[tauri::command]
pub async fn analysis_pipeline_funnel(state: State<'_, AppState>, filter: Filter) -> Res<Funnel> {
    state.with(|ws| analysis::pipeline_funnel(ws.conn(), &filter.validated()?, ws.lang))
}

#[tauri::command]
pub async fn analysis_customer_funnel(state: State<'_, AppState>, filter: Filter) -> Res<Funnel> {
    state.with(|ws| analysis::customer_funnel(ws.conn(), &filter.validated()?, ws.lang))
}

#[tauri::command]
pub async fn analysis_trend(
    state: State<'_, AppState>,
    filter: Filter,
    by: Bucket,
) -> Res<Vec<TrendPoint>> {
    state.with(|ws| analysis::trend(ws.conn(), &filter.validated()?, by))
}

#[tauri::command]
pub async fn analysis_heatmap(
    state: State<'_, AppState>,
    filter: Filter,
    rows: Dimension,
    cols: Dimension,
) -> Res<Vec<HeatCell>> {
    state.with(|ws| analysis::heatmap(ws.conn(), &filter.validated()?, rows, cols))
}

#[tauri::command]
pub async fn analysis_sources(state: State<'_, AppState>, filter: Filter) -> Res<Sources> {
    state.with(|ws| analysis::sources(ws.conn(), &filter.validated()?, ws.lang))
}

#[tauri::command]
pub async fn analysis_segments(
    state: State<'_, AppState>,
    owner_id: Option<String>,
) -> Res<SegmentSummary> {
    state.with(|ws| segments::summary(ws.conn(), owner_id.as_deref(), ws.lang))
}

/// The segments one customer is in, with their recommended actions.
#[tauri::command]
pub async fn customer_segments(state: State<'_, AppState>, id: String) -> Res<Vec<Badge>> {
    state.with(|ws| segments::of_customer(ws.conn(), &id, ws.lang))
}

#[tauri::command]
pub async fn segment_rules_get(state: State<'_, AppState>) -> Res<SegmentRules> {
    state.with(|ws| segments::rules(ws.conn()))
}

/// Save the segment rules (thresholds, matching tags, phrases, recommended
/// actions); every customer is recomputed.
#[tauri::command]
pub async fn segment_rules_set(
    state: State<'_, AppState>,
    rules: SegmentRules,
) -> Res<SegmentRules> {
    state.with(|ws| {
        segments::set_rules(ws, rules)?;
        segments::rules(ws.conn())
    })
}

/// Targets of a month or quarter (`2026-11`, `2026-Q4`).
#[tauri::command]
pub async fn analysis_targets(state: State<'_, AppState>, period: String) -> Res<TargetReport> {
    state.with(|ws| {
        let now = ws.now_ms();
        targets::report(ws.conn(), &period, now, ws.lang)
    })
}

/// Write the report workbook (xlsx, one sheet per metric, native charts).
#[tauri::command]
pub async fn analysis_export(state: State<'_, AppState>, filter: Filter, path: String) -> Res<()> {
    state.with(|ws| {
        let now = ws.now_ms();
        analysis::xlsx::write_report(
            ws.conn(),
            &filter.validated()?,
            now,
            ws.lang,
            &PathBuf::from(&path),
        )
    })
}

/// Write the PDF report (销售报告: key figures, funnel and trend charts,
/// tables by owner, source, loss reason and segment; A4, CJK font embedded).
#[tauri::command]
pub async fn analysis_export_pdf(
    state: State<'_, AppState>,
    filter: Filter,
    path: String,
) -> Res<()> {
    state.with(|ws| {
        let now = ws.now_ms();
        analysis::pdf::write_report(
            ws.conn(),
            &filter.validated()?,
            now,
            ws.lang,
            &PathBuf::from(&path),
        )
    })
}
