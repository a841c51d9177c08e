//! Snapshots: the compacted merge state, so a new device joins without
//! replaying every entry, and old segments can be pruned.
//!
//! A snapshot is a sync file of kind `snapshot` (same format, checksum,
//! temp + fsync + rename and encryption as a segment) written by a device
//! into its own folder as `<own hlc>.ksnap`. It holds one section per
//! device: the winning register entries of that device (`sync_reg`), with
//! `prev_hlc = 0` and `hlc_to` = how far the writer had that device's
//! entries (its watermark). Applying it with the ordinary merge gives the
//! registers, hence the rows, of a device that replayed everything up to
//! those watermarks; later segments continue from there.
//!
//! Pruning: a device removes its own segments once (1) its *older* kept
//! snapshot covers them (so a damaged newest snapshot still leaves a whole
//! path), (2) every device with a folder in the team says in its
//! `device.json` (`seen`) that it has applied them, and (3) they are older
//! than the retention setting (`sync_retention_days`, default 14).

use super::*;

/// A device writes a snapshot once this many entries arrived or were made
/// since its last one (meta `sync_snapshot_every`).
pub const SNAPSHOT_EVERY: i64 = 20_000;
/// Segments younger than this are kept (meta `sync_retention_days`).
pub const RETENTION_DAYS: i64 = 14;
/// Own snapshots kept (the newest and the one before it).
const KEEP: usize = 2;

/// How far the writer has each device's entries: own = exported, peers =
/// applied.
fn watermarks(conn: &Connection, me: &str) -> Result<BTreeMap<String, i64>> {
    let mut w: BTreeMap<String, i64> = conn
        .prepare("SELECT device_id, applied_hlc FROM sync_peers WHERE applied_hlc > 0")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let own = meta_i64(conn, "sync_exported_hlc")?;
    if own > 0 {
        w.insert(me.to_string(), own);
    }
    w.remove("");
    Ok(w)
}

