//! Opportunities and the pipeline board: create, move between stages
//! (输单 needs a reason), stage history with time in each stage.

use super::Res;
use crate::state::AppState;
use kehu::opportunities::{
    self, BoardColumn, NewOpportunity, Opportunity, OpportunityQuery, StageStay,
};
use kehu::pipeline::{self, Stage};
use tauri::State;

/// Most cards shown per column (longest in stage first); counts and sums cover all.
const CARDS_PER_COLUMN: usize = 200;

#[tauri::command]
pub async fn pipeline_board(
    state: State<'_, AppState>,
    owner_id: Option<String>,
) -> Res<Vec<BoardColumn>> {
    state.with(|ws| opportunities::board(ws.conn(), owner_id.as_deref(), CARDS_PER_COLUMN, ws.lang))
}

#[tauri::command]
pub async fn pipeline_stages(state: State<'_, AppState>) -> Res<Vec<Stage>> {
    state.with(|ws| pipeline::stages(ws.conn()))
}

#[tauri::command]
pub async fn opportunity_list(
    state: State<'_, AppState>,
    query: OpportunityQuery,
) -> Res<Vec<Opportunity>> {
    state.with(|ws| opportunities::list(ws.conn(), &query, ws.lang))
}

#[tauri::command]
pub async fn opportunity_create(
    state: State<'_, AppState>,
    opportunity: NewOpportunity,
) -> Res<Opportunity> {
    state.with(|ws| opportunities::create(ws, opportunity))
}

#[tauri::command]
pub async fn opportunity_set_stage(
    state: State<'_, AppState>,
    id: String,
    stage: String,
    reason: Option<String>,
) -> Res<Opportunity> {
    state.with(|ws| opportunities::set_stage(ws, &id, &stage, reason.as_deref()))
}

#[tauri::command]
pub async fn opportunity_history(state: State<'_, AppState>, id: String) -> Res<Vec<StageStay>> {
    state.with(|ws| {
        let now = ws.now_ms();
        opportunities::stage_history(ws.conn(), &id, now, ws.lang)
    })
}
