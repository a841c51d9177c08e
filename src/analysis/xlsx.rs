//! The Excel report: one sheet per metric with real numbers (percent and
//! amount formats, empty cells where a ratio is undefined) and native Excel
//! charts a manager can edit (funnels as bar charts, trends as lines).

use super::*;
use crate::i18n::Lang;
use crate::import::report::xlsx_error;
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet};
use std::path::Path;

struct Fmt {
    head: Format,
    pct: Format,
    money: Format,
    days: Format,
}

fn put_opt(ws: &mut Worksheet, r: u32, c: u16, v: Option<f64>, f: &Format) -> Result<()> {
    if let Some(v) = v {
        ws.write_number_with_format(r, c, v, f)
            .map_err(xlsx_error)?;
    }
    Ok(())
}

fn header(ws: &mut Worksheet, r: u32, cols: &[&str], f: &Fmt) -> Result<()> {
    for (i, h) in cols.iter().enumerate() {
        ws.write_string_with_format(r, i as u16, *h, &f.head)
            .map_err(xlsx_error)?;
        ws.set_column_width(i as u16, 14).map_err(xlsx_error)?;
    }
    Ok(())
}

fn funnel_sheet(wb: &mut Workbook, name: &str, fu: &Funnel, f: &Fmt, lang: Lang) -> Result<()> {
    let ws = wb.add_worksheet();
    ws.set_name(name).map_err(xlsx_error)?;
    header(
        ws,
        0,
        &[
            lang.pick("阶段", "Stage"),
            lang.pick("进入数", "Entered"),
            lang.pick("转化率", "Conversion"),
            lang.pick("流失率", "Drop"),
            lang.pick("平均停留天数", "Avg days"),
        ],
        f,
    )?;
    for (i, s) in fu.stages.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &s.label).map_err(xlsx_error)?;
        ws.write_number(r, 1, s.entered as f64)
            .map_err(xlsx_error)?;
        put_opt(ws, r, 2, s.conversion, &f.pct)?;
        put_opt(ws, r, 3, s.drop, &f.pct)?;
        put_opt(ws, r, 4, s.avg_days, &f.days)?;
    }
    let n = fu.stages.len() as u32;
    let mut r = n + 2;
    if !fu.loss_reasons.is_empty() {
        header(
            ws,
            r,
            &[
                lang.pick("输单原因", "Loss reason"),
                lang.pick("数量", "Count"),
                lang.pick("占比", "Share"),
            ],
            f,
        )?;
        for l in &fu.loss_reasons {
            r += 1;
            ws.write_string(r, 0, &l.reason).map_err(xlsx_error)?;
            ws.write_number(r, 1, l.count as f64).map_err(xlsx_error)?;
            ws.write_number_with_format(r, 2, l.share, &f.pct)
                .map_err(xlsx_error)?;
        }
    }
    if n > 0 {
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name(lang.pick("进入数", "Entered"))
            .set_categories((name, 1, 0, n, 0))
            .set_values((name, 1, 1, n, 1));
        chart.title().set_name(name);
        // A funnel reads top-down: first stage at the top.
        chart.y_axis().set_reverse();
        chart.legend().set_hidden();
        ws.insert_chart(0, 6, &chart).map_err(xlsx_error)?;
    }
    Ok(())
}

fn kv(ws: &mut Worksheet, r: &mut u32, k: &str, v: Option<f64>, f: &Format) -> Result<()> {
    ws.write_string(*r, 0, k).map_err(xlsx_error)?;
    put_opt(ws, *r, 1, v, f)?;
    *r += 1;
    Ok(())
}

fn groups_sheet(
    wb: &mut Workbook,
    name: &str,
    first: &str,
    groups: &[GroupWin],
    f: &Fmt,
    lang: Lang,
) -> Result<()> {
    let ws = wb.add_worksheet();
    ws.set_name(name).map_err(xlsx_error)?;
    header(
        ws,
        0,
        &[
            first,
            lang.pick("线索数", "Leads"),
            lang.pick("成交数", "Won"),
            lang.pick("成交率", "Win rate"),
            lang.pick("30天成交数", "Won in 30 days"),
            lang.pick("30天成单率", "30-day win rate"),
        ],
        f,
    )?;
    for (i, g) in groups.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &g.label).map_err(xlsx_error)?;
        ws.write_number(r, 1, g.customers as f64)
            .map_err(xlsx_error)?;
        ws.write_number(r, 2, g.won as f64).map_err(xlsx_error)?;
        put_opt(ws, r, 3, g.win_rate, &f.pct)?;
        ws.write_number(r, 4, g.won_30d as f64)
            .map_err(xlsx_error)?;
        put_opt(ws, r, 5, g.win_rate_30d, &f.pct)?;
    }
    if !groups.is_empty() {
        let n = groups.len() as u32;
        let mut chart = Chart::new(ChartType::Column);
        chart
            .add_series()
            .set_name(lang.pick("成交率", "Win rate"))
            .set_categories((name, 1, 0, n, 0))
            .set_values((name, 1, 3, n, 3));
        chart.title().set_name(name);
        chart.legend().set_hidden();
        ws.insert_chart(0, 7, &chart).map_err(xlsx_error)?;
    }
    Ok(())
}

