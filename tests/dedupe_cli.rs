//! `kehu dedupe …` run as a real process on a temporary database.
use assert_cmd::Command;

struct Cli {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
}

impl Cli {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kehu.db");
        Cli { _dir: dir, db }
    }
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::cargo_bin("kehu")
            .unwrap()
            .env("KEHU_DB", &self.db)
            .env("LANG", "en_US.UTF-8")
            .arg("--json")
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    }
}

#[test]
fn scan_check_merge_and_unmerge_from_the_command_line() {
    let cli = Cli::new();
    let a = cli.json(&[
        "customer",
        "add",
        "--name",
        "深圳市腾云科技有限公司",
        "--mobile",
        "13800138000",
    ]);
    let b = cli.json(&["customer", "add", "--name", "腾云科技"]);
    cli.json(&["customer", "add", "--name", "河北天强建筑工程有限公司"]);
    let (a, b) = (
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
    );

    let scan = cli.json(&["dedupe", "scan"]);
    let groups = scan["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{scan}");
    let members: Vec<&str> = groups[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(members.contains(&a.as_str()) && members.contains(&b.as_str()));
    let pair = &groups[0]["pairs"][0];
    assert!(pair["score"].as_f64().unwrap() >= 0.85);
    assert!(!pair["reasons"].as_array().unwrap().is_empty());

    let check = cli.json(&["dupes", "check", "--name", "藤云科技"]);
    assert_eq!(check["candidates"][0]["customer_id"], a.as_str(), "{check}");

    let merged = cli.json(&["dedupe", "merge", &a, &b, "--take", &format!("name={b}")]);
    let merge_id = merged["merge_id"].as_str().unwrap().to_string();
    let shown = cli.json(&["customer", "show", &a]);
    assert_eq!(shown["name"], "腾云科技");
    assert!(cli.json(&["dedupe", "scan"])["groups"]
        .as_array()
        .unwrap()
        .is_empty());

    cli.json(&["dedupe", "unmerge", &merge_id]);
    assert_eq!(
        cli.json(&["customer", "show", &a])["name"],
        "深圳市腾云科技有限公司"
    );
    assert!(cli.json(&["customer", "show", &b])["deleted_at"].is_null());

    cli.json(&["dedupe", "ignore", &a, &b]);
    assert!(cli.json(&["dedupe", "scan"])["groups"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn the_thresholds_are_shown_and_changed_from_the_command_line() {
    let cli = Cli::new();
    let s = cli.json(&["dedupe", "settings"]);
    assert_eq!(
        s["threshold"].as_f64().map(|t| (t * 100.0).round()),
        Some(85.0)
    );
    let s = cli.json(&[
        "dedupe",
        "settings",
        "--threshold",
        "0.9",
        "--hint-threshold",
        "0.75",
    ]);
    assert_eq!(
        s["threshold"].as_f64().map(|t| (t * 100.0).round()),
        Some(90.0)
    );
    let s = cli.json(&["dedupe", "settings"]);
    assert_eq!(
        s["hint_threshold"].as_f64().map(|t| (t * 100.0).round()),
        Some(75.0)
    );
    let out = Command::cargo_bin("kehu")
        .unwrap()
        .env("KEHU_DB", &cli.db)
        .env("LANG", "zh_CN.UTF-8")
        .args(["dedupe", "settings", "--threshold", "3"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("判定重复的分数要在 0.50 到 1.00 之间"));
}
