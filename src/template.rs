//! The import template (导入模板): an xlsx with the standard Chinese headers,
//! dropdowns for status, grade, industry and source fed from a hidden sheet
//! of allowed values, an instructions sheet and two example rows; plus the
//! follow-up and opportunity sheets of seed 004 (客户跟进记录表).

use crate::customers::{Grade, Status, INDUSTRIES, SOURCES};
use crate::error::Result;
use crate::i18n::Lang;
use crate::import::mapping::Field;
use crate::import::report::xlsx_error;
use rust_xlsxwriter::{DataValidation, ExcelDateTime, Format, Formula, Workbook};
use std::path::Path;

/// Name of the customer sheet (the importer picks it by its header anyway).
pub const CUSTOMER_SHEET: &str = "客户信息";
pub const FOLLOWUP_SHEET: &str = "跟进记录";
pub const OPPORTUNITY_SHEET: &str = "销售机会";
pub const LISTS_SHEET: &str = "选项";
/// Rows the dropdowns cover.
const VALIDATED_ROWS: u32 = 5000;

/// Columns of the customer sheet.
pub fn customer_columns() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| *f != Field::LastFollowupAt)
        .collect()
}

fn example(f: Field, first: bool) -> &'static str {
    let (a, b) = match f {
        Field::Code => ("", ""),
        Field::Name => ("杭州云帆科技有限公司", "李娜"),
        Field::Kind => ("企业", "个人"),
        Field::Industry => ("制造业", "批发零售"),
        Field::Size => ("101-500人", ""),
        Field::Province => ("浙江省", "广东省"),
        Field::City => ("杭州市", "深圳市"),
        Field::District => ("西湖区", "南山区"),
        Field::Address => ("文三路 100 号", ""),
        Field::Source => ("展会", "转介绍"),
        Field::Status => ("意向客户", "潜在客户"),
        Field::Grade => ("A", "C"),
        Field::Owner => ("", ""),
        Field::Tags => ("重点,华东", "个人客户"),
        Field::ContactName => ("张伟", "李娜"),
        Field::ContactTitle => ("采购经理", ""),
        Field::ContactMobile => ("13800138000", "13912345678"),
        Field::ContactPhone => ("0571-88886666", ""),
        Field::ContactEmail => ("zhangwei@example.com", ""),
        Field::ContactWechat => ("", "lina_2024"),
        Field::Needs => ("需要技术方案，价格敏感", ""),
        Field::Budget => ("", ""),
        Field::PurchaseCycle => ("季度", ""),
        Field::AnnualPurchase => ("", ""),
        Field::FirstContactDate => ("", ""),
        Field::Notes => ("示例行，导入前请删除", "示例行，导入前请删除"),
        Field::LastFollowupAt => ("", ""),
    };
    if first {
        a
    } else {
        b
    }
}