/// The sections of a snapshot of this workspace's merge state.
pub fn sections(conn: &Connection, me: &str) -> Result<Vec<Section>> {
    let w = watermarks(conn, me)?;
    let mut out = vec![];
    let mut stmt = conn.prepare(
        "SELECT hlc, entity, entity_id, field, value, at, base_hlc, base_device FROM sync_reg
         WHERE device = ?1 AND hlc <= ?2 ORDER BY hlc, entity, entity_id, field",
    )?;
    for (device, &to) in &w {
        let entries: Vec<Entry> = stmt
            .query_map(params![device, to], |r| {
                Ok(Entry {
                    hlc: r.get(0)?,
                    actor: None,
                    entity: r.get(1)?,
                    entity_id: r.get(2)?,
                    field: r.get(3)?,
                    old: None,
                    new: parse(r.get(4)?),
                    at: r.get(5)?,
                    origin: "s".into(),
                    base_hlc: r.get(6)?,
                    base_device: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.push(Section {
            device: device.clone(),
            prev_hlc: 0,
            hlc_from: entries.first().map_or(0, |e| e.hlc),
            hlc_to: to,
            count: entries.len(),
            entries,
            lines: None,
        });
    }
    Ok(out)
}

pub(super) fn snap_name(name: &str) -> Option<i64> {
    if segment::is_conflict_copy(name) {
        return None;
    }
    i64::from_str_radix(name.strip_suffix(".ksnap")?, 16).ok()
}

/// Own snapshot files in the shared place, oldest first.
fn own_snapshots(cfg: &SyncConfig, t: &dyn Transport, me: &str) -> Vec<(i64, String)> {
    let dir = cfg.device_dir(me);
    let mut v: Vec<(i64, String)> = t
        .list(&dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, d)| !d)
        .filter_map(|(n, _)| snap_name(&n).map(|h| (h, format!("{dir}/{n}"))))
        .collect();
    v.sort();
    v
}

/// Write a snapshot when enough has happened since the last one this
/// device wrote and since the newest one of another device (`others`: its
/// hlc; -1 = write now). Returns the file written.
pub fn maybe_write(
    ws: &mut Workspace,
    cfg: &SyncConfig,
    t: &dyn Transport,
    others: i64,
) -> Result<Option<String>> {
    let force = others < 0;
    let conn = ws.conn();
    let end: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    let every = meta(conn, "sync_snapshot_every")?
        .and_then(|s| s.parse().ok())
        .unwrap_or(SNAPSHOT_EVERY);
    let last = meta_i64(conn, "sync_snapshot_seq")?;
    if !force && (every <= 0 || end - last < every) {
        return Ok(None);
    }
    if !force && others > 0 {
        // Another device's snapshot is recent enough: one is plenty.
        let since: i64 = conn.query_row(
            "SELECT count(*) FROM changes WHERE hlc > ?1",
            [others],
            |r| r.get(0),
        )?;
        if since < every {
            set_meta(conn, "sync_snapshot_seq", &end.to_string())?;
            return Ok(None);
        }
    }
    let me = ws.device_id().to_string();
    // Only when everything of this device is sent: the snapshot then holds
    // every own register.
    let ingested = meta_i64(conn, "sync_ingested_seq")?;
    let pending: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM changes WHERE device_id = ?1 AND hlc > ?2 AND seq <= ?3)",
        params![me, meta_i64(conn, "sync_exported_hlc")?, ingested],
        |r| r.get(0),
    )?;
    if pending && !force {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    let secs = sections(conn, &me)?;
    let own = secs
        .iter()
        .map(|s| s.hlc_to)
        .max()
        .unwrap_or(0)
        .max(meta_i64(conn, "sync_exported_hlc")?);
    if secs.is_empty() {
        return Ok(None);
    }
    let key = team_key(ws)?;
    let bytes = seal(key.as_ref(), segment::encode("snapshot", &me, &secs)?);
    let path = format!("{}/{own:016x}.ksnap", cfg.device_dir(&me));
    t.write(&path, &bytes)
        .map_err(|e| sync_err(unwritable(&t.label(&path), &e)))?;
    set_meta(ws.conn(), "sync_snapshot_seq", &end.to_string())?;
    phase("snapshot", started);
    // Older own snapshots beyond the newest KEEP go.
    let snaps = own_snapshots(cfg, t, &me);
    if snaps.len() > KEEP {
        for (_, p) in &snaps[..snaps.len() - KEEP] {
            let _ = t.remove(p);
        }
    }
    Ok(Some(t.label(&path)))
}

/// The newest readable snapshot of the team other than this device's own
/// and newer than `after`: its stamp and sections, their entries still as
/// text (parsed during the merge, see [`segment::decode_lazy`]). Damaged
/// ones are reported and the next older tried.
pub fn newest(
    ws: &Workspace,
    cfg: &SyncConfig,
    t: &dyn Transport,
    key: Option<&(KeyParams, TeamKey)>,
    report: &mut SyncReport,
    after: i64,
) -> Result<Option<(i64, Vec<Section>)>> {
    let devices_dir = format!("{}/devices", cfg.team_dir());
    let mut found: Vec<(i64, String)> = vec![];
    for (d, is_dir) in t.list(&devices_dir).unwrap_or_default() {
        if !is_dir || d == ws.device_id() {
            continue;
        }
        let dir = format!("{devices_dir}/{d}");
        for (n, is_dir) in t.list(&dir).unwrap_or_default() {
            if let Some(h) = snap_name(&n).filter(|&h| !is_dir && h > after) {
                found.push((h, format!("{dir}/{n}")));
            }
        }
    }
    found.sort();
    for (hlc, path) in found.into_iter().rev() {
        let label = t.label(&path);
        let decoded = t
            .read(&path)
            .map_err(|e| Bad::Damaged(e.to_string()))
            .and_then(|b| unseal(key, &b))
            .and_then(|b| segment::decode_lazy(&b));
        match decoded {
            Ok((kind, secs)) if kind == "snapshot" => return Ok(Some((hlc, secs))),
            Ok(_) => {}
            Err(bad) => skip_bad_file(ws, report, &label, &bad, ws.now_ms())?,
        }
    }
    Ok(None)
}

/// Remove own segments every known device has applied, that the older
/// kept snapshot covers, and that are older than the retention. Returns
/// how many were removed.
pub fn prune(
    ws: &Workspace,
    cfg: &SyncConfig,
    t: &dyn Transport,
    seen: &BTreeMap<String, i64>,
) -> Result<usize> {
    let me = ws.device_id().to_string();
    let snaps = own_snapshots(cfg, t, &me);
    if snaps.len() < KEEP {
        return Ok(0);
    }
    let covered = snaps[snaps.len() - KEEP].0;
    let everyone = seen.values().copied().min().unwrap_or(i64::MAX);
    let days = meta(ws.conn(), "sync_retention_days")?
        .and_then(|s| s.parse().ok())
        .unwrap_or(RETENTION_DAYS);
    let before = ws.now_ms() - days.max(0) * 86_400_000;
    let dir = cfg.device_dir(&me);
    let mut n = 0;
    for (name, is_dir) in t.list(&dir).unwrap_or_default() {
        if is_dir || !name.ends_with(".kseg") || segment::is_conflict_copy(&name) {
            continue;
        }
        let Some(to) = name
            .trim_end_matches(".kseg")
            .split_once('-')
            .and_then(|(_, to)| i64::from_str_radix(to, 16).ok())
        else {
            continue;
        };
        if to <= covered
            && to <= everyone
            && hlc_physical(to) < before
            && t.remove(&format!("{dir}/{name}")).is_ok()
        {
            n += 1;
        }
    }
    Ok(n)
}
