//! `kehu customer …`

use crate::output::{self, pad};
use crate::Ctx;
use clap::{Args, Subcommand};
use kehu::contacts::ContactFields;
use kehu::customer_list::{self, CustomerQuery, SortKey};
use kehu::customers::{self, CustomerFields, CustomerKind, Grade, NewCustomer, Status};
use kehu::{Error, Lang, Result};
use serde_json::{Map, Value};

#[derive(Subcommand)]
pub enum Cmd {
    /// Add a customer (with an optional first contact).
    Add(AddArgs),
    /// List customers with filters.
    List(ListArgs),
    /// Show one customer with contacts, tags and history.
    Show { id: String },
    /// Change fields of a customer.
    Edit(EditArgs),
    /// Move customers to the trash.
    Delete { ids: Vec<String> },
    /// Bring customers back from the trash.
    Restore { ids: Vec<String> },
    /// Delete customers in the trash for good.
    Purge { ids: Vec<String> },
    /// Assign an owner to customers (`--owner none` unassigns).
    Assign {
        #[arg(long)]
        owner: String,
        ids: Vec<String>,
    },
}

#[derive(Args)]
pub struct AddArgs {
    #[arg(long)]
    name: String,
    /// Contact person's name.
    #[arg(long)]
    contact: Option<String>,
    #[arg(long)]
    mobile: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Contact's job title.
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    industry: Option<String>,
    /// A, B or C.
    #[arg(long)]
    grade: Option<String>,
    /// prospect | interested | won | lost (or 潜在/意向/成交/流失).
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    source: Option<String>,
    /// Owner: member name, employee no. or id.
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    province: Option<String>,
    #[arg(long)]
    city: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    /// Individual instead of company.
    #[arg(long)]
    individual: bool,
    /// Tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// 首次接触日期 (YYYY-MM-DD), for back-filling.
    #[arg(long = "first-contact", alias = "first-contact-date")]
    first_contact_date: Option<String>,
    /// 年采购额 (yuan).
    #[arg(long)]
    annual_purchase: Option<f64>,
}

#[derive(Args)]
pub struct ListArgs {
    /// Free-text search.
    #[arg(long, short)]
    query: Option<String>,
    #[arg(long)]
    status: Vec<String>,
    #[arg(long)]
    grade: Vec<String>,
    #[arg(long)]
    tag: Option<String>,
    /// Member name/id, or `none`.
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    industry: Option<String>,
    #[arg(long)]
    province: Option<String>,
    #[arg(long)]
    city: Option<String>,
    /// 线索来源 (as `report sources` names it; 未填写 = not set); with a period
    /// (--from/--to/--period): the leads created in it.
    #[arg(long)]
    source: Option<String>,
    /// Customers with a deal created in the period (--from/--to/--period,
    /// default this month) that is lost for this reason (as `report funnel`
    /// names it); --owner is then the deal's owner.
    #[arg(long)]
    lost_reason: Option<String>,
    /// Customers with a follow-up done in the period whose 沟通内容 holds this
    /// keyword (as the keyword cloud cuts it); --owner is then the follow-up's.
    #[arg(long)]
    keyword: Option<String>,
    /// With --keyword: look in 客户反馈 instead of 沟通内容.
    #[arg(long, requires = "keyword")]
    in_feedback: bool,
    /// First day of the drill-down period (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Day after the drill-down period (exclusive).
    #[arg(long)]
    to: Option<String>,
    /// The drill-down period as a month or quarter: 2026-11 or 2026-Q4.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    period: Option<String>,
    /// List the trash.
    #[arg(long)]
    trash: bool,
    /// name | code | updated | created | last-followup
    #[arg(long, default_value = "updated")]
    sort: String,
    #[arg(long)]
    asc: bool,
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[arg(long, default_value_t = 0)]
    offset: u32,
}

#[derive(Args)]
pub struct EditArgs {
    id: String,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    industry: Option<String>,
    #[arg(long)]
    size: Option<String>,
    #[arg(long)]
    province: Option<String>,
    #[arg(long)]
    city: Option<String>,
    #[arg(long)]
    district: Option<String>,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    grade: Option<String>,
    /// Member name/id, or `none`.
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    needs: Option<String>,
    #[arg(long)]
    budget: Option<String>,
    #[arg(long)]
    purchase_cycle: Option<String>,
    #[arg(long)]
    annual_purchase: Option<String>,
    #[arg(long, alias = "first-contact")]
    first_contact_date: Option<String>,
    #[arg(long)]
    notes: Option<String>,
}

