//! The `kehu` command line, run as a real process on a temporary database.
use assert_cmd::Command;
use predicates::prelude::*;

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
    fn cmd(&self, lang: &str, args: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("kehu")
            .unwrap()
            .env("KEHU_DB", &self.db)
            .env("LANG", lang)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .args(args)
            .assert()
    }
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self
            .cmd("en_US.UTF-8", &a)
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    }
}

#[test]
fn customer_add_show_edit_delete_restore() {
    let cli = Cli::new();
    let c = cli.json(&[
        "customer",
        "add",
        "--name",
        "深圳市腾云科技有限公司",
        "--contact",
        "张三",
        "--mobile",
        "+86 138 0013 8000",
        "--email",
        "zs@tengyun.cn",
        "--industry",
        "软件",
        "--grade",
        "A",
        "--status",
        "interested",
        "--tag",
        "重点",
        "--tag",
        "展会",
    ]);
    let code = c["code"].as_str().unwrap().to_string();
    assert_eq!(c["contacts"][0]["mobile"], "13800138000");
    assert_eq!(c["tags"].as_array().unwrap().len(), 2);

    cli.cmd(
        "zh_CN.UTF-8",
        &[
            "customer", "edit", &code, "--grade", "B", "--budget", "120,000",
        ],
    )
    .success()
    .stdout(predicate::str::contains("已更新"));
    let shown = cli.json(&["customer", "show", &code]);
    assert_eq!(shown["grade"], "B");
    assert_eq!(shown["budget"], 120000.0);
    let history = shown["history"].as_array().unwrap();
    assert!(history.iter().any(|h| h["field"] == "grade"
        && h["old"] == "A"
        && h["new"] == "B"
        && h["origin"] == "cli"));

    cli.cmd("zh_CN.UTF-8", &["customer", "delete", &code])
        .success()
        .stdout(predicate::str::contains("回收站"));
    assert_eq!(cli.json(&["customer", "list"])["total"], 0);
    assert_eq!(cli.json(&["customer", "list", "--trash"])["total"], 1);
    cli.cmd("en_US.UTF-8", &["customer", "restore", &code])
        .success();
    assert_eq!(cli.json(&["search", "zs"])[0]["code"], code.as_str());
    assert_eq!(cli.json(&["search", "138 0013"])[0]["code"], code.as_str());
}

#[test]
fn errors_are_one_line_in_the_terminal_language_and_json_with_a_code() {
    let cli = Cli::new();
    cli.cmd(
        "zh_CN.UTF-8",
        &["customer", "add", "--name", "腾云", "--mobile", "12345"],
    )
    .code(2)
    .stderr(
        predicate::str::contains("不是有效的电话号码").and(predicate::str::contains("\n").count(1)),
    );
    cli.cmd(
        "en_US.UTF-8",
        &["customer", "add", "--name", "腾云", "--mobile", "12345"],
    )
    .code(2)
    .stderr(predicate::str::contains("is not a valid phone number"));
    let out = cli
        .cmd(
            "en_US.UTF-8",
            &[
                "--json", "customer", "add", "--name", "腾云", "--status", "maybe",
            ],
        )
        .code(2)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["code"], "validation");
    assert_eq!(v["field"], "status");
    cli.cmd("zh_CN.UTF-8", &["customer", "show", "C19990101001"])
        .code(3)
        .stderr(predicate::str::contains("找不到客户"));
}

#[test]
fn tags_are_added_renamed_merged_and_listed() {
    let cli = Cli::new();
    let a = cli.json(&["customer", "add", "--name", "甲公司", "--tag", "VIP"]);
    cli.json(&["customer", "add", "--name", "乙公司", "--tag", "重点"]);
    cli.json(&["tag", "add", "老客户", "--color", "#123456"]);
    cli.json(&["tag", "rename", "老客户", "战略客户"]);
    cli.json(&["tag", "apply", "战略客户", a["code"].as_str().unwrap()]);
    let merged = cli.json(&["tag", "merge", "VIP", "重点"]);
    assert_eq!(merged["count"], 2);
    let list = cli.json(&["tag", "list"]);
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["战略客户", "重点"]);
}

