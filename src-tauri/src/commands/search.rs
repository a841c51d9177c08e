//! Quick search (Ctrl+K): name, code, contacts, phones, tags, pinyin.

use super::Res;
use crate::state::AppState;
use kehu::customer_list::{self, CustomerRow};
use tauri::State;

#[tauri::command]
pub async fn quick_search(
    state: State<'_, AppState>,
    text: String,
    limit: Option<u32>,
) -> Res<Vec<CustomerRow>> {
    state.with(|ws| customer_list::quick_search(ws.conn(), &text, limit.unwrap_or(12)))
}
