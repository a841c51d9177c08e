//! Customers: the list, one customer, create/edit, trash, owner, history.

use super::Res;
use crate::state::AppState;
use kehu::changelog::HistoryEntry;
use kehu::customer_list::{self, CustomerQuery, CustomerRow, Facets, Page};
use kehu::customers::{self, Customer, NewCustomer};
use serde::Serialize;
use serde_json::{Map, Value};
use tauri::State;
use ts_rs::TS;

#[tauri::command]
pub async fn customer_list(
    state: State<'_, AppState>,
    query: CustomerQuery,
) -> Res<Page<CustomerRow>> {
    state.with(|ws| customer_list::page(ws, &query))
}

#[tauri::command]
pub async fn customer_facets(state: State<'_, AppState>) -> Res<Facets> {
    state.with(|ws| customer_list::facets(ws.conn()))
}

/// The preset choices offered in the customer form.
#[derive(Serialize, TS)]
#[ts(export)]
pub struct CustomerOptions {
    pub industries: Vec<String>,
    pub sources: Vec<String>,
    pub sizes: Vec<String>,
}

#[tauri::command]
pub async fn customer_options() -> Res<CustomerOptions> {
    let own = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
    Ok(CustomerOptions {
        industries: own(customers::INDUSTRIES),
        sources: own(customers::SOURCES),
        sizes: own(customers::SIZES),
    })
}

#[tauri::command]
pub async fn customer_get(state: State<'_, AppState>, id: String) -> Res<Customer> {
    state.with(|ws| customers::get(ws.conn(), &id))
}

#[tauri::command]
pub async fn customer_create(state: State<'_, AppState>, customer: NewCustomer) -> Res<Customer> {
    state.with(|ws| customers::create(ws, customer))
}

#[tauri::command]
pub async fn customer_update(
    state: State<'_, AppState>,
    id: String,
    patch: Map<String, Value>,
) -> Res<Customer> {
    state.with(|ws| customers::update(ws, &id, &patch))
}

#[tauri::command]
pub async fn customer_delete(state: State<'_, AppState>, ids: Vec<String>) -> Res<usize> {
    state.with(|ws| customers::delete(ws, &ids))
}

#[tauri::command]
pub async fn customer_restore(state: State<'_, AppState>, ids: Vec<String>) -> Res<usize> {
    state.with(|ws| customers::restore(ws, &ids))
}

#[tauri::command]
pub async fn customer_purge(state: State<'_, AppState>, ids: Vec<String>) -> Res<usize> {
    state.with(|ws| customers::purge(ws, &ids))
}

#[tauri::command]
pub async fn customer_history(state: State<'_, AppState>, id: String) -> Res<Vec<HistoryEntry>> {
    state.with(|ws| customers::history(ws.conn(), &id))
}

#[tauri::command]
pub async fn customer_assign_owner(
    state: State<'_, AppState>,
    ids: Vec<String>,
    owner_id: Option<String>,
) -> Res<usize> {
    state.with(|ws| customers::assign_owner(ws, &ids, owner_id.as_deref()))
}
