//! Around team sync in the desktop app: this device's automatic-sync
//! setting, testing a shared folder before starting or joining a team, and
//! knowing when local changes wait to be sent.

mod common;

use common::{add, env};
use kehu::sync;
use kehu::sync_app::{self, AutoSync};
use kehu::{Error, Lang};

#[test]
fn automatic_sync_is_on_every_five_minutes_until_changed_and_stays_on_this_device() {
    let e = env();
    assert_eq!(
        sync_app::auto(e.ws.conn()).unwrap(),
        AutoSync {
            enabled: true,
            interval_min: 5
        }
    );
    let set = AutoSync {
        enabled: false,
        interval_min: 30,
    };
    assert_eq!(sync_app::set_auto(&e.ws, set).unwrap(), set);
    assert_eq!(sync_app::auto(e.ws.conn()).unwrap(), set);
    // Device-local: no change-log entry, so nothing for the team to merge.
    let logged: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap();
    assert_eq!(logged, 0);
}

#[test]
fn an_interval_outside_one_minute_to_one_day_is_refused_next_to_its_field() {
    let e = env();
    for bad in [0, 24 * 60 + 1] {
        let err = sync_app::set_auto(
            &e.ws,
            AutoSync {
                enabled: true,
                interval_min: bad,
            },
        )
        .unwrap_err();
        match &err {
            Error::Validation { field, .. } => assert_eq!(field, "interval_min"),
            other => panic!("{other:?}"),
        }
        assert!(err.message(Lang::Zh).contains("1 到 1440 分钟"), "{err}");
    }
    assert_eq!(sync_app::auto(e.ws.conn()).unwrap(), AutoSync::default());
}

#[test]
fn a_missing_folder_or_a_relative_path_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let c = sync_app::check_folder(&missing, Lang::Zh);
    assert!(!c.exists && !c.writable);
    assert!(c.problem.unwrap().contains("找不到文件夹"));
    let c = sync_app::check_folder(std::path::Path::new("relative/dir"), Lang::En);
    assert!(c.problem.unwrap().contains("full path"));
}

#[test]
fn a_read_only_folder_is_reported_unwritable_and_the_test_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let ok = sync_app::check_folder(dir.path(), Lang::Zh);
    assert!(ok.exists && ok.writable && ok.problem.is_none(), "{ok:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        // root writes anyway: the check then rightly says it can.
        let root = std::fs::write(ro.join("probe"), b"x").is_ok();
        let _ = std::fs::remove_file(ro.join("probe"));
        let c = sync_app::check_folder(&ro, Lang::En);
        assert_eq!(c.writable, root, "{c:?}");
        if !root {
            assert!(c.problem.unwrap().contains("cannot write"));
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn the_test_lists_the_teams_in_the_folder_with_their_names_and_devices() {
    let shared = tempfile::tempdir().unwrap();
    assert!(sync_app::check_folder(shared.path(), Lang::Zh)
        .teams
        .is_empty());
    let mut a = env();
    let mut b = env();
    let cfg = sync::init(&mut a.ws, shared.path(), Some("华东销售部")).unwrap();
    sync::join(&mut b.ws, shared.path(), None).unwrap();
    let c = sync_app::check_folder(shared.path(), Lang::Zh);
    assert_eq!(c.teams.len(), 1);
    let t = &c.teams[0];
    assert_eq!(t.team_id, cfg.team_id);
    assert_eq!(t.name.as_deref(), Some("华东销售部"));
    assert_eq!(t.devices, 2);
    assert_eq!(t.created_at, Some(common::T0));
}

#[test]
fn local_edits_wait_to_be_sent_until_a_round_writes_them() {
    let shared = tempfile::tempdir().unwrap();
    let mut e = env();
    sync::init(&mut e.ws, shared.path(), None).unwrap();
    sync::sync_now(&mut e.ws).unwrap();
    assert!(!sync_app::has_unsent(&e.ws).unwrap());
    add(&mut e.ws, "临港精密机械有限公司", vec![], &[]);
    assert!(sync_app::has_unsent(&e.ws).unwrap());
    sync::sync_now(&mut e.ws).unwrap();
    assert!(!sync_app::has_unsent(&e.ws).unwrap());
}
