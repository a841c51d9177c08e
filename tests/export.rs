//! Export to xlsx and csv: real types, formula guard, encodings, and the
//! round trip export → import into an empty workspace.

mod common;

use common::*;
use kehu::contacts::ContactFields;
use kehu::customer_list::CustomerQuery;
use kehu::customers::{self, CustomerFields, CustomerKind, Grade, NewCustomer, Status};
use kehu::export::{self, CsvEncoding, ExportOptions};
use kehu::import::{self, ImportOptions};
use kehu::members::{self, MemberFields};
use kehu::Workspace;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

fn member(ws: &mut Workspace, name: &str) -> String {
    members::add(
        ws,
        MemberFields {
            name: name.into(),
            employee_no: None,
            department: None,
            role: Default::default(),
        },
    )
    .unwrap()
    .id
}

fn sample(ws: &mut Workspace) {
    let owner = member(ws, "王明");
    customers::create(
        ws,
        NewCustomer {
            fields: CustomerFields {
                name: "=HYPERLINK(\"http://evil\",\"点我\")".into(),
                industry: Some("制造业".into()),
                status: Status::Won,
                grade: Some(Grade::A),
                owner_id: Some(owner),
                budget: Some(1234567.5),
                first_contact_date: Some("2024-03-01".into()),
                notes: Some("@SUM(A1)".into()),
                ..Default::default()
            },
            contacts: vec![ContactFields {
                name: "张三".into(),
                mobile: Some("+4930123456".into()),
                email: Some("zs@example.com".into()),
                ..Default::default()
            }],
            tags: vec!["重点".into(), "华东".into()],
        },
    )
    .unwrap();
    add(
        ws,
        "普通公司",
        vec![
            contact("李四", "13800138000"),
            contact("王五", "13900139000"),
        ],
        &[],
    );
}

#[test]
fn an_xlsx_export_has_real_types_a_frozen_header_an_autofilter_and_no_formulas() {
    let mut e = env();
    sample(&mut e.ws);
    let out = e.dir.path().join("客户.xlsx");
    let n = export::export_customers(e.ws.conn(), &out, &ExportOptions::default()).unwrap();
    assert_eq!(n, 2);
    // Read back by calamine: dates are dates, amounts are numbers.
    let t = import::read::read(&out, import::read::SheetPick::First, None).unwrap();
    let col = |h: &str| t.rows[0].iter().position(|c| c.display() == h).unwrap();
    let row = t
        .rows
        .iter()
        .find(|r| r[col("客户名称")].display().starts_with('='))
        .unwrap();
    assert!(matches!(
        row[col("首次接触时间")],
        import::read::Cell::Date(_)
    ));
    assert_eq!(row[col("预算(元)")], import::read::Cell::Number(1234567.5));
    assert_eq!(row[col("客户状态")].display(), "成交客户");
    assert_eq!(row[col("负责人")].display(), "王明");
    assert_eq!(row[col("标签")].display(), "华东,重点");
    let sheet = unzip_text(&out, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "no cell is a formula");
    assert!(sheet.contains("<autoFilter ref=\"A1:"), "autofilter");
    assert!(sheet.contains("state=\"frozen\""), "frozen header");
    assert!(sheet.contains("<col "), "column widths");

    // And by a real client (openpyxl: `make deps` installs it).
    {
        let script = r#"
import openpyxl, sys, json
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.active
hdr = [c.value for c in ws[1]]
out = {"freeze": ws.freeze_panes, "filter": ws.auto_filter.ref, "rows": []}
for r in ws.iter_rows(min_row=2, values_only=True):
    out["rows"].append({h: (type(v).__name__, str(v)) for h, v in zip(hdr, r) if v is not None})
print(json.dumps(out, ensure_ascii=False))
"#;
        let o = Command::new("python3")
            .args(["-c", script])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["freeze"], "A2");
        assert!(v["filter"].as_str().unwrap().starts_with("A1:"));
        let evil = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["客户名称"][1].as_str().unwrap().starts_with('='))
            .unwrap();
        assert_eq!(
            evil["客户名称"][0], "str",
            "the formula-looking name is a string"
        );
        assert_eq!(evil["首次接触时间"][0], "datetime");
        assert_eq!(evil["预算(元)"][0], "float");
    }
}

