//! Team sync over real servers on loopback: WebDAV (wsgidav, the server
//! behind many NAS and 坚果云-style services) and S3 (moto in server mode).
//! Both hold the same file layout as a shared folder. The servers are
//! installed by scripts/install-deps.sh; a missing one fails these tests.

mod common;

use common::{add, contact, T0};
use kehu::clock::FixedClock;
use kehu::customers;
use kehu::sync::transport::{Transport, WebDav, S3};
use kehu::sync::{self, Credentials, SyncReport, Target};
use kehu::{Error, Workspace};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASS: &str = "云杉 team passphrase 2026";
const NAME: &str = "杭州云杉科技有限公司";
const PHONE: &str = "13800138000";
const DAV_USER: &str = "alice";
const DAV_PASSWORD: &str = "webdav-s3cret-pw";

/// A server process on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    root: PathBuf,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Start `python3 -m <module> args…` and wait (at most 60 s) until it
/// accepts connections on `port`.
fn start(
    module: &str,
    args: &[String],
    port: u16,
    dir: tempfile::TempDir,
    root: PathBuf,
) -> Server {
    let log = dir.path().join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(python())
        .arg("-m")
        .arg(module)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} -m {module}: {e}. Run scripts/install-deps.sh",
                python()
            )
        });
    let mut s = Server {
        child,
        port,
        _dir: dir,
        root,
        log,
    };
    let t = Instant::now();
    loop {
        if let Ok(Some(status)) = s.child.try_wait() {
            panic!(
                "{module} exited ({status}) before answering — is it installed? Run scripts/install-deps.sh \
                 (python3 -m pip install --user wsgidav cheroot 'moto[server]'). Log:\n{}",
                std::fs::read_to_string(&s.log).unwrap_or_default()
            );
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{module} did not answer on port {port} within 60 s. Log:\n{}",
            std::fs::read_to_string(&s.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// wsgidav serving one folder read-write at /dav/ and read-only at /ro/,
/// user `alice` with a password (basic auth).
fn webdav() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let port = free_port();
    let conf = serde_json::json!({
        "host": "127.0.0.1",
        "port": port,
        "provider_mapping": {
            "/dav": root,
            "/ro": {"root": root, "readonly": true},
        },
        "simple_dc": {"user_mapping": {"*": {DAV_USER: {"password": DAV_PASSWORD}}}},
        "http_authenticator": {"accept_basic": true, "accept_digest": false, "default_to_digest": false},
        "verbose": 1,
    });
    let conf_path = dir.path().join("wsgidav.json");
    std::fs::write(&conf_path, conf.to_string()).unwrap();
    start(
        "wsgidav.server.server_cli",
        &["--config".into(), conf_path.to_string_lossy().to_string()],
        port,
        dir,
        root,
    )
}

/// moto's S3 server with one empty bucket.
fn s3(bucket: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let port = free_port();
    let s = start(
        "moto.server",
        &[
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ],
        port,
        dir,
        root,
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let t = Instant::now();
    loop {
        let r = agent
            .put(&format!("http://127.0.0.1:{port}/{bucket}"))
            .send_empty();
        if matches!(&r, Ok(r) if r.status().is_success()) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "moto: cannot create bucket: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    s
}

fn dav_target(s: &Server, mount: &str) -> Target {
    Target::Webdav {
        url: format!("http://127.0.0.1:{}/{mount}/", s.port),
        user: DAV_USER.into(),
    }
}

fn dav_creds(passphrase: Option<&str>) -> Credentials {
    Credentials {
        passphrase: passphrase.map(str::to_string),
        password: Some(DAV_PASSWORD.into()),
        ..Default::default()
    }
}

fn s3_target(s: &Server, bucket: &str) -> Target {
    Target::S3 {
        endpoint: format!("http://127.0.0.1:{}", s.port),
        bucket: bucket.into(),
        region: "us-east-1".into(),
    }
}

fn s3_creds(passphrase: Option<&str>) -> Credentials {
    Credentials {
        passphrase: passphrase.map(str::to_string),
        access_key: Some("AKIAKEHUTEST".into()),
        secret_key: Some("kehu-test-secret-key".into()),
        ..Default::default()
    }
}

struct Device {
    dir: tempfile::TempDir,
    ws: Workspace,
    clock: FixedClock,
}

fn device(skew_ms: i64) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(T0 + skew_ms);
    let ws =
        Workspace::open_with_clock(dir.path().join("kehu.db"), Arc::new(clock.clone())).unwrap();
    Device { dir, ws, clock }
}

fn sync_now(d: &mut Device) -> SyncReport {
    d.clock.advance(1_000);
    sync::sync_now(&mut d.ws).unwrap()
}

fn names(ws: &Workspace) -> Vec<(String, Option<String>)> {
    ws.conn()
        .prepare("SELECT name, city FROM customers ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Two devices on `target`: a customer, an edit on each side, convergence;
/// then idle rounds move nothing. Returns the devices and the team id.
fn two_devices_converge(target: &Target, creds: &Credentials) -> (Device, Device, String) {
    let mut a = device(0);
    let mut b = device(7);
    let cfg = sync::init_target(&mut a.ws, target, Some("销售一组"), creds).unwrap();
    sync::join_target(&mut b.ws, target, None, creds).unwrap();
    let c = add(&mut a.ws, NAME, vec![contact("王芳", PHONE)], &["重点"]);
    assert!(sync_now(&mut a).sent >= 4);
    let r = sync_now(&mut b);
    assert_eq!(r.skipped_files, 0, "{r:?}");
    assert!(r.applied >= 4, "{r:?}");
    let there = customers::get(b.ws.conn(), &c.id).unwrap();
    assert_eq!(there.contacts[0].fields.mobile.as_deref(), Some(PHONE));
    customers::update(
        &mut b.ws,
        &c.id,
        &common::patch(&[("city", serde_json::json!("杭州"))]),
    )
    .unwrap();
    add(&mut a.ws, "乙公司", vec![], &[]);
    for _ in 0..2 {
        sync_now(&mut a);
        sync_now(&mut b);
    }
    assert_eq!(names(&a.ws), names(&b.ws));
    assert_eq!(names(&a.ws).len(), 2);
    let idle = sync_now(&mut b);
    assert_eq!(
        (idle.sent, idle.received, idle.applied),
        (0, 0, 0),
        "{idle:?}"
    );
    assert!(idle.problems.is_empty(), "{idle:?}");
    let st = sync::status(&b.ws).unwrap();
    assert_eq!(st.transport.as_deref(), Some(target.kind()));
    assert_eq!(st.peers.len(), 1);
    (a, b, cfg.team_id)
}

/// Files under a folder, recursively, relative with `/`.
fn tree(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            tree(&e.path(), base, out);
        } else {
            out.push(
                e.path()
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn two_devices_converge_through_a_real_webdav_server_in_the_shared_folder_layout_encrypted() {
    let server = webdav();
    let (a, b, team) = two_devices_converge(&dav_target(&server, "dav"), &dav_creds(Some(PASS)));
    // On the server's disk: the same layout as a shared folder, only ciphertext.
    let mut files = vec![];
    tree(&server.root, &server.root, &mut files);
    let team_dir = format!("kehu-sync/{team}");
    assert!(
        files.contains(&format!("{team_dir}/team.json")),
        "{files:?}"
    );
    for d in [&a, &b] {
        let dev = format!("{team_dir}/devices/{}/", d.ws.device_id());
        assert!(files.contains(&format!("{dev}device.json")), "{files:?}");
        assert!(
            files
                .iter()
                .any(|f| f.starts_with(&dev) && f.ends_with(".kseg")),
            "{files:?}"
        );
    }
    assert!(files.iter().all(|f| !f.ends_with(".tmp")), "{files:?}");
    for f in &files {
        let bytes = std::fs::read(server.root.join(f)).unwrap();
        if !f.ends_with("team.json") {
            assert!(bytes.starts_with(b"KEHU-SYNC-E 1\n"), "{f} is not sealed");
        }
        assert!(!contains(&bytes, PHONE) && !contains(&bytes, "王芳"), "{f}");
    }
    // The password is kept on the device, not in the database.
    let db = std::fs::read(a.dir.path().join("kehu.db")).unwrap();
    assert!(!contains(&db, DAV_PASSWORD));
    assert!(!contains(&db, PASS));
}

#[test]
fn a_wrong_webdav_password_or_a_missing_server_is_a_clear_message_and_local_work_goes_on() {
    let server = webdav();
    let mut a = device(0);
    let wrong = Credentials {
        password: Some("not the password".into()),
        ..Default::default()
    };
    match sync::init_target(&mut a.ws, &dav_target(&server, "dav"), None, &wrong) {
        Err(Error::Sync { zh, en }) => {
            assert!(zh.contains("拒绝了用户名或密码"), "{zh}");
            assert!(en.contains("refused the user name or password"), "{en}");
        }
        other => panic!("expected a sync error, got {other:?}"),
    }
    assert!(sync::config(a.ws.conn()).unwrap().is_none());
    sync::init_target(
        &mut a.ws,
        &dav_target(&server, "dav"),
        None,
        &dav_creds(None),
    )
    .unwrap();
    add(&mut a.ws, NAME, vec![], &[]);
    assert_eq!(sync_now(&mut a).sent, 1);
    // The server goes away: a clear message, and local work goes on.
    drop(server);
    add(&mut a.ws, "乙公司", vec![], &[]);
    match sync::sync_now(&mut a.ws) {
        Err(Error::Sync { zh, en }) => {
            assert!(zh.contains("无法连接同步服务器"), "{zh}");
            assert!(en.contains("Local changes are kept"), "{en}");
        }
        other => panic!("expected a sync error, got {other:?}"),
    }
    assert_eq!(names(&a.ws).len(), 2);
    assert_eq!(sync::status(&a.ws).unwrap().pending, 1);
}

#[test]
fn a_read_only_webdav_target_still_receives_and_reports_that_it_cannot_send() {
    let server = webdav();
    let mut a = device(0);
    let mut b = device(7);
    sync::init_target(
        &mut a.ws,
        &dav_target(&server, "dav"),
        None,
        &dav_creds(None),
    )
    .unwrap();
    add(&mut a.ws, NAME, vec![], &[]);
    sync_now(&mut a);
    // B reaches the same folder through a read-only share.
    sync::join_target(
        &mut b.ws,
        &dav_target(&server, "ro"),
        None,
        &dav_creds(None),
    )
    .unwrap();
    add(&mut b.ws, "乙公司", vec![], &[]);
    let r = sync_now(&mut b);
    assert_eq!(r.sent, 0);
    assert_eq!(r.applied, 1, "receiving goes on: {r:?}");
    assert!(
        r.problems.iter().any(|p| p.contains("无法写入共享文件夹")),
        "{r:?}"
    );
    assert_eq!(names(&b.ws).len(), 2, "local work is kept");
    assert!(sync::status(&b.ws).unwrap().pending >= 1);
}

#[test]
fn two_devices_converge_through_a_real_s3_server_with_encryption() {
    let server = s3("kehu-team");
    let target = s3_target(&server, "kehu-team");
    let (a, _b, team) = two_devices_converge(&target, &s3_creds(Some(PASS)));
    // The bucket holds the shared-folder layout, sealed.
    let t = S3::new(
        &format!("http://127.0.0.1:{}", server.port),
        "kehu-team",
        "us-east-1",
        "AKIAKEHUTEST",
        "kehu-test-secret-key",
    )
    .unwrap();
    let devices = t.list(&format!("kehu-sync/{team}/devices")).unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    let mine = t
        .list(&format!("kehu-sync/{team}/devices/{}", a.ws.device_id()))
        .unwrap();
    let seg = mine
        .iter()
        .find(|(n, _)| n.ends_with(".kseg"))
        .expect("a segment");
    let bytes = t
        .read(&format!(
            "kehu-sync/{team}/devices/{}/{}",
            a.ws.device_id(),
            seg.0
        ))
        .unwrap();
    assert!(bytes.starts_with(b"KEHU-SYNC-E 1\n"));
    assert!(!contains(&bytes, PHONE));
    let db = std::fs::read(a.dir.path().join("kehu.db")).unwrap();
    assert!(!contains(&db, "kehu-test-secret-key"));
}

#[test]
fn a_missing_s3_bucket_is_a_clear_message() {
    let server = s3("kehu-team");
    let mut a = device(0);
    match sync::init_target(
        &mut a.ws,
        &s3_target(&server, "no-such-bucket"),
        None,
        &s3_creds(None),
    ) {
        Err(Error::Sync { zh, en }) => {
            assert!(zh.contains("找不到这个位置"), "{zh}");
            assert!(en.contains("no such folder or bucket"), "{en}");
        }
        other => panic!("expected a sync error, got {other:?}"),
    }
}

#[test]
fn the_webdav_transport_writes_whole_files_and_lists_what_it_wrote() {
    let server = webdav();
    let t = WebDav::new(
        &format!("http://127.0.0.1:{}/dav", server.port),
        DAV_USER,
        DAV_PASSWORD,
    );
    t.check().unwrap();
    t.write("kehu-sync/t/devices/d/a b.kseg", b"one").unwrap();
    t.write("kehu-sync/t/devices/d/a b.kseg", b"two").unwrap();
    t.write("kehu-sync/t/devices/d/device.json", b"{}").unwrap();
    let mut l = t.list("kehu-sync/t/devices/d").unwrap();
    l.sort();
    assert_eq!(
        l,
        vec![("a b.kseg".into(), false), ("device.json".into(), false)]
    );
    assert_eq!(
        t.list("kehu-sync/t/devices").unwrap(),
        vec![("d".into(), true)]
    );
    assert_eq!(t.read("kehu-sync/t/devices/d/a b.kseg").unwrap(), b"two");
    assert_eq!(
        t.read("kehu-sync/t/nothing").unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    assert_eq!(
        t.list("kehu-sync/none").unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
}

#[test]
fn the_cli_syncs_over_webdav_and_s3_with_passwords_from_the_environment() {
    use assert_cmd::Command;
    let dav = webdav();
    let s3s = s3("cli-team");
    let dir = tempfile::tempdir().unwrap();
    let kehu = |db: &str, args: &[&str]| {
        let out = Command::cargo_bin("kehu")
            .unwrap()
            .env("KEHU_DB", dir.path().join(db))
            .env("DAV_PW", DAV_PASSWORD)
            .env("S3_KEY", "AKIAKEHUTEST")
            .env("S3_SECRET", "kehu-test-secret-key")
            .env("TEAM_PASS", PASS)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let url = format!("http://127.0.0.1:{}/dav/", dav.port);
    let dav_args = [
        "--webdav",
        &url,
        "--user",
        DAV_USER,
        "--password-env",
        "DAV_PW",
        "--passphrase-env",
        "TEAM_PASS",
    ];
    kehu("a.db", &[&["sync", "init"][..], &dav_args].concat());
    kehu("b.db", &[&["sync", "join"][..], &dav_args].concat());
    kehu("a.db", &["customer", "add", "--name", NAME]);
    kehu("a.db", &["sync", "now"]);
    let got: serde_json::Value =
        serde_json::from_str(&kehu("b.db", &["sync", "now", "--json"])).unwrap();
    assert_eq!(got["applied"], 1, "{got}");
    let st: serde_json::Value =
        serde_json::from_str(&kehu("b.db", &["sync", "status", "--json"])).unwrap();
    assert_eq!(st["transport"], "webdav");
    assert_eq!(st["encrypted"], true);
    assert!(!st.to_string().contains(DAV_PASSWORD));

    let endpoint = format!("http://127.0.0.1:{}", s3s.port);
    let s3_args = [
        "--s3",
        &endpoint,
        "--bucket",
        "cli-team",
        "--access-key-env",
        "S3_KEY",
        "--secret-key-env",
        "S3_SECRET",
    ];
    kehu("c.db", &[&["sync", "init"][..], &s3_args].concat());
    kehu("d.db", &[&["sync", "join"][..], &s3_args].concat());
    kehu("c.db", &["customer", "add", "--name", NAME]);
    kehu("c.db", &["sync", "now"]);
    let got: serde_json::Value =
        serde_json::from_str(&kehu("d.db", &["sync", "now", "--json"])).unwrap();
    assert_eq!(got["applied"], 1, "{got}");
    let text = kehu("d.db", &["sync", "status"]);
    assert!(text.contains("S3"), "{text}");
}

#[test]
fn the_set_up_test_of_a_server_names_refused_credentials_an_unreachable_server_and_lists_encrypted_teams(
) {
    use kehu::sync_app::check_target;
    let s = webdav();
    let target = dav_target(&s, "dav");
    // Empty: no team yet, reachable.
    let c = check_target(&target, &dav_creds(None), kehu::Lang::Zh);
    assert!(c.exists && c.writable && c.problem.is_none(), "{c:?}");
    assert!(c.teams.is_empty());
    // A wrong password: named as such, in both languages.
    let bad = Credentials {
        password: Some("nope".into()),
        ..Default::default()
    };
    let c = check_target(&target, &bad, kehu::Lang::Zh);
    assert!(!c.exists);
    assert!(c.problem.unwrap().contains("拒绝了用户名或密码"));
    let c = check_target(&target, &bad, kehu::Lang::En);
    assert!(c
        .problem
        .unwrap()
        .contains("refused the user name or password"));
    // Nothing listening there.
    let gone = Target::Webdav {
        url: format!("http://127.0.0.1:{}/dav/", free_port()),
        user: DAV_USER.into(),
    };
    let c = check_target(&gone, &dav_creds(None), kehu::Lang::Zh);
    assert!(c.problem.unwrap().contains("无法连接同步服务器"));
    // A field left empty is named before anything is sent.
    let c = check_target(&target, &Credentials::default(), kehu::Lang::Zh);
    assert!(c.problem.unwrap().contains("请填写密码"));
    let c = check_target(
        &Target::Webdav {
            url: "dav.example.com".into(),
            user: DAV_USER.into(),
        },
        &dav_creds(None),
        kehu::Lang::En,
    );
    assert!(c.problem.unwrap().contains("https://"));
    // An encrypted team started there is listed as encrypted (its name
    // is sealed, so not shown).
    let mut a = device(0);
    sync::init_target(&mut a.ws, &target, Some("杭州团队"), &dav_creds(Some(PASS))).unwrap();
    let c = check_target(&target, &dav_creds(None), kehu::Lang::Zh);
    assert_eq!(c.teams.len(), 1, "{c:?}");
    assert!(c.teams[0].encrypted);
    assert_eq!(c.teams[0].name, None);
    assert_eq!(c.teams[0].devices, 1);
    assert_eq!(
        c.folder,
        format!("http://127.0.0.1:{}/dav/ ({DAV_USER})", s.port)
    );
}
