//! Helpers shared by the integration tests: a workspace in a temporary
//! directory with a fixed clock.
#![allow(dead_code)]

use kehu::clock::FixedClock;
use kehu::contacts::ContactFields;
use kehu::customers::{self, Customer, CustomerFields, NewCustomer};
use kehu::Workspace;
use std::sync::Arc;

/// 2026-11-24 10:00 UTC.
pub const T0: i64 = 1_763_978_400_000;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub ws: Workspace,
    pub clock: FixedClock,
}

pub fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(T0);
    let ws =
        Workspace::open_with_clock(dir.path().join("kehu.db"), Arc::new(clock.clone())).unwrap();
    Env { dir, ws, clock }
}

pub fn contact(name: &str, mobile: &str) -> ContactFields {
    ContactFields {
        name: name.into(),
        mobile: Some(mobile.into()),
        ..Default::default()
    }
}

pub fn add(
    ws: &mut Workspace,
    name: &str,
    contacts: Vec<ContactFields>,
    tags: &[&str],
) -> Customer {
    customers::create(
        ws,
        NewCustomer {
            fields: CustomerFields::named(name),
            contacts,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        },
    )
    .unwrap()
}

pub fn patch(pairs: &[(&str, serde_json::Value)]) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}
