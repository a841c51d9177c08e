//! Team members and "me".

use super::Res;
use crate::state::AppState;
use kehu::members::{self, Member, MemberFields};
use serde_json::{Map, Value};
use tauri::State;

#[tauri::command]
pub async fn member_list(state: State<'_, AppState>) -> Res<Vec<Member>> {
    state.with(|ws| members::list(ws.conn()))
}

#[tauri::command]
pub async fn member_add(state: State<'_, AppState>, fields: MemberFields) -> Res<Member> {
    state.with(|ws| members::add(ws, fields))
}

#[tauri::command]
pub async fn member_update(
    state: State<'_, AppState>,
    id: String,
    patch: Map<String, Value>,
) -> Res<Member> {
    state.with(|ws| members::update(ws, &id, &patch))
}

#[tauri::command]
pub async fn member_remove(state: State<'_, AppState>, id: String) -> Res<()> {
    state.with(|ws| members::remove(ws, &id))
}

#[tauri::command]
pub async fn member_set_me(state: State<'_, AppState>, id: String) -> Res<Member> {
    state.with(|ws| members::set_me(ws, &id))
}
