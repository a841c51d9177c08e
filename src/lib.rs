//! Kehu (客户): an offline-first CRM for salespeople. This crate is the core:
//! every business rule lives here, and the desktop app, the `kehu` CLI and
//! the tests all call the same functions.

pub mod alerts;
pub mod analysis;
pub mod atrest;
pub mod backup;
pub mod changelog;
pub mod clock;
pub mod contacts;
pub mod customer_list;
pub mod customers;
pub mod dates;
pub mod db;
pub mod dedupe;
pub mod demo;
pub mod error;
pub mod export;
pub mod fields;
pub mod followups;
pub mod i18n;
pub mod import;
pub mod list_index;
pub mod members;
pub mod memory;
pub mod opportunities;
pub mod pipeline;
pub mod reminders;
pub mod search;
pub mod settings;
pub mod sync;
pub mod sync_app;
pub mod tags;
pub mod template;
pub mod today;
pub mod validate;

pub use db::Workspace;
pub use error::{Error, Result};
pub use i18n::Lang;

/// A new entity id: UUIDv7 (time-ordered, unique across devices).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
