//! `kehu`: the command-line face of Kehu. Every subcommand is a thin adapter:
//! parse arguments, call the core, print the result (human text in the
//! terminal's language, or JSON with `--json`).

mod alerts;
mod backup;
mod customer;
mod db;
mod dedupe;
mod demo;
mod export;
mod followup;
mod import;
mod member;
mod opp;
mod output;
mod pipeline;
mod remind;
mod report;
mod rules;
mod search;
mod sync;
mod tag;
mod target;
mod today;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kehu::{Lang, Workspace};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "kehu",
    version,
    about = "Kehu (客户) — offline-first CRM for salespeople"
)]
pub struct Cli {
    /// Database file (default: the OS data dir, e.g. ~/.local/share/kehu/kehu.db).
    #[arg(long, global = true, env = "KEHU_DB")]
    db: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The database is encrypted at rest; its passphrase is in this
    /// environment variable. Given before the subcommand
    /// (`kehu --passphrase-env VAR customer list`), so it never mixes with
    /// the team passphrase of `sync init|join --passphrase-env`.
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Customers: add, list, show, edit, delete, restore, purge, assign.
    #[command(subcommand)]
    Customer(customer::Cmd),
    /// Search customers by name, code, contact, phone, tag or pinyin.
    Search(search::Args),
    /// Tags: add, list, rename, merge, delete, apply.
    #[command(subcommand)]
    Tag(tag::Cmd),
    /// Team members and "me".
    #[command(subcommand)]
    Member(member::Cmd),
    /// Duplicate customers: scan, check, merge, unmerge, ignore.
    #[command(subcommand, visible_alias = "dupes")]
    Dedupe(dedupe::Cmd),
    /// Add generated demo customers.
    Demo(demo::Args),
    /// Back up the database now (or list backups).
    Backup(backup::BackupArgs),
    /// Restore the database from a backup file.
    Restore(backup::RestoreArgs),
    /// Encryption of the database at rest: encrypt, decrypt, rekey, status.
    #[command(subcommand)]
    Db(db::Cmd),
    /// Follow-ups: add (plan or record), done, postpone, cancel, list, timeline.
    #[command(subcommand)]
    Followup(followup::Cmd),
    /// Reminders: what is due, the headless scheduler, snooze.
    #[command(subcommand)]
    Remind(remind::Cmd),
    /// Opportunities: add, stage, amount, list, history, board.
    #[command(subcommand)]
    Opp(opp::Cmd),
    /// Pipeline stages: list, add, rename, reorder, delete.
    #[command(subcommand)]
    Pipeline(pipeline::Cmd),
    /// Evaluate the alert rules and list active alerts.
    Alerts(alerts::Args),
    /// Segment rules (客户画像) and alert thresholds (预警): show, or change the ones given.
    Rules(rules::Args),
    /// Today: overdue and today's follow-ups, customers due, alerts.
    Today(today::Args),
    /// Import customers from an Excel (xlsx/xls/ods) or CSV file.
    Import(import::Args),
    /// The import log: list, undo.
    #[command(subcommand)]
    Imports(import::Cmd),
    /// Export customers or contacts to xlsx or csv.
    Export(export::Args),
    /// Write the Excel import template.
    Template(export::TemplateArgs),
    /// Team sync through a shared folder; bundles for USB / e-mail.
    #[command(subcommand)]
    Sync(sync::Cmd),
    /// Values two devices set at the same time: list, take the other.
    #[command(subcommand)]
    Conflicts(sync::ConflictsCmd),
    /// This device: rename.
    #[command(subcommand)]
    Device(sync::DeviceCmd),
    /// Analysis reports: funnel, customers, conversion, cycle, sales, followups, sources, segments, targets, export.
    #[command(subcommand)]
    Report(report::Cmd),
    /// Sales targets (monthly / quarterly, per person or team).
    #[command(subcommand)]
    Target(target::Cmd),
}

/// What a subcommand needs: the open workspace, the output mode and language.
pub struct Ctx {
    pub ws: Workspace,
    pub json: bool,
    pub lang: Lang,
}

fn main() {
    let cli = Cli::parse();
    let lang = Lang::from_env();
    let json = cli.json;
    if let Err(e) = run(cli, lang) {
        output::fail(&e, json, lang);
    }
}

fn run(cli: Cli, lang: Lang) -> kehu::Result<()> {
    let path = cli.db.unwrap_or_else(kehu::db::default_db_path);
    let passphrase = cli
        .passphrase_env
        .as_deref()
        .map(db::env_secret)
        .transpose()?;
    if let Command::Restore(args) = &cli.command {
        // A damaged database cannot be opened; restore works on the file.
        return backup::restore(&path, args, passphrase.as_deref(), cli.json, lang);
    }
    let command = match cli.command {
        Command::Db(cmd) => return db::run(&path, cmd, passphrase, cli.json, lang),
        other => other,
    };
    let mut ws = match &passphrase {
        Some(p) => Workspace::open_encrypted(&path, p)?,
        None => Workspace::open(&path)?,
    };
    ws.origin = "cli".into();
    ws.lang = lang;
    let mut ctx = Ctx {
        ws,
        json: cli.json,
        lang,
    };
    match command {
        Command::Customer(cmd) => customer::run(&mut ctx, cmd),
        Command::Search(args) => search::run(&mut ctx, args),
        Command::Tag(cmd) => tag::run(&mut ctx, cmd),
        Command::Member(cmd) => member::run(&mut ctx, cmd),
        Command::Dedupe(cmd) => dedupe::run(&mut ctx, cmd),
        Command::Demo(args) => demo::run(&mut ctx, args),
        Command::Backup(args) => backup::backup(&mut ctx, args),
        Command::Restore(_) | Command::Db(_) => unreachable!("handled above"),
        Command::Followup(cmd) => followup::run(&mut ctx, cmd),
        Command::Remind(cmd) => remind::run(&mut ctx, cmd),
        Command::Opp(cmd) => opp::run(&mut ctx, cmd),
        Command::Pipeline(cmd) => pipeline::run(&mut ctx, cmd),
        Command::Alerts(args) => alerts::run(&mut ctx, args),
        Command::Rules(args) => rules::run(&mut ctx, args),
        Command::Today(args) => today::run(&mut ctx, args),
        Command::Import(args) => import::run(&mut ctx, args),
        Command::Imports(cmd) => import::run_jobs(&mut ctx, cmd),
        Command::Export(args) => export::run(&mut ctx, args),
        Command::Template(args) => export::template(&mut ctx, args),
        Command::Sync(cmd) => sync::run(&mut ctx, cmd),
        Command::Conflicts(cmd) => sync::conflicts(&mut ctx, cmd),
        Command::Device(cmd) => sync::device(&mut ctx, cmd),
        Command::Report(cmd) => report::run(&mut ctx, cmd),
        Command::Target(cmd) => target::run(&mut ctx, cmd),
    }
}
