//! `kehu export customers|contacts --out FILE`, `kehu template --out FILE`

use crate::{output, Ctx};
use kehu::customer_list::CustomerQuery;
use kehu::customers::{Grade, Status};
use kehu::export::{self, CsvEncoding, ExportOptions};
use kehu::import::mapping::Field;
use kehu::{Error, Result};
use std::path::PathBuf;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum What {
    Customers,
    Contacts,
}

#[derive(clap::Args)]
pub struct Args {
    what: What,
    /// Output file: .xlsx or .csv.
    #[arg(long)]
    out: PathBuf,
    /// CSV encoding: utf-8 (with BOM, default) or gbk.
    #[arg(long, default_value = "utf-8")]
    encoding: String,
    /// Columns (field keys, comma separated), e.g. code,name,contact_mobile.
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// Only customers matching this text.
    #[arg(long)]
    text: Option<String>,
    /// Only these statuses (prospect, interested, won, lost, or Chinese).
    #[arg(long, value_delimiter = ',')]
    status: Vec<String>,
    /// Only these grades (A, B, C).
    #[arg(long, value_delimiter = ',')]
    grade: Vec<String>,
    /// Only this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Only this owner (member name, id or "none").
    #[arg(long)]
    owner: Option<String>,
}

#[derive(clap::Args)]
pub struct TemplateArgs {
    #[arg(long)]
    out: PathBuf,
}

pub fn run(ctx: &mut Ctx, a: Args) -> Result<()> {
    let lang = ctx.lang;
    let bad = |what: &str, v: &str| {
        Error::validation(
            what,
            format!("无法识别的值“{v}”"),
            format!("unrecognised value “{v}”"),
        )
    };
    let mut q = CustomerQuery::default();
    let mut filtered = false;
    for s in &a.status {
        q.status
            .push(Status::parse(s).ok_or_else(|| bad("status", s))?);
        filtered = true;
    }
    for g in &a.grade {
        q.grade
            .push(Grade::parse(g).ok_or_else(|| bad("grade", g))?);
        filtered = true;
    }
    if let Some(t) = a.text {
        q.text = Some(t);
        filtered = true;
    }
    if let Some(t) = a.tag {
        q.tag = Some(t);
        filtered = true;
    }
    if let Some(o) = a.owner {
        q.owner = Some(if o == "none" {
            o
        } else {
            kehu::members::resolve(ctx.ws.conn(), &o)?.id
        });
        filtered = true;
    }
    let columns = a
        .columns
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            serde_json::from_value::<Field>(serde_json::Value::String(c.trim().to_string()))
                .map_err(|_| bad("columns", c))
        })
        .collect::<Result<Vec<_>>>()?;
    let opts = ExportOptions {
        query: filtered.then_some(q),
        columns,
        lang,
        csv_encoding: match a.encoding.to_lowercase().as_str() {
            "gbk" | "gb18030" | "gb2312" => CsvEncoding::Gbk,
            "utf-8" | "utf8" => CsvEncoding::Utf8Bom,
            e => return Err(bad("encoding", e)),
        },
    };
    let n = match a.what {
        What::Customers => export::export_customers(ctx.ws.conn(), &a.out, &opts)?,
        What::Contacts => export::export_contacts(ctx.ws.conn(), &a.out, &opts)?,
    };
    if ctx.json {
        output::json(&serde_json::json!({"rows": n, "out": a.out}));
    } else {
        println!(
            "{} {n} → {}",
            lang.pick("已导出", "exported"),
            a.out.display()
        );
    }
    Ok(())
}

pub fn template(ctx: &mut Ctx, a: TemplateArgs) -> Result<()> {
    kehu::template::write_template(&a.out)?;
    if ctx.json {
        output::json(&serde_json::json!({"out": a.out}));
    } else {
        println!(
            "{} {}",
            ctx.lang.pick("已生成导入模板", "import template written:"),
            a.out.display()
        );
    }
    Ok(())
}