#[test]
fn a_csv_export_has_a_bom_guards_formulas_and_can_be_gbk() {
    let mut e = env();
    sample(&mut e.ws);
    let out = e.dir.path().join("c.csv");
    export::export_customers(e.ws.conn(), &out, &ExportOptions::default()).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.contains("\"'=HYPERLINK"), "{text}");
    assert!(text.contains(",'@SUM(A1)"), "{text}");
    assert!(text.contains(",'+4930123456,"), "{text}");
    assert!(!text.contains(",=") && !text.contains(",@") && !text.contains(",+"));
    assert_eq!(export::guard_csv("\tx"), "'\tx");
    assert_eq!(export::guard_csv("-1"), "'-1");
    assert_eq!(export::guard_csv("普通"), "普通");

    let gbk = e.dir.path().join("g.csv");
    let o = ExportOptions {
        csv_encoding: CsvEncoding::Gbk,
        ..Default::default()
    };
    export::export_customers(e.ws.conn(), &gbk, &o).unwrap();
    let bytes = std::fs::read(&gbk).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    let (decoded, _, bad) = encoding_rs::GBK.decode(&bytes);
    assert!(!bad && decoded.contains("普通公司"));
}

#[test]
fn contacts_export_one_row_per_contact_and_a_filter_limits_customers() {
    let mut e = env();
    sample(&mut e.ws);
    let out = e.dir.path().join("contacts.csv");
    assert_eq!(
        export::export_contacts(e.ws.conn(), &out, &ExportOptions::default()).unwrap(),
        3
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("李四") && text.contains("王五") && text.contains("张三"));
    let won = ExportOptions {
        query: Some(CustomerQuery {
            status: vec![Status::Won],
            ..Default::default()
        }),
        columns: vec![
            kehu::import::mapping::Field::Code,
            kehu::import::mapping::Field::Name,
        ],
        ..Default::default()
    };
    let out2 = e.dir.path().join("won.csv");
    assert_eq!(
        export::export_customers(e.ws.conn(), &out2, &won).unwrap(),
        1
    );
    let text = std::fs::read_to_string(&out2).unwrap();
    assert_eq!(text.lines().next().unwrap(), "\u{feff}客户编号,客户名称");
}

fn unzip_text(path: &Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    std::io::Read::read_to_string(&mut z.by_name(name).unwrap(), &mut s).unwrap();
    s
}