/// Write the report of `f` at time `now` to `path` (xlsx).
pub fn write_report(
    conn: &Connection,
    f: &Filter,
    now: i64,
    lang: Lang,
    path: &Path,
) -> Result<()> {
    let fmt = Fmt {
        head: Format::new().set_bold().set_background_color("#DDEBF7"),
        pct: Format::new().set_num_format("0.0%"),
        money: Format::new().set_num_format("#,##0.00"),
        days: Format::new().set_num_format("0.0"),
    };
    let ReportData {
        sales,
        conv,
        cyc,
        pf,
        cf,
        tr,
        fa,
        src,
        ..
    } = ReportData::load(conn, f, now, lang)?;

    let mut wb = Workbook::new();
    // 概览
    {
        let ws = wb.add_worksheet();
        let name = lang.pick("概览", "Overview");
        ws.set_name(name).map_err(xlsx_error)?;
        ws.set_column_width(0, 22).map_err(xlsx_error)?;
        ws.set_column_width(1, 18).map_err(xlsx_error)?;
        ws.write_string_with_format(0, 0, lang.pick("销售分析报表", "Sales report"), &fmt.head)
            .map_err(xlsx_error)?;
        let period = format!(
            "{} – {}",
            local_date(f.from).format("%Y-%m-%d"),
            local_date(f.to - 1).format("%Y-%m-%d")
        );
        ws.write_string(1, 0, lang.pick("统计周期", "Period"))
            .map_err(xlsx_error)?;
        ws.write_string(1, 1, &period).map_err(xlsx_error)?;
        let mut r = 3;
        let m = &fmt.money;
        let p = &fmt.pct;
        let d = &fmt.days;
        let int = Format::new().set_num_format("0");
        kv(
            ws,
            &mut r,
            lang.pick("销售额", "Won amount"),
            Some(sales.won_amount),
            m,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("成交单数", "Wins"),
            Some(sales.wins as f64),
            &int,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("客单价", "Average deal"),
            sales.avg_deal,
            m,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("回款金额", "Received"),
            Some(sales.received_amount),
            m,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("回款率", "Collection rate"),
            sales.collection_rate,
            p,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("目标金额", "Target"),
            sales.target_amount,
            m,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("目标完成率", "Target completion"),
            sales.target_completion,
            p,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("预计完成率", "Projected completion"),
            sales.projected_completion,
            p,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("业绩缺口", "Shortfall"),
            sales.shortfall,
            m,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("线索数", "Leads"),
            Some(conv.leads as f64),
            &int,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("线索转化率", "Lead conversion"),
            conv.lead_conversion,
            p,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("商机赢单率", "Win rate"),
            conv.win_rate,
            p,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("赢单率（按新建）", "Won / created"),
            conv.win_rate_of_created,
            p,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("平均成交周期（天）", "Average cycle (days)"),
            cyc.avg_cycle_days,
            d,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("成交周期中位数（天）", "Median cycle (days)"),
            cyc.median_cycle_days,
            d,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("跟进次数", "Follow-ups"),
            Some(fa.total as f64),
            &int,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("有效跟进占比", "Effective share"),
            fa.effective_share,
            p,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("平均响应时长（天）", "Avg response (days)"),
            fa.avg_response_days,
            d,
        )?;
        kv(
            ws,
            &mut r,
            lang.pick("低优先级商机", "Low-priority deals"),
            Some(low_priority(conn, f)?.count as f64),
            &int,
        )?;
    }
    funnel_sheet(
        &mut wb,
        lang.pick("销售漏斗", "Pipeline funnel"),
        &pf,
        &fmt,
        lang,
    )?;
    funnel_sheet(
        &mut wb,
        lang.pick("客户漏斗", "Customer funnel"),
        &cf,
        &fmt,
        lang,
    )?;
    // 趋势
    {
        let name = lang.pick("趋势", "Trend");
        let ws = wb.add_worksheet();
        ws.set_name(name).map_err(xlsx_error)?;
        header(
            ws,
            0,
            &[
                lang.pick("日期", "Date"),
                lang.pick("销售额", "Won amount"),
                lang.pick("成交单数", "Wins"),
                lang.pick("新客户", "New customers"),
                lang.pick("跟进次数", "Follow-ups"),
                lang.pick("线索转化率", "Lead conversion"),
            ],
            &fmt,
        )?;
        for (i, t) in tr.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, &t.start).map_err(xlsx_error)?;
            ws.write_number_with_format(r, 1, t.won_amount, &fmt.money)
                .map_err(xlsx_error)?;
            ws.write_number(r, 2, t.wins as f64).map_err(xlsx_error)?;
            ws.write_number(r, 3, t.new_customers as f64)
                .map_err(xlsx_error)?;
            ws.write_number(r, 4, t.followups as f64)
                .map_err(xlsx_error)?;
            put_opt(ws, r, 5, t.lead_conversion, &fmt.pct)?;
        }
        if !tr.is_empty() {
            let n = tr.len() as u32;
            let mut chart = Chart::new(ChartType::Line);
            chart
                .add_series()
                .set_name((name, 0, 1))
                .set_categories((name, 1, 0, n, 0))
                .set_values((name, 1, 1, n, 1));
            chart
                .title()
                .set_name(lang.pick("销售额趋势", "Won amount"));
            ws.insert_chart(0, 7, &chart).map_err(xlsx_error)?;
            let mut chart = Chart::new(ChartType::Line);
            for c in [3u16, 4] {
                chart
                    .add_series()
                    .set_name((name, 0, c))
                    .set_categories((name, 1, 0, n, 0))
                    .set_values((name, 1, c, n, c));
            }
            chart
                .title()
                .set_name(lang.pick("新客户与跟进", "New customers and follow-ups"));
            ws.insert_chart(16, 7, &chart).map_err(xlsx_error)?;
        }
    }
    // 跟进
    {
        let name = lang.pick("跟进方式", "Follow-up kinds");
        let ws = wb.add_worksheet();
        ws.set_name(name).map_err(xlsx_error)?;
        header(
            ws,
            0,
            &[lang.pick("方式", "Kind"), lang.pick("次数", "Count")],
            &fmt,
        )?;
        for (i, k) in fa.by_kind.iter().enumerate() {
            ws.write_string(i as u32 + 1, 0, &k.label)
                .map_err(xlsx_error)?;
            ws.write_number(i as u32 + 1, 1, k.count as f64)
                .map_err(xlsx_error)?;
        }
        let n = fa.by_kind.len() as u32;
        let mut chart = Chart::new(ChartType::Pie);
        chart
            .add_series()
            .set_categories((name, 1, 0, n, 0))
            .set_values((name, 1, 1, n, 1));
        chart.title().set_name(name);
        ws.insert_chart(0, 3, &chart).map_err(xlsx_error)?;
    }
    groups_sheet(
        &mut wb,
        lang.pick("跟进方式成交率", "Win by kind"),
        lang.pick("方式", "Kind"),
        &fa.win_by_kind,
        &fmt,
        lang,
    )?;
    groups_sheet(
        &mut wb,
        lang.pick("线索来源", "Sources"),
        lang.pick("来源", "Source"),
        &src.sources,
        &fmt,
        lang,
    )?;
    groups_sheet(
        &mut wb,
        lang.pick("标签成交率", "Win by tag"),
        lang.pick("标签", "Tag"),
        &fa.win_by_tag,
        &fmt,
        lang,
    )?;
    // 目标 (when the period is a month or a quarter)
    let d = local_date(f.from);
    let candidates = [
        d.format("%Y-%m").to_string(),
        format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
    ];
    for p in candidates {
        let (norm, a, b) = super::targets::parse_period(&p)?;
        if a != f.from || b != f.to {
            continue;
        }
        let rep = super::targets::report(conn, &norm, now, lang)?;
        let ws = wb.add_worksheet();
        ws.set_name(lang.pick("目标", "Targets"))
            .map_err(xlsx_error)?;
        header(
            ws,
            0,
            &[
                lang.pick("排名", "Rank"),
                lang.pick("负责人", "Owner"),
                lang.pick("目标金额", "Target"),
                lang.pick("销售额", "Won amount"),
                lang.pick("完成率", "Completion"),
                lang.pick("预计完成率", "Projected"),
                lang.pick("业绩缺口", "Shortfall"),
            ],
            &fmt,
        )?;
        for (i, row) in std::iter::once(&rep.team)
            .chain(rep.members.iter())
            .enumerate()
        {
            let r = i as u32 + 1;
            put_opt(ws, r, 0, row.rank.map(|x| x as f64), &Format::new())?;
            ws.write_string(r, 1, &row.name).map_err(xlsx_error)?;
            put_opt(ws, r, 2, row.target.amount, &fmt.money)?;
            ws.write_number_with_format(r, 3, row.won_amount, &fmt.money)
                .map_err(xlsx_error)?;
            put_opt(ws, r, 4, row.target_completion, &fmt.pct)?;
            put_opt(ws, r, 5, row.projected_completion, &fmt.pct)?;
            put_opt(ws, r, 6, row.shortfall, &fmt.money)?;
        }
        break;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    wb.save(path).map_err(xlsx_error)?;
    Ok(())
}
