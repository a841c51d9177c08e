//! Tags: list, create, rename/recolour, merge, delete, apply to many.

use super::Res;
use crate::state::AppState;
use kehu::tags::{self, Tag};
use tauri::State;

#[tauri::command]
pub async fn tag_list(state: State<'_, AppState>) -> Res<Vec<Tag>> {
    state.with(|ws| tags::list(ws.conn()))
}

#[tauri::command]
pub async fn tag_create(
    state: State<'_, AppState>,
    name: String,
    color: Option<String>,
) -> Res<Tag> {
    state.with(|ws| tags::create(ws, &name, color.as_deref()))
}

#[tauri::command]
pub async fn tag_edit(
    state: State<'_, AppState>,
    id: String,
    name: Option<String>,
    color: Option<String>,
) -> Res<Tag> {
    state.with(|ws| tags::edit(ws, &id, name.as_deref(), color.as_deref()))
}

#[tauri::command]
pub async fn tag_merge(state: State<'_, AppState>, from: String, into: String) -> Res<Tag> {
    state.with(|ws| tags::merge(ws, &from, &into))
}

#[tauri::command]
pub async fn tag_delete(state: State<'_, AppState>, id: String) -> Res<()> {
    state.with(|ws| tags::delete(ws, &id))
}

/// Add (or with `remove`, take off) a tag on many customers.
#[tauri::command]
pub async fn tag_apply(
    state: State<'_, AppState>,
    tag: String,
    customers: Vec<String>,
    remove: bool,
) -> Res<usize> {
    state.with(|ws| tags::apply_to_customers(ws, &tag, &customers, remove))
}