fn parse_status(s: &str) -> Result<Status> {
    Status::parse(s).ok_or_else(|| {
        Error::validation(
            "status",
            format!("无法识别的客户状态“{s}”，可选：潜在/意向/成交/流失（prospect/interested/won/lost）"),
            format!("unknown status “{s}”; use prospect, interested, won or lost"),
        )
    })
}

fn parse_grade(s: &str) -> Result<Grade> {
    Grade::parse(s).ok_or_else(|| {
        Error::validation(
            "grade",
            format!("无法识别的客户分级“{s}”，可选 A/B/C"),
            format!("unknown grade “{s}”; use A, B or C"),
        )
    })
}

fn parse_amount(field: &str, s: &str) -> Result<Value> {
    if s.trim().is_empty() {
        return Ok(Value::Null);
    }
    s.replace([',', '，'], "")
        .trim()
        .parse::<f64>()
        .map(Value::from)
        .map_err(|_| {
            Error::validation(
                field,
                format!("“{s}”不是有效的金额"),
                format!("“{s}” is not an amount"),
            )
        })
}

fn owner_id(ctx: &Ctx, key: &str) -> Result<Option<String>> {
    if key == "none" || key.is_empty() {
        return Ok(None);
    }
    Ok(Some(kehu::members::resolve(ctx.ws.conn(), key)?.id))
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Add(a) => add(ctx, a),
        Cmd::List(a) => list(ctx, a),
        Cmd::Show { id } => show(ctx, &id),
        Cmd::Edit(a) => edit(ctx, a),
        Cmd::Delete { ids } => {
            let n = customers::delete(&mut ctx.ws, &ids)?;
            bulk(ctx, n, "已移入回收站", "moved to the trash")
        }
        Cmd::Restore { ids } => {
            let n = customers::restore(&mut ctx.ws, &ids)?;
            bulk(ctx, n, "已恢复", "restored")
        }
        Cmd::Purge { ids } => {
            let n = customers::purge(&mut ctx.ws, &ids)?;
            bulk(ctx, n, "已彻底删除", "purged")
        }
        Cmd::Assign { owner, ids } => {
            let owner = owner_id(ctx, &owner)?;
            let n = customers::assign_owner(&mut ctx.ws, &ids, owner.as_deref())?;
            bulk(ctx, n, "已分配负责人", "reassigned")
        }
    }
}

fn bulk(ctx: &Ctx, n: usize, zh: &str, en: &str) -> Result<()> {
    if ctx.json {
        output::json(&serde_json::json!({ "changed": n }));
    } else if ctx.lang == Lang::Zh {
        println!("{n} 个客户{zh}");
    } else {
        println!("{n} customer(s) {en}");
    }
    Ok(())
}

fn add(ctx: &mut Ctx, a: AddArgs) -> Result<()> {
    let mut fields = CustomerFields::named(&a.name);
    fields.kind = if a.individual {
        CustomerKind::Individual
    } else {
        CustomerKind::Company
    };
    fields.industry = a.industry;
    fields.source = a.source;
    fields.province = a.province;
    fields.city = a.city;
    fields.notes = a.notes;
    fields.first_contact_date = a.first_contact_date;
    fields.annual_purchase = a.annual_purchase;
    fields.status = a
        .status
        .as_deref()
        .map(parse_status)
        .transpose()?
        .unwrap_or_default();
    fields.grade = a.grade.as_deref().map(parse_grade).transpose()?;
    fields.owner_id = match a.owner.as_deref() {
        Some(o) => owner_id(ctx, o)?,
        None => ctx.ws.me()?,
    };
    let mut contacts = vec![];
    if a.contact.is_some() || a.mobile.is_some() || a.email.is_some() {
        contacts.push(ContactFields {
            // A phone without a person still needs a name: use the company's.
            name: a.contact.unwrap_or_else(|| a.name.clone()),
            title: a.title,
            mobile: a.mobile,
            email: a.email,
            is_primary: true,
            ..Default::default()
        });
    }
    // Possible duplicates are looked up before saving, so the warning shows
    // what already existed, not the new customer itself.
    let draft = kehu::dedupe::Draft {
        name: fields.name.clone(),
        mobiles: contacts.iter().filter_map(|c| c.mobile.clone()).collect(),
        emails: contacts.iter().filter_map(|c| c.email.clone()).collect(),
        contacts: contacts.iter().map(|c| c.name.clone()).collect(),
        region: [&fields.province, &fields.city]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        exclude: None,
    };
    let duplicates = kehu::dedupe::candidates_for(ctx.ws.conn(), &draft, 5)?;
    let new = NewCustomer {
        fields,
        contacts,
        tags: a.tags,
    };
    let c = customers::create(&mut ctx.ws, new)?;
    if ctx.json {
        let mut v = serde_json::to_value(&c)?;
        v["duplicates"] = serde_json::to_value(&duplicates)?;
        output::json(&v);
        return Ok(());
    }
    let l = ctx.lang;
    println!(
        "{} {} {}",
        l.pick("已添加客户", "Added customer"),
        c.code,
        c.fields.name
    );
    if !duplicates.is_empty() {
        eprintln!("{}", l.pick("⚠ 可能重复：", "⚠ Possible duplicates:"));
        for d in &duplicates {
            let reasons: Vec<&str> = d
                .reasons
                .iter()
                .map(|r| {
                    if l == Lang::Zh {
                        r.zh.as_ref()
                    } else {
                        r.en.as_ref()
                    }
                })
                .collect();
            eprintln!(
                "  {} {} ({:.2}: {})",
                d.code,
                d.name,
                d.score,
                reasons.join(", ")
            );
        }
    }
    Ok(())
}