#[test]
fn demo_data_then_filtered_list() {
    let cli = Cli::new();
    cli.json(&["demo", "--customers", "200", "--seed", "7"]);
    let all = cli.json(&["customer", "list", "--limit", "500"]);
    assert_eq!(all["total"], 200);
    let a = cli.json(&[
        "customer", "list", "--grade", "A", "--status", "won", "--limit", "500",
    ]);
    let rows = a["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() < 200);
    assert!(rows
        .iter()
        .all(|r| r["grade"] == "A" && r["status"] == "won"));
    let members = cli.json(&["member", "list"]);
    assert!(members
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["is_me"] == true));
}

#[test]
fn backup_and_restore_from_the_command_line() {
    let cli = Cli::new();
    cli.json(&["customer", "add", "--name", "备份前"]);
    let b = cli.json(&["backup"]);
    cli.json(&["customer", "add", "--name", "备份后"]);
    cli.json(&["restore", b["path"].as_str().unwrap()]);
    let names: Vec<_> = cli.json(&["customer", "list"])["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["备份前"]);
    // A damaged database is restored from the backup too.
    std::fs::write(&cli.db, "not a database".repeat(100)).unwrap();
    cli.cmd("zh_CN.UTF-8", &["customer", "list"])
        .failure()
        .stderr(predicate::str::contains("损坏"));
    cli.json(&["restore", b["path"].as_str().unwrap()]);
    assert_eq!(cli.json(&["customer", "list"])["total"], 1);
}

#[test]
fn customer_add_warns_about_a_likely_duplicate_and_json_carries_it() {
    let cli = Cli::new();
    let first = cli.json(&[
        "customer",
        "add",
        "--name",
        "深圳市腾云科技有限公司",
        "--mobile",
        "13800138000",
    ]);
    let second = cli.json(&["customer", "add", "--name", "腾云科技"]);
    let dups = second["duplicates"].as_array().unwrap();
    assert_eq!(dups[0]["code"], first["code"]);
    assert!(dups[0]["score"].as_f64().unwrap() > 0.8);
    cli.cmd(
        "zh_CN.UTF-8",
        &["customer", "add", "--name", "腾云科技有限公司"],
    )
    .success()
    .stderr(predicate::str::contains("可能重复"));
    let unrelated = cli.json(&["customer", "add", "--name", "北京华信贸易有限公司"]);
    assert!(unrelated["duplicates"].as_array().unwrap().is_empty());
}

#[test]
fn rules_show_and_change_only_what_is_given() {
    let cli = Cli::new();
    let v = cli.json(&["rules"]);
    assert_eq!(v["segments"]["matching_tags"], serde_json::json!([]));
    assert_eq!(v["alerts"]["lead_owner_days"], 3);
    let v = cli.json(&[
        "rules",
        "--matching-tag",
        "快速交付",
        "--matching-tag",
        "定制",
        "--action",
        "high_value=专人对接",
        "--lead-owner-days",
        "5",
    ]);
    assert_eq!(
        v["segments"]["matching_tags"],
        serde_json::json!(["快速交付", "定制"])
    );
    assert_eq!(v["segments"]["actions"]["high_value"], "专人对接");
    assert_eq!(v["segments"]["churn_days"], 60, "the others stay");
    assert_eq!(v["alerts"]["lead_owner_days"], 5);
    assert_eq!(v["alerts"]["lead_manager_days"], 7);
    // Kept, and shown in the terminal's language.
    cli.cmd("zh_CN.UTF-8", &["rules"])
        .success()
        .stdout(predicate::str::contains("匹配的需求标签：快速交付，定制"))
        .stdout(predicate::str::contains("高价值客户：专人对接"));
    cli.cmd("zh_CN.UTF-8", &["rules", "--action", "vip=x"])
        .failure()
        .stderr(predicate::str::contains("没有“vip”这个客户画像"));
    cli.cmd("en_US.UTF-8", &["rules", "--lead-owner-days", "0"])
        .failure()
        .stderr(predicate::str::contains("Days must be between 1 and 3650"));
}
