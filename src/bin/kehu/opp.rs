//! `kehu opp …`: opportunities (销售机会) and their stages.

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::clock::format_local;
use kehu::opportunities::{self, NewOpportunity, Opportunity, OpportunityFields, OpportunityQuery};
use kehu::{Lang, Result};

#[derive(Subcommand)]
pub enum Cmd {
    /// Add an opportunity to a customer.
    Add {
        /// Customer code or id.
        customer: String,
        #[arg(long)]
        name: String,
        /// Expected amount (yuan).
        #[arg(long)]
        amount: Option<f64>,
        /// Expected close date (YYYY-MM-DD).
        #[arg(long)]
        close: Option<String>,
        /// Starting stage (default: the first).
        #[arg(long)]
        stage: Option<String>,
        /// Owner (member name, id or employee no.); default the customer's owner.
        #[arg(long)]
        owner: Option<String>,
        /// When it was created, for back-filling (YYYY-MM-DD [HH:MM]).
        #[arg(long)]
        at: Option<String>,
    },
    /// Move an opportunity to a stage (输单/lost needs --reason).
    Stage {
        id: String,
        stage: String,
        #[arg(long)]
        reason: Option<String>,
        /// When it moved, for back-filling (YYYY-MM-DD [HH:MM]).
        #[arg(long)]
        at: Option<String>,
    },
    /// Record a payment (回款); several per deal.
    Receive {
        id: String,
        #[arg(long)]
        amount: f64,
        /// When it was received (YYYY-MM-DD [HH:MM]); default now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Set amounts: --won, --received.
    Amount {
        id: String,
        #[arg(long)]
        expected: Option<f64>,
        #[arg(long)]
        won: Option<f64>,
        #[arg(long)]
        received: Option<f64>,
    },
    /// List opportunities.
    List {
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        stage: Option<String>,
    },
    /// Time spent in each stage.
    History { id: String },
    /// The pipeline as columns with counts and amounts.
    Board,
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Add {
            customer,
            name,
            amount,
            close,
            stage,
            owner,
            at,
        } => {
            let at = parse_at(at.as_deref())?;
            let owner_id = owner
                .map(|o| kehu::members::resolve(ctx.ws.conn(), &o).map(|m| m.id))
                .transpose()?;
            let o = opportunities::create_at(
                &mut ctx.ws,
                NewOpportunity {
                    customer,
                    fields: OpportunityFields {
                        name,
                        owner_id,
                        expected_amount: amount,
                        expected_close_date: close,
                        ..Default::default()
                    },
                    stage,
                },
                at,
            )?;
            show(ctx, &o);
        }
        Cmd::Stage {
            id,
            stage,
            reason,
            at,
        } => {
            let at = parse_at(at.as_deref())?;
            let o = opportunities::set_stage_at(&mut ctx.ws, &id, &stage, reason.as_deref(), at)?;
            show(ctx, &o);
        }
        Cmd::Receive {
            id,
            amount,
            at,
            note,
        } => {
            let at = parse_at(at.as_deref())?;
            let o = opportunities::receive(&mut ctx.ws, &id, amount, at, note.as_deref())?;
            show(ctx, &o);
        }
        Cmd::Amount {
            id,
            expected,
            won,
            received,
        } => {
            let mut patch = serde_json::Map::new();
            for (k, v) in [
                ("expected_amount", expected),
                ("won_amount", won),
                ("received_amount", received),
            ] {
                if let Some(v) = v {
                    patch.insert(k.into(), v.into());
                }
            }
            let o = opportunities::update(&mut ctx.ws, &id, &patch)?;
            show(ctx, &o);
        }
        Cmd::List { customer, stage } => {
            let rows = opportunities::list(
                ctx.ws.conn(),
                &OpportunityQuery {
                    customer,
                    stage,
                    ..Default::default()
                },
                l,
            )?;
            if ctx.json {
                output::json(&rows)
            } else {
                for o in &rows {
                    row(o);
                }
                println!(
                    "{}",
                    match l {
                        Lang::Zh => format!("共 {} 个销售机会", rows.len()),
                        Lang::En => format!("{} opportunities", rows.len()),
                    }
                );
            }
        }
        Cmd::History { id } => {
            let h = opportunities::stage_history(ctx.ws.conn(), &id, ctx.ws.now_ms(), l)?;
            if ctx.json {
                output::json(&h)
            } else {
                for s in &h {
                    println!(
                        "{}  {}  {}  {:.1} {}{}",
                        output::pad(&s.stage_name, 10),
                        format_local(s.entered_at),
                        output::pad(
                            &s.left_at.map(format_local).unwrap_or_else(|| "-".into()),
                            16
                        ),
                        s.duration_ms as f64 / 86_400_000.0,
                        l.pick("天", "days"),
                        s.reason
                            .as_ref()
                            .map(|r| format!("  {r}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        Cmd::Board => {
            let cols = opportunities::board(ctx.ws.conn(), None, 20, l)?;
            if ctx.json {
                output::json(&cols)
            } else {
                for c in &cols {
                    println!(
                        "{}  {}  {:.0}",
                        output::pad(&c.label, 10),
                        c.count,
                        c.amount
                    );
                }
            }
        }
    }
    Ok(())
}

fn parse_at(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| {
        kehu::dates::parse_local_datetime(t).ok_or_else(|| {
            kehu::Error::validation(
                "at",
                format!("无法识别的时间“{t}”，请用 2026-11-20 14:30 这样的格式"),
                format!("“{t}” is not a time; use the form 2026-11-20 14:30"),
            )
        })
    })
    .transpose()
}

fn show(ctx: &Ctx, o: &Opportunity) {
    if ctx.json {
        output::json(o)
    } else {
        row(o)
    }
}

fn row(o: &Opportunity) {
    println!(
        "{}  {}  {}  {}  {}  {}",
        o.id,
        output::pad(&o.fields.name, 24),
        output::pad(&o.customer_name, 24),
        output::pad(&o.stage_name, 10),
        o.fields
            .expected_amount
            .map(|a| format!("{a:.0}"))
            .unwrap_or_else(|| "-".into()),
        o.loss_reason.as_deref().unwrap_or("")
    );
}