/// Everything a customer holds that an export carries, keyed by code.
fn summary(ws: &Workspace) -> Vec<String> {
    let codes: Vec<String> = ws
        .conn()
        .prepare("SELECT code FROM customers WHERE deleted_at IS NULL ORDER BY code")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    codes
        .iter()
        .map(|code| {
            let c = customers::get(ws.conn(), code).unwrap();
            let mut f = serde_json::to_value(&c.fields).unwrap();
            f["owner_id"] = serde_json::json!(c.owner_name);
            let contact = c
                .contacts
                .first()
                .map(|k| serde_json::to_value(&k.fields).unwrap());
            let mut tags: Vec<_> = c.tags.iter().map(|t| t.name.clone()).collect();
            tags.sort();
            format!("{code} {f} {contact:?} {tags:?}")
        })
        .collect()
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        // Includes characters the formula guard must handle.
        "[=+@\\-a-zA-Z0-9客户公司张王科技有限中文\"]{0,3}[a-zA-Z0-9客户公司张王科技有限中文 ,\"]{0,12}[a-z0-9客户公司]"
    }

    fn customer() -> impl Strategy<Value = NewCustomer> {
        (
            (
                text(),
                any::<bool>(),
                proptest::option::of(text()),
                proptest::option::of(text()),
                0usize..4,
                proptest::option::of(0usize..3),
            ),
            (
                proptest::option::of(0u32..10_000_000),
                proptest::option::of(0u32..9000),
                proptest::option::of(text()),
                any::<bool>(),
            ),
            (proptest::option::of((
                "[张王李][一-龥]{1}",
                "1[3-9][0-9]{9}",
                proptest::option::of("[a-z]{1,6}@[a-z]{2,5}\\.com"),
                proptest::option::of(text()),
            ))),
            proptest::collection::vec("[a-z重点华东]{1,4}", 0..3),
        )
            .prop_map(
                |(
                    (name, individual, industry, notes, status, grade),
                    (budget, days, needs, owned),
                    contact,
                    tags,
                )| NewCustomer {
                    fields: CustomerFields {
                        name,
                        kind: if individual {
                            CustomerKind::Individual
                        } else {
                            CustomerKind::Company
                        },
                        industry,
                        notes,
                        status: Status::ALL[status],
                        grade: grade.map(|g| Grade::ALL[g]),
                        budget: budget.map(|b| b as f64 / 100.0),
                        first_contact_date: days.map(|d| {
                            (chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
                                + chrono::Duration::days(d as i64))
                            .format("%Y-%m-%d")
                            .to_string()
                        }),
                        needs,
                        owner_id: owned.then(|| "OWNER".to_string()),
                        ..Default::default()
                    },
                    contacts: contact
                        .map(|(n, m, email, title)| {
                            vec![ContactFields {
                                name: n,
                                mobile: Some(m),
                                email,
                                title,
                                is_primary: true,
                                ..Default::default()
                            }]
                        })
                        .unwrap_or_default(),
                    tags,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

        /// Exporting then importing into an empty workspace reproduces the
        /// same customers, primary contacts and tags, through xlsx and csv.
        #[test]
        fn export_then_import_reproduces_the_customers(list in proptest::collection::vec(customer(), 1..12), csv in any::<bool>(), gbk in any::<bool>()) {
            let mut a = env();
            let owner = member(&mut a.ws, "王明");
            for mut c in list {
                if c.fields.owner_id.is_some() {
                    c.fields.owner_id = Some(owner.clone());
                }
                customers::create(&mut a.ws, c).unwrap();
            }
            let out = a.dir.path().join(if csv { "x.csv" } else { "x.xlsx" });
            let o = ExportOptions { csv_encoding: if gbk { CsvEncoding::Gbk } else { CsvEncoding::Utf8Bom }, ..Default::default() };
            export::export_customers(a.ws.conn(), &out, &o).unwrap();

            let mut b = env();
            member(&mut b.ws, "王明");
            let rep = import::run(&mut b.ws, &out, &ImportOptions { on_duplicate: import::OnDuplicate::Create, ..Default::default() }, false, &mut |_| {}, &AtomicBool::new(false)).unwrap();
            prop_assert_eq!(rep.failed, 0, "{:?}", rep.failures);
            prop_assert_eq!(summary(&a.ws), summary(&b.ws));
        }
    }
}

#[test]
fn follow_ups_and_opportunities_export_with_real_dates_and_amounts() {
    use kehu::followups::{self, FollowupFields, Kind, NewFollowup};
    use kehu::opportunities::{self, NewOpportunity, OpportunityFields};
    let mut e = env();
    let c = add(&mut e.ws, "跟进公司", vec![], &[]);
    followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.code.clone(),
            fields: FollowupFields {
                kind: Kind::Visit,
                content: Some("上门演示".into()),
                effective: Some(true),
                ..Default::default()
            },
            done: true,
            done_at: Some(T0 - 86_400_000),
            ..Default::default()
        },
    )
    .unwrap();
    opportunities::create(
        &mut e.ws,
        NewOpportunity {
            customer: c.code.clone(),
            fields: OpportunityFields {
                name: "年度采购".into(),
                expected_amount: Some(120000.0),
                expected_close_date: Some("2026-12-31".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    let fx = e.dir.path().join("f.xlsx");
    assert_eq!(
        export::export_followups(e.ws.conn(), &fx, &ExportOptions::default()).unwrap(),
        1
    );
    let t = import::read::read(&fx, import::read::SheetPick::First, None).unwrap();
    assert_eq!(t.sheet, "跟进记录");
    assert!(
        matches!(t.rows[1][2], import::read::Cell::Date(_)),
        "the time is a date cell"
    );
    assert_eq!(t.rows[1][3].display(), "拜访");
    assert_eq!(t.rows[1][9].display(), "是");
    let ox = e.dir.path().join("o.csv");
    assert_eq!(
        export::export_opportunities(e.ws.conn(), &ox, &ExportOptions::default()).unwrap(),
        1
    );
    let text = std::fs::read_to_string(&ox).unwrap();
    assert!(
        text.contains("年度采购") && text.contains(",120000,") && text.contains("2026-12-31"),
        "{text}"
    );
}