fn list(ctx: &mut Ctx, a: ListArgs) -> Result<()> {
    let sort = match a.sort.as_str() {
        "name" => SortKey::Name,
        "code" => SortKey::Code,
        "created" => SortKey::Created,
        "last-followup" | "last_followup" => SortKey::LastFollowup,
        "relevance" => SortKey::Relevance,
        _ => SortKey::Updated,
    };
    let owner = match a.owner.as_deref() {
        Some("none") => Some("none".to_string()),
        Some(o) => owner_id(ctx, o)?,
        None => None,
    };
    let has_period = a.from.is_some() || a.to.is_some() || a.period.is_some();
    let by_deal = a.lost_reason.is_some() || a.keyword.is_some();
    let range = if has_period || by_deal {
        Some(crate::report::period(
            ctx,
            a.from.as_deref(),
            a.to.as_deref(),
            a.period.as_deref(),
        )?)
    } else {
        None
    };
    let period = |(from, to): (i64, i64)| {
        kehu::analysis::Filter {
            from,
            to,
            owner_id: owner.clone().filter(|o| o != "none"),
        }
        .validated()
    };
    let lost = match (&a.lost_reason, range) {
        (Some(r), Some(p)) => Some(customer_list::LostDeals {
            reason: r.clone(),
            period: period(p)?,
        }),
        _ => None,
    };
    let followup_word = match (&a.keyword, range) {
        (Some(w), Some(p)) => Some(customer_list::FollowupWord {
            word: w.clone(),
            field: if a.in_feedback {
                kehu::analysis::keywords::TextField::Feedback
            } else {
                kehu::analysis::keywords::TextField::Content
            },
            period: period(p)?,
        }),
        _ => None,
    };
    // Without a deal or follow-up drill-down, a period is when the
    // customers were created (the leads of `report sources`).
    let created = range.filter(|_| !by_deal);
    let q = CustomerQuery {
        source: a.source,
        lost,
        followup_word,
        created_from: created.map(|r| r.0),
        created_to: created.map(|r| r.1),
        text: a.query,
        status: a
            .status
            .iter()
            .map(|s| parse_status(s))
            .collect::<Result<_>>()?,
        grade: a
            .grade
            .iter()
            .map(|s| parse_grade(s))
            .collect::<Result<_>>()?,
        tag: a.tag,
        owner: if by_deal { None } else { owner },
        industry: a.industry,
        province: a.province,
        city: a.city,
        trash: a.trash,
        sort,
        desc: !a.asc,
        offset: a.offset,
        limit: a.limit,
        ..Default::default()
    };
    let page = customer_list::page(&ctx.ws, &q)?;
    if ctx.json {
        output::json(&page);
    } else {
        output::customer_rows(&page.rows, page.total, ctx.lang);
    }
    Ok(())
}

