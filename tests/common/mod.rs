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

/// A deal of `amount` on `customer`, opened at time `t` (first stage).
pub fn deal_at(e: &mut Env, t: i64, customer: &str, amount: f64) -> String {
    use kehu::opportunities::{self, NewOpportunity, OpportunityFields};
    e.clock.set(t);
    opportunities::create(
        &mut e.ws,
        NewOpportunity {
            customer: customer.into(),
            fields: OpportunityFields {
                name: "项目".into(),
                expected_amount: Some(amount),
                ..Default::default()
            },
            stage: None,
        },
    )
    .unwrap()
    .id
}

/// A follow-up on `customer` recorded as done at time `t`.
pub fn followup_done_at(
    e: &mut Env,
    t: i64,
    customer: &str,
    fields: kehu::followups::FollowupFields,
) {
    use kehu::followups::{self, NewFollowup};
    e.clock.set(t);
    followups::add(
        &mut e.ws,
        NewFollowup {
            customer: customer.into(),
            fields,
            done: true,
            ..Default::default()
        },
    )
    .unwrap();
}

/// Every index of the schema with its definition, by name: what a bulk load
/// that set indexes aside must end with.
pub fn index_definitions(ws: &Workspace) -> Vec<(String, Option<String>)> {
    ws.conn()
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// SQLite's own check of the file: "ok" when sound.
pub fn integrity(ws: &Workspace) -> String {
    ws.conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// Customers that have duplicate keys: each one stored and indexed has.
pub fn customers_with_name_keys(ws: &Workspace) -> i64 {
    ws.conn()
        .query_row(
            "SELECT count(DISTINCT customer_id) FROM dedupe_keys",
            [],
            |r| r.get(0),
        )
        .unwrap()
}
