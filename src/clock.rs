//! Time. `Clock` lets tests fix "now"; `Hlc` is the hybrid logical clock
//! stamped on every change-log entry so that team sync can order changes from
//! different devices deterministically even when their wall clocks disagree.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub trait Clock: Send + Sync {
    fn now_ms(&self) -> Millis;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to, for tests.
#[derive(Debug, Clone, Default)]
pub struct FixedClock(Arc<AtomicI64>);

impl FixedClock {
    pub fn new(ms: Millis) -> Self {
        FixedClock(Arc::new(AtomicI64::new(ms)))
    }
    pub fn set(&self, ms: Millis) {
        self.0.store(ms, Ordering::SeqCst)
    }
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// Hybrid logical clock stamp: physical milliseconds in the high 48 bits, a
/// counter in the low 16. Stamps from one device strictly increase, also
/// across restarts (the last stamp is persisted) and when the wall clock steps
/// back.
pub const HLC_COUNTER_BITS: u32 = 16;

pub fn hlc_physical(stamp: i64) -> Millis {
    stamp >> HLC_COUNTER_BITS
}

/// The next local stamp after `last`, given wall time `now`.
pub fn hlc_next(last: i64, now: Millis) -> i64 {
    let candidate = now << HLC_COUNTER_BITS;
    if candidate > last {
        candidate
    } else {
        last + 1
    }
}

/// Advance the local clock past a stamp received from another device, so
/// that local changes made after seeing it sort after it.
pub fn hlc_observe(last: i64, remote: i64, now: Millis) -> i64 {
    hlc_next(last.max(remote), now)
}

/// UTC milliseconds to a local `YYYY-MM-DD HH:MM` for display.
pub fn format_local(ms: Millis) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Local calendar date (YYYYMMDD) of a UTC millisecond time.
pub fn local_date_compact(ms: Millis) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y%m%d").to_string())
        .unwrap_or_else(|| "19700101".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hlc_moves_forward_when_the_wall_clock_steps_back() {
        let a = hlc_next(0, 1_000);
        let b = hlc_next(a, 900);
        assert!(b > a);
        assert_eq!(hlc_physical(b), 1_000);
    }

    #[test]
    fn hlc_jumps_past_a_remote_stamp() {
        let local = hlc_next(0, 1_000);
        let remote = hlc_next(0, 5_000);
        let next = hlc_observe(local, remote, 1_001);
        assert!(next > remote);
    }
}