fn show(ctx: &mut Ctx, id: &str) -> Result<()> {
    let c = customers::get(ctx.ws.conn(), id)?;
    let history = customers::history(ctx.ws.conn(), &c.id)?;
    if ctx.json {
        let mut v = serde_json::to_value(&c)?;
        v["history"] = serde_json::to_value(&history)?;
        output::json(&v);
        return Ok(());
    }
    let l = ctx.lang;
    let f = &c.fields;
    let line = |zh: &str, en: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            println!("{}{v}", pad(&format!("{}:", l.pick(zh, en)), 14));
        }
    };
    line("客户编号", "Code", Some(c.code.clone()));
    line("客户名称", "Name", Some(f.name.clone()));
    line("状态", "Status", Some(f.status.label(l).into()));
    line("分级", "Grade", f.grade.map(|g| g.label(l).to_string()));
    line("行业", "Industry", f.industry.clone());
    line("规模", "Size", f.size.clone());
    let region = [&f.province, &f.city, &f.district]
        .iter()
        .filter_map(|x| x.as_deref())
        .collect::<Vec<_>>()
        .join(" ");
    line("地区", "Region", Some(region));
    line("地址", "Address", f.address.clone());
    line("来源", "Source", f.source.clone());
    line("负责人", "Owner", c.owner_name.clone());
    line("需求", "Needs", f.needs.clone());
    line("预算", "Budget", f.budget.map(|b| format!("{b}")));
    line("采购周期", "Purchase cycle", f.purchase_cycle.clone());
    line(
        "年采购额",
        "Annual purchase",
        f.annual_purchase.map(|b| format!("{b}")),
    );
    line("首次接触", "First contact", f.first_contact_date.clone());
    line(
        "标签",
        "Tags",
        Some(
            c.tags
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    line("备注", "Notes", f.notes.clone());
    line(
        "状态",
        "State",
        c.deleted_at
            .map(|_| l.pick("在回收站中", "in the trash").to_string()),
    );
    println!("{}", l.pick("联系人:", "Contacts:"));
    for ct in &c.contacts {
        let cf = &ct.fields;
        println!(
            "  {}{} {} {} {}",
            if cf.is_primary { "★ " } else { "  " },
            cf.name,
            cf.title.as_deref().unwrap_or(""),
            cf.mobile.as_deref().or(cf.phone.as_deref()).unwrap_or(""),
            cf.email.as_deref().unwrap_or("")
        );
    }
    println!("{}", l.pick("修改记录:", "History:"));
    for h in history.iter().take(30) {
        let who = h.actor_name.clone().unwrap_or_else(|| h.origin.clone());
        let show = |v: &Option<Value>| match v {
            None => "∅".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        println!(
            "  {} {} {}.{}: {} → {}",
            kehu::clock::format_local(h.at),
            who,
            h.entity,
            h.field,
            show(&h.old),
            show(&h.new)
        );
    }
    Ok(())
}

fn edit(ctx: &mut Ctx, a: EditArgs) -> Result<()> {
    let mut patch = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            patch.insert(k.to_string(), Value::String(v));
        }
    };
    put("name", a.name);
    put("industry", a.industry);
    put("size", a.size);
    put("province", a.province);
    put("city", a.city);
    put("district", a.district);
    put("address", a.address);
    put("source", a.source);
    put("needs", a.needs);
    put("purchase_cycle", a.purchase_cycle);
    put("first_contact_date", a.first_contact_date);
    put("notes", a.notes);
    if let Some(k) = a.kind {
        let kind = match k.as_str() {
            "individual" | "个人" => "individual",
            _ => "company",
        };
        patch.insert("kind".into(), Value::from(kind));
    }
    if let Some(s) = a.status {
        patch.insert("status".into(), Value::from(parse_status(&s)?.key()));
    }
    if let Some(g) = a.grade {
        let v = if g.trim().is_empty() {
            Value::Null
        } else {
            Value::from(parse_grade(&g)?.key())
        };
        patch.insert("grade".into(), v);
    }
    if let Some(o) = a.owner {
        patch.insert(
            "owner_id".into(),
            owner_id(ctx, &o)?.map(Value::from).unwrap_or(Value::Null),
        );
    }
    if let Some(b) = a.budget {
        patch.insert("budget".into(), parse_amount("budget", &b)?);
    }
    if let Some(b) = a.annual_purchase {
        patch.insert(
            "annual_purchase".into(),
            parse_amount("annual_purchase", &b)?,
        );
    }
    let c = customers::update(&mut ctx.ws, &a.id, &patch)?;
    if ctx.json {
        output::json(&c);
    } else {
        println!(
            "{} {} {}",
            ctx.lang.pick("已更新", "Updated"),
            c.code,
            c.fields.name
        );
    }
    Ok(())
}
