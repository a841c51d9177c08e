//! Contacts of a customer: add, edit, remove.

use super::Res;
use crate::state::AppState;
use kehu::contacts::{self, Contact, ContactFields};
use serde_json::{Map, Value};
use tauri::State;

#[tauri::command]
pub async fn contact_add(
    state: State<'_, AppState>,
    customer: String,
    fields: ContactFields,
) -> Res<Contact> {
    state.with(|ws| contacts::add(ws, &customer, fields))
}

#[tauri::command]
pub async fn contact_update(
    state: State<'_, AppState>,
    id: String,
    patch: Map<String, Value>,
) -> Res<Contact> {
    state.with(|ws| contacts::update(ws, &id, &patch))
}

#[tauri::command]
pub async fn contact_remove(state: State<'_, AppState>, id: String) -> Res<()> {
    state.with(|ws| contacts::remove(ws, &id))
}