/// Write the template to `path`.
pub fn write_template(path: &Path) -> Result<()> {
    let lang = Lang::Zh;
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color(0xDDEBF7);
    let required = Format::new().set_bold().set_background_color(0xFCE4D6);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let money = Format::new().set_num_format("#,##0");
    let cols = customer_columns();

    // Allowed values (hidden), one column per list.
    let lists: Vec<(&str, Vec<String>)> = vec![
        (
            "客户状态",
            Status::ALL
                .iter()
                .map(|s| s.label(lang).to_string())
                .collect(),
        ),
        (
            "客户分级",
            Grade::ALL.iter().map(|g| g.key().to_string()).collect(),
        ),
        (
            "所属行业",
            INDUSTRIES.iter().map(|s| s.to_string()).collect(),
        ),
        ("线索来源", SOURCES.iter().map(|s| s.to_string()).collect()),
        ("客户类别", vec!["企业".into(), "个人".into()]),
        (
            "跟进方式",
            ["电话", "拜访", "邮件", "会议", "微信"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        ("是否有效", vec!["是".into(), "否".into()]),
        (
            "机会阶段",
            [
                "初步接触",
                "需求分析",
                "方案提供",
                "商务谈判",
                "合同签订",
                "回款完成",
                "输单",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
    ];
    let list_ref = |title: &str| -> Option<Formula> {
        let (i, (_, v)) = lists.iter().enumerate().find(|(_, (t, _))| *t == title)?;
        let col = (b'A' + i as u8) as char;
        Some(Formula::new(format!(
            "={LISTS_SHEET}!${col}$2:${col}${}",
            v.len() + 1
        )))
    };

    {
        let ws = wb.add_worksheet();
        ws.set_name(CUSTOMER_SHEET).map_err(xlsx_error)?;
        for (i, f) in cols.iter().enumerate() {
            let c = i as u16;
            let fmt = if *f == Field::Name { &required } else { &head };
            ws.write_string_with_format(0, c, f.header(lang), fmt)
                .map_err(xlsx_error)?;
            ws.set_column_width(
                c,
                if matches!(
                    f,
                    Field::Name | Field::Address | Field::Needs | Field::Notes
                ) {
                    24
                } else {
                    12
                },
            )
            .map_err(xlsx_error)?;
            for (r, first) in [(1u32, true), (2u32, false)] {
                let v = example(*f, first);
                if !v.is_empty() {
                    ws.write_string(r, c, v).map_err(xlsx_error)?;
                }
            }
            if *f == Field::FirstContactDate {
                let d = ExcelDateTime::from_ymd(2024, 3, 1).map_err(xlsx_error)?;
                ws.write_datetime_with_format(1, c, &d, &date)
                    .map_err(xlsx_error)?;
            }
            if *f == Field::Budget {
                ws.write_number_with_format(1, c, 50000.0, &money)
                    .map_err(xlsx_error)?;
            }
            let title = match f {
                Field::Status => "客户状态",
                Field::Grade => "客户分级",
                Field::Industry => "所属行业",
                Field::Source => "线索来源",
                Field::Kind => "客户类别",
                _ => continue,
            };
            if let Some(formula) = list_ref(title) {
                let mut dv = DataValidation::new()
                    .allow_list_formula(formula)
                    .set_input_message(format!("请从下拉列表选择{}", f.header(lang)))
                    .map_err(xlsx_error)?;
                // Industry and source accept free text too: warn, don't block.
                if matches!(f, Field::Industry | Field::Source) {
                    dv = dv.set_error_style(rust_xlsxwriter::DataValidationErrorStyle::Information);
                }
                ws.add_data_validation(1, c, VALIDATED_ROWS, c, &dv)
                    .map_err(xlsx_error)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(FOLLOWUP_SHEET).map_err(xlsx_error)?;
        let headers = [
            "跟进记录ID",
            "客户编号",
            "客户名称",
            "跟进时间",
            "跟进方式",
            "跟进人",
            "跟进内容摘要",
            "客户反馈",
            "下一步计划",
            "是否有效跟进",
        ];
        let rows = [
            [
                "GZ2024001",
                "",
                "杭州云帆科技有限公司",
                "2024-03-05 10:00",
                "电话",
                "",
                "确认客户需求细节，发送技术方案",
                "方案需补充成本说明",
                "3月8日前更新方案并再次沟通",
                "是",
            ],
            [
                "GZ2024002",
                "",
                "李娜",
                "2024-03-04 15:30",
                "微信",
                "",
                "介绍季度优惠套餐",
                "价格仍偏高",
                "3月6日前与上级协商折扣",
                "是",
            ],
        ];
        for (i, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *h, &head)
                .map_err(xlsx_error)?;
            ws.set_column_width(i as u16, if i >= 6 { 28 } else { 14 })
                .map_err(xlsx_error)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r as u32 + 1, c as u16, *v)
                        .map_err(xlsx_error)?;
                }
            }
        }
        for (col, title) in [(4u16, "跟进方式"), (9u16, "是否有效")] {
            if let Some(f) = list_ref(title) {
                ws.add_data_validation(
                    1,
                    col,
                    VALIDATED_ROWS,
                    col,
                    &DataValidation::new().allow_list_formula(f),
                )
                .map_err(xlsx_error)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(OPPORTUNITY_SHEET).map_err(xlsx_error)?;
        let headers = [
            "客户编号",
            "客户名称",
            "机会名称",
            "预计成交金额(元)",
            "预计成交日期",
            "阶段",
            "负责人",
            "输单原因",
            "备注",
        ];
        for (i, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *h, &head)
                .map_err(xlsx_error)?;
            ws.set_column_width(i as u16, 16).map_err(xlsx_error)?;
        }
        let row = [
            "",
            "杭州云帆科技有限公司",
            "2024 年度设备采购",
            "",
            "",
            "方案提供",
            "",
            "",
            "示例行",
        ];
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(1, c as u16, *v).map_err(xlsx_error)?;
            }
        }
        ws.write_number_with_format(1, 3, 50000.0, &money)
            .map_err(xlsx_error)?;
        let d = ExcelDateTime::from_ymd(2024, 6, 30).map_err(xlsx_error)?;
        ws.write_datetime_with_format(1, 4, &d, &date)
            .map_err(xlsx_error)?;
        if let Some(f) = list_ref("机会阶段") {
            ws.add_data_validation(
                1,
                5,
                VALIDATED_ROWS,
                5,
                &DataValidation::new().allow_list_formula(f),
            )
            .map_err(xlsx_error)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("填写说明").map_err(xlsx_error)?;
        let wrap = Format::new().set_text_wrap();
        ws.set_column_width(0, 18).map_err(xlsx_error)?;
        ws.set_column_width(1, 80).map_err(xlsx_error)?;
        let lines: Vec<(String, String)> = vec![
            ("使用方法".into(), "在“客户信息”表中每行填写一个客户，保存后在 Kehu 中选择“导入”。第 2、3 行是示例，导入前请删除。".into()),
            ("必填".into(), "客户名称（橙色表头）必填，其他列可以留空。".into()),
            ("客户编号".into(), "留空时自动生成（如 C20240301001）；填写时不能与已有客户重复。".into()),
            ("客户状态".into(), "从下拉列表选择：潜在客户、意向客户、成交客户、流失客户。".into()),
            ("客户分级".into(), "A（重点）、B（普通）、C（潜在）。".into()),
            ("负责人".into(), "填写团队成员的姓名或工号，需先在“团队成员”中添加。".into()),
            ("手机".into(), "11 位手机号，可带 +86；座机写在“座机”列，如 0571-88886666。".into()),
            ("日期".into(), "2024-03-01、2024/3/1 或 2024年3月1日 均可。".into()),
            ("金额".into(), "数字即可，支持 50,000、5万。".into()),
            ("标签".into(), "多个标签用逗号或顿号分隔，如“重点,华东”。".into()),
            ("重复客户".into(), "客户编号、手机号或客户名称与已有客户相同的行会被识别为重复，导入时可选择跳过、补全空白字段、覆盖或仍然新建。".into()),
            ("出错的行".into(), "有错误的行不会导入，可下载“错误报告”，改正后再次导入。".into()),
            ("跟进记录 / 销售机会".into(), "按“客户编号”或“客户名称”对应到客户。".into()),
        ];
        ws.write_string_with_format(0, 0, "项目", &head)
            .map_err(xlsx_error)?;
        ws.write_string_with_format(0, 1, "说明", &head)
            .map_err(xlsx_error)?;
        for (i, (k, v)) in lines.iter().enumerate() {
            ws.write_string(i as u32 + 1, 0, k).map_err(xlsx_error)?;
            ws.write_string_with_format(i as u32 + 1, 1, v, &wrap)
                .map_err(xlsx_error)?;
        }
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(LISTS_SHEET).map_err(xlsx_error)?;
        for (c, (title, values)) in lists.iter().enumerate() {
            ws.write_string(0, c as u16, *title).map_err(xlsx_error)?;
            for (r, v) in values.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v)
                    .map_err(xlsx_error)?;
            }
        }
        ws.set_hidden(true);
    }
    wb.save(path).map_err(xlsx_error)?;
    Ok(())
}
