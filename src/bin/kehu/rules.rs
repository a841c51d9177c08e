//! `kehu rules`: the segment rules (客户画像) and alert thresholds (预警):
//! show them, or change the ones given (the others stay).

use crate::{output, Ctx};
use kehu::alerts;
use kehu::analysis::segments;
use kehu::{Error, Result};

#[derive(clap::Args)]
pub struct Args {
    /// High value: annual purchase at least this (yuan).
    #[arg(long)]
    high_value_annual: Option<f64>,
    /// High value: repurchase rate at least this (0–1).
    #[arg(long)]
    repurchase_rate: Option<f64>,
    /// Potential: at least this many done follow-ups …
    #[arg(long)]
    potential_followups: Option<i64>,
    /// … in the last this many days …
    #[arg(long)]
    potential_days: Option<i64>,
    /// … and a need match at least this (0–1).
    #[arg(long)]
    need_match: Option<f64>,
    /// Need tags that match our offer (repeat; replaces the list).
    #[arg(long = "matching-tag")]
    matching_tags: Vec<String>,
    /// No need tag matches our offer any more.
    #[arg(long, conflicts_with = "matching_tags")]
    clear_matching_tags: bool,
    /// Churn risk: no follow-up for this many days.
    #[arg(long)]
    churn_days: Option<i64>,
    /// Churn risk: recent feedback containing this phrase (repeat; replaces the list).
    #[arg(long = "churn-phrase")]
    churn_phrases: Vec<String>,
    /// The recommended action of a segment: high_value=TEXT, potential=TEXT or churn_risk=TEXT (repeat).
    #[arg(long = "action", value_name = "SEGMENT=TEXT")]
    actions: Vec<String>,
    /// Alert: a lead not followed up for this many days alerts its owner.
    #[arg(long)]
    lead_owner_days: Option<i64>,
    /// Alert: … for this many days alerts the manager.
    #[arg(long)]
    lead_manager_days: Option<i64>,
    /// Alert: an open opportunity in one stage for more than this many days.
    #[arg(long)]
    opportunity_stage_days: Option<i64>,
    /// Alert: a customer without a follow-up for this many days is a churn risk.
    #[arg(long)]
    alert_churn_days: Option<i64>,
}

pub fn run(ctx: &mut Ctx, a: Args) -> Result<()> {
    let l = ctx.lang;
    let mut r = segments::rules(ctx.ws.conn())?;
    let before = r.clone();
    set(&mut r.high_value_annual_purchase, a.high_value_annual);
    set(&mut r.high_value_repurchase_rate, a.repurchase_rate);
    set(&mut r.potential_followups, a.potential_followups);
    set(&mut r.potential_days, a.potential_days);
    set(&mut r.potential_need_match, a.need_match);
    set(&mut r.churn_days, a.churn_days);
    if !a.matching_tags.is_empty() || a.clear_matching_tags {
        r.matching_tags = a.matching_tags;
    }
    if !a.churn_phrases.is_empty() {
        r.churn_phrases = a.churn_phrases;
    }
    for pair in a.actions {
        let Some((seg, text)) = pair.split_once('=') else {
            return Err(Error::validation(
                "action",
                format!("建议动作要写成 客户画像=内容，例如 high_value=专人对接（收到“{pair}”）"),
                format!(
                    "An action is SEGMENT=TEXT, e.g. high_value=dedicated contact (got “{pair}”)"
                ),
            ));
        };
        r.actions
            .insert(seg.trim().to_string(), text.trim().to_string());
    }
    if r != before {
        segments::set_rules(&mut ctx.ws, r.clone())?;
    }
    let mut t = alerts::thresholds(ctx.ws.conn())?;
    let was = t;
    set(&mut t.lead_owner_days, a.lead_owner_days);
    set(&mut t.lead_manager_days, a.lead_manager_days);
    set(&mut t.opportunity_stage_days, a.opportunity_stage_days);
    set(&mut t.churn_days, a.alert_churn_days);
    if t != was {
        alerts::set_thresholds(&mut ctx.ws, t)?;
    }
    if ctx.json {
        output::json(&serde_json::json!({"segments": r, "alerts": t}));
        return Ok(());
    }
    let pct = |x: f64| format!("{}%", (x * 1000.0).round() / 10.0);
    let label = |s: &str| segments::label(s, l);
    println!(
        "{}",
        l.pick(
            &format!(
                "高价值客户：年采购额 ≥ {} 元，复购率 ≥ {}",
                r.high_value_annual_purchase,
                pct(r.high_value_repurchase_rate)
            ),
            &format!(
                "High value: annual purchase ≥ {} yuan, repurchase rate ≥ {}",
                r.high_value_annual_purchase,
                pct(r.high_value_repurchase_rate)
            ),
        )
    );
    let matching = if r.matching_tags.is_empty() {
        l.pick("（未设置）", "(none)").to_string()
    } else {
        r.matching_tags.join(l.pick("，", ", "))
    };
    println!(
        "{}",
        l.pick(
            &format!(
                "潜力客户：近 {} 天完成跟进 ≥ {} 次，需求匹配度 ≥ {}；匹配的需求标签：{matching}",
                r.potential_days,
                r.potential_followups,
                pct(r.potential_need_match)
            ),
            &format!(
                "Potential: ≥ {} follow-ups done in the last {} days, need match ≥ {}; matching need tags: {matching}",
                r.potential_followups,
                r.potential_days,
                pct(r.potential_need_match)
            ),
        )
    );
    let phrases = r.churn_phrases.join(l.pick("，", ", "));
    println!(
        "{}",
        l.pick(
            &format!(
                "流失风险客户：{} 天无跟进，或近期反馈含：{phrases}",
                r.churn_days
            ),
            &format!(
                "Churn risk: {} days without a follow-up, or recent feedback containing: {phrases}",
                r.churn_days
            ),
        )
    );
    for s in segments::ALL {
        let action = r.actions.get(s).map(String::as_str).unwrap_or("");
        println!("{}{}{action}", label(s), l.pick("：", ": "));
    }
    println!(
        "{}",
        l.pick(
            &format!(
                "预警：线索 {} 天未跟进提醒负责人，{} 天提醒主管；商机同一阶段超过 {} 天；客户 {} 天无跟进标记流失风险",
                t.lead_owner_days, t.lead_manager_days, t.opportunity_stage_days, t.churn_days
            ),
            &format!(
                "Alerts: a lead not followed up for {} days → its owner, {} days → the manager; an opportunity in one stage over {} days; a customer without a follow-up for {} days → churn risk",
                t.lead_owner_days, t.lead_manager_days, t.opportunity_stage_days, t.churn_days
            ),
        )
    );
    Ok(())
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}
