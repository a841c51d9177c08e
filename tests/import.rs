//! Import: reading every supported format, mapping headers, validating rows,
//! writing in one transaction, undo, and refusing hostile files cleanly.

mod common;

use common::*;
use kehu::customers;
use kehu::import::mapping::{field_for_header, Field, Mapping};
use kehu::import::{self, ImportOptions, OnDuplicate, RowAction};
use kehu::members::{self, MemberFields};
use kehu::{Error, Workspace};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// A cell of a generated fixture.
#[derive(Clone)]
enum V {
    S(&'static str),
    T(String),
    N(f64),
    D(u16, u8, u8),
    E,
}
use V::*;

fn write_xlsx(path: &Path, sheets: &[(&str, Vec<Vec<V>>)]) {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match v {
                    S(s) => {
                        ws.write_string(r, c, *s).unwrap();
                    }
                    T(s) => {
                        ws.write_string(r, c, s).unwrap();
                    }
                    N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    D(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        ws.write_datetime_with_format(r, c, &dt, &date).unwrap();
                    }
                    E => {}
                }
            }
        }
    }
    wb.save(path).unwrap();
}

fn opts() -> ImportOptions {
    ImportOptions::default()
}

fn import_file(ws: &mut Workspace, path: &Path, o: &ImportOptions) -> import::ImportReport {
    import::run(ws, path, o, false, &mut |_| {}, &AtomicBool::new(false)).unwrap()
}

fn customer_by_name(ws: &Workspace, name: &str) -> customers::Customer {
    let id: String = ws
        .conn()
        .query_row("SELECT id FROM customers WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap();
    customers::get(ws.conn(), &id).unwrap()
}

fn count(ws: &Workspace, table: &str) -> i64 {
    ws.conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Everything a user can see, as one comparable text (change log excluded).
fn snapshot(ws: &Workspace) -> String {
    let mut out = String::new();
    for sql in [
        "SELECT id, code, name, kind, industry, size, province, city, district, address, source, status, grade, owner_id, needs, budget, purchase_cycle, annual_purchase, first_contact_date, notes, deleted_at FROM customers ORDER BY id",
        "SELECT id, customer_id, name, title, mobile, phone, email, wechat, is_primary, notes, deleted_at FROM contacts ORDER BY id",
        "SELECT id, name, deleted_at FROM tags ORDER BY id",
        "SELECT customer_id, tag_id FROM customer_tags ORDER BY 1, 2",
        "SELECT customer_id FROM search_docs ORDER BY 1",
    ] {
        let mut stmt = ws.conn().prepare(sql).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i).unwrap();
                out.push_str(&format!("{v:?}|"));
            }
            out.push('\n');
        }
        out.push_str("--\n");
    }
    out
}

fn seed004_rows() -> Vec<Vec<V>> {
    vec![
        vec![S("销售数据基础录入表")],
        vec![],
        vec![
            S("客户编号"),
            S("客户名称（脱敏）"),
            S("行业"),
            S("线索来源"),
            S("首次接触时间"),
            S("当前跟进阶段"),
            S("负责人"),
            S("预计成交金额(元)"),
            S("最后跟进时间"),
            S("备注"),
        ],
        vec![
            S("CL2024001"),
            S("星辰科技有限公司"),
            S("制造业"),
            S("官网表单"),
            D(2024, 3, 1),
            S("商机"),
            S("王明"),
            N(50000.0),
            D(2024, 3, 5),
            S("需提供技术方案"),
        ],
        vec![
            S("CL2024002"),
            S("百货商贸公司"),
            S("零售"),
            S("展会转介绍"),
            S("2024/3/2"),
            S("意向"),
            S("王明"),
            S("30,000"),
            S("2024-03-04"),
            S("价格敏感"),
        ],
        vec![
            S("CL2024003"),
            S("云端科技有限公司"),
            S("IT服务"),
            S("代理商"),
            S("2024年3月3日"),
            S("线索"),
            E,
            S("-"),
            S("-"),
            S("待初次沟通"),
        ],
    ]
}

fn with_owner(ws: &mut Workspace, name: &str) -> String {
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

#[test]
fn chinese_and_english_headers_map_to_fields() {
    for (h, f) in [
        ("客户名称", Field::Name),
        ("公司名称", Field::Name),
        ("企业名称", Field::Name),
        ("Company", Field::Name),
        ("Account Name", Field::Name),
        ("客户名称（脱敏）", Field::Name),
        ("*客户名称", Field::Name),
        ("联系人", Field::ContactName),
        ("姓名", Field::ContactName),
        ("Contact", Field::ContactName),
        ("手机号", Field::ContactMobile),
        ("联系方式", Field::ContactMobile),
        ("Mobile", Field::ContactMobile),
        ("Phone", Field::ContactMobile),
        ("所属行业", Field::Industry),
        ("Industry", Field::Industry),
        ("客户分级", Field::Grade),
        ("等级", Field::Grade),
        ("客户类型", Field::Status),
        ("状态", Field::Status),
        ("负责人", Field::Owner),
        ("Owner", Field::Owner),
        ("线索来源", Field::Source),
        ("来源", Field::Source),
        ("客户编号", Field::Code),
        ("标签", Field::Tags),
        ("省", Field::Province),
        ("市", Field::City),
        ("区", Field::District),
        ("地址", Field::Address),
        ("备注", Field::Notes),
        ("邮箱", Field::ContactEmail),
        ("职务", Field::ContactTitle),
        ("首次接触", Field::FirstContactDate),
        ("最后跟进时间", Field::LastFollowupAt),
        ("预算（万元）", Field::Budget),
    ] {
        assert_eq!(field_for_header(h), Some(f), "{h}");
    }
    assert_eq!(field_for_header("随便什么"), None);
}

#[test]
fn seed_004_sheet_with_title_rows_imports_with_dates_amounts_and_stages() {
    let mut e = env();
    with_owner(&mut e.ws, "王明");
    let path = e.dir.path().join("销售数据基础录入表.xlsx");
    write_xlsx(
        &path,
        &[
            ("说明", vec![vec![S("请按模板填写")]]),
            ("录入表", seed004_rows()),
        ],
    );
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    assert_eq!(pv.sheet, "录入表", "the instructions sheet is passed over");
    assert_eq!(pv.mapping.header_row, Some(3));
    assert_eq!((pv.total, pv.create, pv.fail), (3, 3, 0), "{:?}", pv.rows);
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!((rep.imported, rep.failed), (3, 0));
    let c = customers::get(e.ws.conn(), "CL2024001").unwrap();
    assert_eq!(c.fields.name, "星辰科技有限公司");
    assert_eq!(c.fields.first_contact_date.as_deref(), Some("2024-03-01"));
    assert_eq!(
        c.fields.status,
        customers::Status::Interested,
        "商机 is a stage of interest"
    );
    assert_eq!(c.owner_name.as_deref(), Some("王明"));
    let c2 = customers::get(e.ws.conn(), "CL2024002").unwrap();
    assert_eq!(c2.fields.first_contact_date.as_deref(), Some("2024-03-02"));
    let c3 = customers::get(e.ws.conn(), "CL2024003").unwrap();
    assert_eq!(c3.fields.first_contact_date.as_deref(), Some("2024-03-03"));
    assert_eq!(c3.fields.status, customers::Status::Prospect);
}

#[test]
fn amounts_with_thousands_separators_and_wan_are_numbers() {
    let mut e = env();
    let path = e.dir.path().join("a.xlsx");
    write_xlsx(
        &path,
        &[(
            "S",
            vec![
                vec![S("客户名称"), S("预算"), S("年采购额（万元）")],
                vec![S("甲"), S("50,000"), N(12.5)],
                vec![S("乙"), S("5万"), S("3")],
                vec![S("丙"), S("¥1,234.5元"), E],
            ],
        )],
    );
    import_file(&mut e.ws, &path, &opts());
    let b = |n| {
        let c = customer_by_name(&e.ws, n);
        (c.fields.budget, c.fields.annual_purchase)
    };
    assert_eq!(b("甲"), (Some(50000.0), Some(125000.0)));
    assert_eq!(b("乙"), (Some(50000.0), Some(30000.0)));
    assert_eq!(b("丙"), (Some(1234.5), None));
    assert_eq!(import::parse_amount("1，000", 1.0), Some(1000.0));
    assert_eq!(import::parse_amount("abc", 1.0), None);
}

#[test]
fn excel_serials_in_both_date_systems_are_dates() {
    let mut e = env();
    // Raw serial numbers (no date format) in a date column.
    let path = e.dir.path().join("serial.xlsx");
    write_xlsx(
        &path,
        &[(
            "S",
            vec![
                vec![S("客户名称"), S("首次接触时间")],
                vec![S("甲"), N(45352.0)],
            ],
        )],
    );
    import_file(&mut e.ws, &path, &opts());
    assert_eq!(
        customer_by_name(&e.ws, "甲")
            .fields
            .first_contact_date
            .as_deref(),
        Some("2024-03-01")
    );

    // The same file saved in the 1904 date system: serial 45352 - 1462.
    let p1904 = e.dir.path().join("1904.xlsx");
    write_xlsx(
        &p1904,
        &[(
            "S",
            vec![
                vec![S("客户名称"), S("首次接触时间")],
                vec![S("乙"), N(45352.0 - 1462.0)],
            ],
        )],
    );
    set_1904(&p1904);
    import_file(&mut e.ws, &p1904, &opts());
    assert_eq!(
        customer_by_name(&e.ws, "乙")
            .fields
            .first_contact_date
            .as_deref(),
        Some("2024-03-01")
    );
}

/// Rewrite an xlsx so its workbook uses the 1904 date system.
fn set_1904(path: &Path) {
    edit_part(path, "xl/workbook.xml", |s| {
        assert!(s.contains("<workbookPr"));
        s.replacen("<workbookPr", "<workbookPr date1904=\"1\"", 1)
    });
}

/// Rewrite one XML part of an xlsx.
fn edit_part(path: &Path, part: &str, edit: impl Fn(String) -> String) {
    let bytes = std::fs::read(path).unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        if name == part {
            data = edit(String::from_utf8(data).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    std::fs::write(path, out.finish().unwrap().into_inner()).unwrap();
}

/// A cell reference of twenty letters overflows the reader's column
/// number (a check that panics in the debug builds tests run): refused
/// as unreadable.
#[test]
fn a_cell_reference_out_of_any_range_is_refused_not_a_crash() {
    let e = env();
    let path = e.dir.path().join("bad-ref.xlsx");
    write_xlsx(&path, &[("S", seed004_rows())]);
    edit_part(&path, "xl/worksheets/sheet1.xml", |s| {
        assert!(s.contains(r#"r="A1""#));
        s.replacen(r#"r="A1""#, r#"r="ZZZZZZZZZZZZZZZZZZZZ1""#, 1)
    });
    match import::preview(&e.ws, &path, &opts()) {
        Err(Error::Validation { field, zh, .. }) => {
            assert_eq!(field, "file");
            assert!(zh.contains("无法读取这个文件"), "{zh}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_gbk_csv_from_chinese_excel_is_detected() {
    let mut e = env();
    let text = "公司名称,联系人,手机,所属行业\r\n杭州甲乙科技有限公司,张三,138-0013-8000,制造业\r\n深圳丙丁贸易有限公司,李四,+86 139 1234 5678,批发零售\r\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let path = e.dir.path().join("gbk.csv");
    std::fs::write(&path, &bytes).unwrap();
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    assert_eq!(pv.encoding.as_deref(), Some("gb18030"));
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(rep.imported, 2);
    let c = customer_by_name(&e.ws, "深圳丙丁贸易有限公司");
    assert_eq!(c.contacts[0].fields.mobile.as_deref(), Some("13912345678"));
    assert_eq!(c.fields.industry.as_deref(), Some("批发零售"));
}

#[test]
fn utf16_and_utf8_bom_csv_and_tsv_are_read() {
    let e = env();
    let text = "客户名称\t联系人\n测试公司\t王五\n";
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut be_nobom = vec![];
    be_nobom.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
    let mut bom8 = b"\xEF\xBB\xBF".to_vec();
    bom8.extend(text.replace('\t', ",").as_bytes());
    for (name, bytes) in [("le.csv", le), ("be.tsv", be_nobom), ("bom.csv", bom8)] {
        let path = e.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let pv = import::preview(&e.ws, &path, &opts()).unwrap();
        assert_eq!(pv.total, 1, "{name}");
        assert_eq!(pv.rows[0].cells[0], "测试公司", "{name}");
        assert_eq!(pv.mapping.columns[0].field, Some(Field::Name), "{name}");
    }
    // The encoding can be forced.
    let path = e.dir.path().join("gbk.csv");
    std::fs::write(&path, encoding_rs::GBK.encode("客户名称\n张记\n").0).unwrap();
    let o = ImportOptions {
        encoding: Some("gbk".into()),
        ..opts()
    };
    assert_eq!(
        import::preview(&e.ws, &path, &o).unwrap().rows[0].cells[0],
        "张记"
    );
    let bad = ImportOptions {
        encoding: Some("klingon".into()),
        ..opts()
    };
    assert!(matches!(
        import::preview(&e.ws, &path, &bad),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn invalid_rows_are_reported_with_the_closest_allowed_value_and_a_dry_run_writes_nothing() {
    let mut e = env();
    let path = e.dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "客户名称,手机,邮箱,客户状态,客户分级,首次接触时间,负责人\n\
         好公司,13800138000,a@b.com,意向客户,A,2024-03-01,\n\
         坏公司,1380013,not-an-email,意相客户,A类客户,2024-02-30,不存在的人\n\
         ,13900000000,,,,,\n",
    )
    .unwrap();
    let before = snapshot(&e.ws);
    let rep = import::run(
        &mut e.ws,
        &path,
        &opts(),
        true,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(snapshot(&e.ws), before, "dry run writes nothing");
    assert!(rep.dry_run && rep.job_id.is_none());
    assert_eq!((rep.imported, rep.failed), (1, 2));
    let bad = &rep.failures[0];
    assert_eq!(bad.row, 3);
    let fields: Vec<&str> = bad.issues.iter().map(|i| i.field.as_str()).collect();
    for f in ["status", "first_contact_date", "owner"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert!(fields.iter().any(|f| f.contains("mobile")), "{fields:?}");
    let status = bad.issues.iter().find(|i| i.field == "status").unwrap();
    assert_eq!(status.suggestion.as_deref(), Some("意向客户"));
    assert!(status.zh.contains("意向客户") && status.en.contains("did you mean"));
    assert_eq!(rep.failures[1].issues[0].field, "name");
    assert_eq!(count(&e.ws, "imports"), 0);
}

#[test]
fn duplicate_codes_in_the_file_and_in_the_database_are_errors() {
    let mut e = env();
    let existing = add(&mut e.ws, "老客户", vec![], &[]);
    let path = e.dir.path().join("dup.csv");
    std::fs::write(
        &path,
        format!(
            "客户编号,客户名称\nX001,甲\nx001,乙\n{},丙\n",
            existing.code
        ),
    )
    .unwrap();
    let o = ImportOptions {
        on_duplicate: OnDuplicate::Create,
        ..opts()
    };
    let pv = import::preview(&e.ws, &path, &o).unwrap();
    let fails: Vec<_> = pv
        .rows
        .iter()
        .filter(|r| r.action == RowAction::Fail)
        .map(|r| r.row)
        .collect();
    assert_eq!(fails, vec![3, 4]);
    assert!(pv
        .rows
        .iter()
        .any(|r| r.issues.iter().any(|i| i.zh.contains("重复"))));
}

#[test]
fn rows_matching_existing_customers_follow_the_chosen_policy() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "杭州云帆科技有限公司",
        vec![contact("张伟", "13800138000")],
        &[],
    );
    let path = e.dir.path().join("m.csv");
    // Row 2 matches by mobile, row 3 by normalised name, row 4 by code.
    std::fs::write(
        &path,
        format!(
            "客户编号,客户名称,手机,所属行业,备注\n,另一个名字,+86 138 0013 8000,制造业,\n,杭州云帆科技 有限公司,,,新备注\n{},云帆,,,\n",
            c.code
        ),
    )
    .unwrap();
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    let reasons: Vec<_> = pv
        .rows
        .iter()
        .map(|r| r.matched.as_ref().unwrap().reason.clone())
        .collect();
    assert_eq!(reasons, ["mobile", "name", "code"]);
    assert_eq!(pv.skip, 3);

    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!((rep.imported, rep.skipped), (0, 3));

    let rep = import_file(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Fill,
            ..opts()
        },
    );
    assert_eq!(rep.updated, 2, "the third row brings nothing new");
    let now = customers::get(e.ws.conn(), &c.id).unwrap();
    assert_eq!(
        now.fields.name, "杭州云帆科技有限公司",
        "fill never renames"
    );
    assert_eq!(now.fields.industry.as_deref(), Some("制造业"));
    assert_eq!(now.fields.notes.as_deref(), Some("新备注"));

    let rep = import_file(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Overwrite,
            ..opts()
        },
    );
    assert!(rep.updated >= 1);
    assert_eq!(
        customers::get(e.ws.conn(), &c.id).unwrap().fields.name,
        "云帆"
    );

    let rep = import_file(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Create,
            ..opts()
        },
    );
    assert_eq!(
        (rep.imported, rep.failed),
        (2, 1),
        "the code row cannot be created twice"
    );
}

#[test]
fn an_import_is_one_job_in_the_change_log_and_undo_restores_everything() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "已有客户",
        vec![contact("张伟", "13800138000")],
        &["老标签"],
    );
    let before = snapshot(&e.ws);
    let path = e.dir.path().join("u.xlsx");
    write_xlsx(
        &path,
        &[(
            "S",
            vec![
                vec![
                    S("客户名称"),
                    S("联系人"),
                    S("手机"),
                    S("标签"),
                    S("所属行业"),
                    S("客户分级"),
                ],
                vec![
                    S("新客户一"),
                    S("李雷"),
                    S("13911112222"),
                    S("新标签,老标签"),
                    S("教育培训"),
                    S("B"),
                ],
                vec![S("新客户二"), E, E, E, E, E],
                vec![
                    S("已有客户"),
                    S("韩梅梅"),
                    S("13733334444"),
                    S("新标签"),
                    S("金融"),
                    S("A"),
                ],
            ],
        )],
    );
    let mut seen = vec![];
    let rep = import::run(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Fill,
            ..opts()
        },
        false,
        &mut |p| seen.push(p.done),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!((rep.imported, rep.updated), (2, 1));
    assert_eq!(seen.last(), Some(&3));
    let job = rep.job_id.clone().unwrap();
    let jobs = import::list_jobs(e.ws.conn()).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (
            jobs[0].total,
            jobs[0].imported,
            jobs[0].updated,
            jobs[0].failed
        ),
        (3, 2, 1, 0)
    );
    assert_eq!(jobs[0].file_name, "u.xlsx");
    let logged: i64 =
        e.ws.conn()
            .query_row(
                "SELECT count(*) FROM changes WHERE origin = ?1",
                [format!("import:{job}")],
                |r| r.get(0),
            )
            .unwrap();
    assert!(
        logged >= 8,
        "every row went through the change log ({logged})"
    );
    let upd = customers::get(e.ws.conn(), &c.id).unwrap();
    assert_eq!(upd.fields.industry.as_deref(), Some("金融"));
    assert_eq!(upd.contacts.len(), 2);
    assert_eq!(upd.tags.len(), 2);

    let u = import::undo(&mut e.ws, &job).unwrap();
    assert_eq!((u.removed, u.restored), (2, 1));
    assert_eq!(
        snapshot(&e.ws),
        before,
        "undo restores exactly the state before the import"
    );
    assert!(import::list_jobs(e.ws.conn()).unwrap()[0]
        .undone_at
        .is_some());
    assert!(matches!(
        import::undo(&mut e.ws, &job),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn undo_keeps_a_field_edited_after_the_import() {
    let mut e = env();
    let c = add(&mut e.ws, "甲公司", vec![], &[]);
    let path = e.dir.path().join("x.csv");
    std::fs::write(&path, "客户名称,所属行业\n甲公司,制造业\n").unwrap();
    let rep = import_file(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Fill,
            ..opts()
        },
    );
    let mut patch = serde_json::Map::new();
    patch.insert("industry".into(), "能源电力".into());
    customers::update(&mut e.ws, &c.id, &patch).unwrap();
    let u = import::undo(&mut e.ws, rep.job_id.as_deref().unwrap()).unwrap();
    assert_eq!(u.kept_newer, 1);
    assert_eq!(
        customers::get(e.ws.conn(), &c.id)
            .unwrap()
            .fields
            .industry
            .as_deref(),
        Some("能源电力")
    );
}

#[test]
fn a_cancelled_import_leaves_the_database_exactly_as_before() {
    let mut e = env();
    add(&mut e.ws, "已有客户", vec![], &[]);
    let path = e.dir.path().join("big.csv");
    let mut s = String::from("客户名称,手机\n");
    for i in 0..2000 {
        s.push_str(&format!("客户{i},139{:08}\n", i));
    }
    std::fs::write(&path, s).unwrap();
    let before = snapshot(&e.ws);
    let cancel = AtomicBool::new(false);
    let rep = import::run(
        &mut e.ws,
        &path,
        &opts(),
        false,
        &mut |p| {
            if p.done >= 1000 {
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        },
        &cancel,
    )
    .unwrap();
    assert!(rep.cancelled);
    assert!(rep.job_id.is_none());
    assert_eq!(snapshot(&e.ws), before);
    assert_eq!(count(&e.ws, "imports"), 0);
}

#[test]
fn a_saved_mapping_is_reused_by_header_text() {
    let mut e = env();
    let path = e.dir.path().join("odd.csv");
    std::fs::write(&path, "单位,电话号码,随便\n某某厂,13800138000,附注内容\n").unwrap();
    let pv = import::preview(&e.ws, &path, &opts());
    assert!(pv.is_err(), "no name column is found automatically");
    let json = r#"{"header_row": 1, "columns": [
        {"index": 0, "header": "单位", "field": "name"},
        {"index": 1, "header": "电话号码", "field": "contact_mobile"},
        {"index": 2, "header": "随便", "field": "notes"}]}"#;
    let m: Mapping = serde_json::from_str(json).unwrap();
    let o = ImportOptions {
        mapping: Some(m),
        ..opts()
    };
    let rep = import_file(&mut e.ws, &path, &o);
    assert_eq!(rep.imported, 1);
    let c = customer_by_name(&e.ws, "某某厂");
    assert_eq!(c.fields.notes.as_deref(), Some("附注内容"));
    assert_eq!(c.contacts[0].fields.mobile.as_deref(), Some("13800138000"));
    let job = &import::list_jobs(e.ws.conn()).unwrap()[0];
    assert_eq!(
        job.mapping.columns[2].field,
        Some(Field::Notes),
        "the job records its mapping"
    );
}

#[test]
fn a_two_row_merged_header_reads_the_upper_label() {
    let mut e = env();
    let path = e.dir.path().join("merged.xlsx");
    write_xlsx(
        &path,
        &[(
            "S",
            vec![
                vec![S("客户名称"), S("联系人"), E, S("所属行业")],
                vec![E, S("姓名"), S("手机"), E],
                vec![S("甲厂"), S("赵六"), S("13700001111"), S("化工")],
            ],
        )],
    );
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(rep.imported, 1, "{:?}", rep.failures);
    let c = customer_by_name(&e.ws, "甲厂");
    assert_eq!(c.fields.industry.as_deref(), Some("化工"));
    assert_eq!(c.contacts[0].fields.name, "赵六");
}

#[test]
fn the_error_report_holds_failed_rows_and_imports_again_once_corrected() {
    let mut e = env();
    let path = e.dir.path().join("r.xlsx");
    write_xlsx(
        &path,
        &[(
            "S",
            vec![
                vec![S("客户名称"), S("手机"), S("首次接触时间")],
                vec![S("好"), S("13800138000"), D(2024, 1, 2)],
                vec![S("坏"), S("12345"), D(2024, 1, 3)],
            ],
        )],
    );
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(rep.failed, 1);
    let out = e.dir.path().join("errors.xlsx");
    import::report::write_error_report(&rep, &out, kehu::Lang::Zh).unwrap();
    let t = import::read::read(&out, import::read::SheetPick::First, None).unwrap();
    assert_eq!(t.rows[0].last().unwrap().display(), "原行号");
    assert_eq!(t.rows[0][3].display(), "错误原因");
    assert_eq!(t.rows[1][0].display(), "坏");
    assert_eq!(t.rows[1][2].display(), "2024-01-03", "dates stay dates");
    assert!(t.rows[1][3].display().contains("12345"));
    // The user corrects the phone and imports the report.
    let fixed = e.dir.path().join("fixed.xlsx");
    write_xlsx(
        &fixed,
        &[(
            "S",
            vec![
                t.rows[0].iter().map(|c| T(c.display())).collect(),
                vec![
                    S("坏"),
                    S("13900001111"),
                    D(2024, 1, 3),
                    T(t.rows[1][3].display()),
                    N(3.0),
                ],
            ],
        )],
    );
    let rep2 = import_file(&mut e.ws, &fixed, &opts());
    assert_eq!((rep2.imported, rep2.failed), (1, 0));
    assert_eq!(
        customer_by_name(&e.ws, "坏")
            .fields
            .first_contact_date
            .as_deref(),
        Some("2024-01-03")
    );
}

#[test]
fn the_template_has_dropdowns_instructions_and_imports_its_two_examples() {
    let mut e = env();
    let path = e.dir.path().join("template.xlsx");
    kehu::template::write_template(&path).unwrap();
    let names = import::read::sheet_names(&path).unwrap();
    assert_eq!(
        names,
        ["客户信息", "跟进记录", "销售机会", "填写说明"],
        "the list sheet is hidden"
    );
    let xml = unzip_text(&path, "xl/worksheets/sheet1.xml");
    assert!(xml.contains("<dataValidation"), "dropdowns");
    assert!(
        xml.contains("选项!$A$2:$A$5"),
        "status list from the hidden sheet"
    );
    let wb = unzip_text(&path, "xl/workbook.xml");
    assert!(wb.contains("state=\"hidden\""));
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!((rep.imported, rep.failed), (2, 0), "{:?}", rep.failures);
    let c = customer_by_name(&e.ws, "杭州云帆科技有限公司");
    assert_eq!(c.fields.status, customers::Status::Interested);
    assert_eq!(c.fields.first_contact_date.as_deref(), Some("2024-03-01"));
    assert_eq!(c.fields.budget, Some(50000.0));
    assert_eq!(c.tags.len(), 2);
    assert_eq!(c.contacts[0].fields.phone.as_deref(), Some("0571-88886666"));
    assert_eq!(
        customer_by_name(&e.ws, "李娜").fields.kind,
        customers::CustomerKind::Individual
    );
}

fn unzip_text(path: &Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    std::io::Read::read_to_string(&mut z.by_name(name).unwrap(), &mut s).unwrap();
    s
}

// ------------------------------------------------------------ hostile files

fn expect_file_error(e: &Env, path: &Path, zh_part: &str) {
    match import::preview(&e.ws, path, &opts()) {
        Err(err @ Error::Validation { .. }) => {
            let zh = err.message(kehu::Lang::Zh);
            let en = err.message(kehu::Lang::En);
            assert!(zh.contains(zh_part), "{zh}");
            assert!(!en.is_empty() && en != zh, "{en}");
        }
        other => panic!("expected a clear validation error, got {other:?}"),
    }
}

#[test]
fn a_non_spreadsheet_renamed_xlsx_is_refused_with_a_clear_message() {
    let e = env();
    let png = e.dir.path().join("photo.xlsx");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR....").unwrap();
    expect_file_error(&e, &png, "不是 Excel 工作簿");
    let zipped = e.dir.path().join("archive.xlsx");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
    z.start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(b"hello").unwrap();
    z.finish().unwrap();
    expect_file_error(&e, &zipped, "无法读取");
}

#[test]
fn a_truncated_xlsx_is_refused() {
    let e = env();
    let path = e.dir.path().join("t.xlsx");
    write_xlsx(&path, &[("S", seed004_rows())]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    expect_file_error(&e, &path, "无法读取");
}

#[test]
fn a_password_protected_workbook_is_refused() {
    let e = env();
    // Excel stores an encrypted xlsx as a compound file holding these streams.
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(512, 0);
    for name in ["EncryptionInfo", "EncryptedPackage"] {
        bytes.extend(name.encode_utf16().flat_map(|u| u.to_le_bytes()));
        bytes.resize(bytes.len() + 64, 0);
    }
    let path = e.dir.path().join("secret.xlsx");
    std::fs::write(&path, bytes).unwrap();
    expect_file_error(&e, &path, "密码");
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_expanded() {
    let e = env();
    let path = e.dir.path().join("bomb.xlsx");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    z.start_file("xl/worksheets/sheet1.xml", o).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..40 {
        z.write_all(&zeros).unwrap();
    }
    z.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
    expect_file_error(&e, &path, "过大");
}

#[test]
fn a_sheet_declaring_a_huge_range_is_read_by_its_cells() {
    let mut e = env();
    let path = e.dir.path().join("huge.xlsx");
    write_xlsx(&path, &[("S", vec![vec![S("客户名称")], vec![S("甲")]])]);
    // Claim the whole sheet and put one stray cell in the far corner.
    let bytes = std::fs::read(&path).unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let dimension = regex::Regex::new(r#"<dimension ref="[^"]*"/>"#).unwrap();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let s = String::from_utf8(data).unwrap();
            let s = dimension
                .replace(&s, r#"<dimension ref="A1:XFD1048576"/>"#)
                .into_owned();
            let s = s.replace("</sheetData>", r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>"#);
            data = s.into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    std::fs::write(&path, out.finish().unwrap().into_inner()).unwrap();
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(
        rep.imported, 1,
        "the far cell is beyond the imported columns and ignored"
    );
}

#[test]
fn an_empty_file_and_a_file_without_a_name_column_say_so() {
    let e = env();
    let empty = e.dir.path().join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    expect_file_error_any(&e, &empty);
    let noname = e.dir.path().join("noname.csv");
    std::fs::write(&noname, "foo,bar\n1,2\n").unwrap();
    match import::preview(&e.ws, &noname, &opts()) {
        Err(Error::Validation { field, zh, .. }) => {
            assert_eq!(field, "mapping");
            assert!(zh.contains("客户名称"));
        }
        other => panic!("{other:?}"),
    }
}

fn expect_file_error_any(e: &Env, path: &Path) {
    assert!(matches!(
        import::preview(&e.ws, path, &opts()),
        Err(Error::Validation { .. })
    ));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        /// Arbitrary bytes named .csv or .xlsx never panic the importer.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), xlsx in any::<bool>()) {
            let e = env();
            let path = e.dir.path().join(if xlsx { "f.xlsx" } else { "f.csv" });
            std::fs::write(&path, &bytes).unwrap();
            let _ = import::preview(&e.ws, &path, &opts());
        }

        /// A valid xlsx with random bytes flipped never panics the importer.
        #[test]
        fn corrupted_xlsx_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
            let e = env();
            let path = e.dir.path().join("c.xlsx");
            write_xlsx(&path, &[("S", seed004_rows())]);
            let mut bytes = std::fs::read(&path).unwrap();
            for (i, b) in flips {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            std::fs::write(&path, &bytes).unwrap();
            let _ = import::preview(&e.ws, &path, &opts());
        }
    }
}

/// A minimal OpenDocument spreadsheet, as LibreOffice writes its parts.
fn write_ods(path: &Path, rows: &[Vec<&str>]) {
    let mut body = String::new();
    for r in rows {
        body.push_str("<table:table-row>");
        for c in r {
            if let Some(d) = c.strip_prefix("date:") {
                body.push_str(&format!(
                    r#"<table:table-cell office:value-type="date" office:date-value="{d}"><text:p>{d}</text:p></table:table-cell>"#
                ));
            } else if let Some(n) = c.strip_prefix("num:") {
                body.push_str(&format!(
                    r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                ));
            } else {
                body.push_str(&format!(
                    r#"<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>"#
                ));
            }
        }
        body.push_str("</table:table-row>");
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="客户">{body}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    z.start_file(
        "META-INF/manifest.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    z.write_all(manifest.as_bytes()).unwrap();
    z.start_file("content.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(content.as_bytes()).unwrap();
    z.finish().unwrap();
}

#[test]
fn an_ods_spreadsheet_imports_with_dates_and_numbers() {
    let mut e = env();
    let path = e.dir.path().join("客户.ods");
    write_ods(
        &path,
        &[
            vec!["客户名单（2024）"],
            vec!["公司名称", "联系人", "手机", "首次接触", "预算"],
            vec![
                "开放文档有限公司",
                "孙七",
                "13600001111",
                "date:2024-03-01",
                "num:88000",
            ],
        ],
    );
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!((rep.imported, rep.failed), (1, 0), "{:?}", rep.failures);
    let c = customer_by_name(&e.ws, "开放文档有限公司");
    assert_eq!(c.fields.first_contact_date.as_deref(), Some("2024-03-01"));
    assert_eq!(c.fields.budget, Some(88000.0));
    assert_eq!(c.contacts[0].fields.mobile.as_deref(), Some("13600001111"));
}

#[test]
fn a_follow_up_sheet_keyed_by_code_or_name_imports_with_its_customers_and_undoes() {
    let mut e = env();
    let old = add(&mut e.ws, "老客户有限公司", vec![], &[]);
    let path = e.dir.path().join("with_followups.xlsx");
    write_xlsx(
        &path,
        &[
            (
                "客户",
                seed004_rows()
                    .into_iter()
                    .map(|r| {
                        r.into_iter()
                            .map(|v| {
                                if matches!(&v, S(s) if *s == "王明") {
                                    E
                                } else {
                                    v
                                }
                            })
                            .collect()
                    })
                    .collect(),
            ),
            (
                "跟进",
                vec![
                    vec![
                        S("跟进记录ID"),
                        S("客户编号"),
                        S("客户名称"),
                        S("跟进时间"),
                        S("跟进方式"),
                        S("跟进人"),
                        S("跟进内容摘要"),
                        S("客户反馈"),
                        S("下一步计划"),
                        S("是否有效跟进"),
                    ],
                    vec![
                        S("GZ2024001"),
                        S("CL2024001"),
                        E,
                        S("2024-03-05 10:00"),
                        S("电话"),
                        E,
                        S("确认客户需求细节"),
                        S("方案需补充成本说明"),
                        S("3月8日前更新方案"),
                        S("是"),
                    ],
                    vec![
                        S("GZ2024002"),
                        E,
                        S("老客户有限公司"),
                        D(2024, 3, 4),
                        S("邮件"),
                        E,
                        S("推出季度优惠"),
                        S("价格偏高"),
                        E,
                        S("否"),
                    ],
                    vec![
                        S("GZ2024003"),
                        S("NOPE"),
                        E,
                        S("2024-03-06"),
                        S("飞鸽传书"),
                        E,
                        S("?"),
                        E,
                        E,
                        E,
                    ],
                ],
            ),
        ],
    );
    // The preview already names the failing follow-up and why; the others
    // refer to customers the first sheet creates.
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    assert_eq!(pv.followup_failures.len(), 1);
    assert_eq!(
        pv.followup_failures[0].issues.len(),
        2,
        "{:?}",
        pv.followup_failures[0].issues
    );
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(rep.imported, 3);
    assert_eq!(rep.followup_sheet.as_deref(), Some("跟进"));
    assert_eq!(
        rep.followup_failures[0].row, pv.followup_failures[0].row,
        "the preview and the import fail the same row"
    );
    assert_eq!(rep.followups_imported, 2);
    assert_eq!(rep.followup_failures.len(), 1);
    let fields: Vec<&str> = rep.followup_failures[0]
        .issues
        .iter()
        .map(|i| i.field.as_str())
        .collect();
    assert!(
        fields.contains(&"kind") && fields.contains(&"customer"),
        "{fields:?}"
    );
    let c = customers::get(e.ws.conn(), "CL2024001").unwrap();
    assert!(
        c.last_followup_at.is_some(),
        "the customer's last follow-up is derived"
    );
    let n: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM followups", [], |r| r.get(0))
            .unwrap();
    assert_eq!(n, 2);
    let report = e.dir.path().join("err.xlsx");
    import::report::write_error_report(&rep, &report, kehu::Lang::Zh).unwrap();
    assert_eq!(import::read::sheet_names(&report).unwrap().len(), 2);

    import::undo(&mut e.ws, rep.job_id.as_deref().unwrap()).unwrap();
    let n: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM followups", [], |r| r.get(0))
            .unwrap();
    assert_eq!(n, 0);
    assert!(customers::get(e.ws.conn(), &old.id)
        .unwrap()
        .last_followup_at
        .is_none());
}

#[test]
fn a_row_that_is_a_short_form_of_an_existing_customer_is_matched_with_score_and_reasons() {
    let mut e = env();
    let mut fields = customers::CustomerFields::named("深圳市腾云科技有限公司");
    fields.province = Some("广东省".into());
    fields.city = Some("深圳市".into());
    fields.notes = Some("老客户".into());
    let c = customers::create(
        &mut e.ws,
        customers::NewCustomer {
            fields,
            contacts: vec![contact("王芳", "13900139000")],
            tags: vec![],
        },
    )
    .unwrap();
    let path = e.dir.path().join("s.csv");
    std::fs::write(
        &path,
        "客户名称,联系人,手机,省份,城市,备注\n腾云科技,李雷,13700137000,广东省,深圳市,要报价\n宁波海曙远洋渔业有限公司,,,,,\n",
    )
    .unwrap();
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    let m = pv.rows[0].matched.as_ref().expect("腾云科技 matches");
    assert_eq!(
        (m.reason.as_str(), m.customer_id.as_str()),
        ("similar", c.id.as_str())
    );
    assert!(m.score.unwrap() >= 0.85, "{m:?}");
    assert!(!m.reasons.is_empty());
    assert_eq!(pv.rows[0].action, RowAction::Skip);
    assert!(pv.rows[1].matched.is_none(), "an unrelated company is new");
    assert_eq!((pv.create, pv.skip), (1, 1));

    // Merge into the existing customer: its name stays, the row's contact
    // joins it and both notes are kept.
    let rep = import_file(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Merge,
            ..opts()
        },
    );
    assert_eq!((rep.imported, rep.updated), (1, 1));
    let now = customers::get(e.ws.conn(), &c.id).unwrap();
    assert_eq!(now.fields.name, "深圳市腾云科技有限公司");
    assert_eq!(now.fields.notes.as_deref(), Some("老客户\n要报价"));
    let names: Vec<_> = now
        .contacts
        .iter()
        .map(|k| k.fields.name.as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"李雷"));
}

#[test]
fn a_row_repeating_an_earlier_row_of_the_file_follows_the_policy() {
    let path_of = |e: &Env| e.dir.path().join("f.csv");
    let body = "客户名称,手机,城市,所属行业\n杭州云帆科技有限公司,13800138000,杭州市,\n云帆科技,,杭州市,制造业\n";
    // Skip: the repeat is reported and left out.
    let mut e = env();
    std::fs::write(path_of(&e), body).unwrap();
    let pv = import::preview(&e.ws, &path_of(&e), &opts()).unwrap();
    let m = pv.rows[1]
        .matched
        .as_ref()
        .expect("the second row repeats the first");
    assert_eq!((m.reason.as_str(), m.row), ("file", Some(2)));
    assert!(m.score.unwrap() >= 0.85);
    let path = path_of(&e);
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!((rep.imported, rep.skipped), (1, 1));
    // Fill: one customer, completed by the second row.
    let mut e = env();
    std::fs::write(path_of(&e), body).unwrap();
    let path = path_of(&e);
    let rep = import_file(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Fill,
            ..opts()
        },
    );
    assert_eq!((rep.imported, rep.updated), (1, 1));
    let all = kehu::customer_list::list(e.ws.conn(), &Default::default()).unwrap();
    assert_eq!(all.total, 1);
    assert_eq!(all.rows[0].industry.as_deref(), Some("制造业"));
    // Create anyway: two customers.
    let mut e = env();
    std::fs::write(path_of(&e), body).unwrap();
    let path = path_of(&e);
    let rep = import_file(
        &mut e.ws,
        &path,
        &ImportOptions {
            on_duplicate: OnDuplicate::Create,
            ..opts()
        },
    );
    assert_eq!(rep.imported, 2);
}

/// (customer, name, stage, expected amount, close date) of each deal.
type Deal = (String, String, String, Option<f64>, Option<String>);

fn opportunities_of(ws: &Workspace) -> Vec<Deal> {
    ws.conn()
        .prepare(
            "SELECT c.name, o.name, o.stage, o.expected_amount, o.expected_close_date
             FROM opportunities o JOIN customers c ON c.id = o.customer_id ORDER BY o.name",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn the_template_filled_with_an_opportunity_row_imports_it_as_a_deal_with_history() {
    let mut e = env();
    let path = e.dir.path().join("template.xlsx");
    kehu::template::write_template(&path).unwrap();
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    assert_eq!(pv.opportunity_sheet.as_deref(), Some("销售机会"));
    assert_eq!(pv.opportunity_rows, 1);
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(
        rep.opportunities_imported, 1,
        "{:?}",
        rep.opportunity_failures
    );
    assert!(rep.opportunity_failures.is_empty());
    assert_eq!(
        opportunities_of(&e.ws),
        vec![(
            "杭州云帆科技有限公司".to_string(),
            "2024 年度设备采购".to_string(),
            "proposal".to_string(),
            Some(50000.0),
            Some("2024-06-30".to_string())
        )]
    );
    // Written as a deal made by hand: a change-log record and a stage stay.
    assert_eq!(count(&e.ws, "opportunity_stage_history"), 1);
    let logged: i64 = e
        .ws
        .conn()
        .query_row(
            "SELECT count(*) FROM changes WHERE entity = 'opportunity' AND field = '*' AND origin LIKE 'import:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 1);
}

fn opportunity_sheet(rows: Vec<Vec<V>>) -> Vec<Vec<V>> {
    let mut all = vec![vec![
        S("客户编号"),
        S("客户名称"),
        S("机会名称"),
        S("预计金额（万元）"),
        S("成交金额"),
        S("预计成交日期"),
        S("销售阶段"),
        S("输单原因"),
    ]];
    all.extend(rows);
    all
}

#[test]
fn opportunity_rows_are_checked_one_by_one_and_undo_removes_the_deals() {
    let mut e = env();
    let old = add(&mut e.ws, "老客户有限公司", vec![], &[]);
    let path = e.dir.path().join("deals.xlsx");
    write_xlsx(
        &path,
        &[
            (
                "客户",
                vec![
                    vec![S("客户编号"), S("客户名称"), S("手机")],
                    vec![S("CL9001"), S("新客户有限公司"), S("13800138000")],
                ],
            ),
            (
                "商机",
                opportunity_sheet(vec![
                    // Keyed by a code the same file creates; 万 from the header.
                    vec![
                        S("CL9001"),
                        E,
                        S("一期"),
                        N(12.5),
                        S("1,200,000元"),
                        S("2024/6/30"),
                        S("Negotiation"),
                        E,
                    ],
                    // Keyed by the name of an existing customer; 万 in the cell.
                    vec![
                        E,
                        S("老客户有限公司"),
                        S("续约"),
                        S("3万"),
                        E,
                        D(2024, 9, 1),
                        S("需求分析"),
                        E,
                    ],
                    // Lost with its reason.
                    vec![
                        E,
                        S("老客户有限公司"),
                        S("旧项目"),
                        E,
                        E,
                        E,
                        S("输单"),
                        S("价格太高"),
                    ],
                    // Unknown customer.
                    vec![S("NOPE-1"), E, S("无主"), N(1.0), E, E, E, E],
                    // A stage misspelt, an amount and a date that are not.
                    vec![
                        E,
                        S("新客户有限公司"),
                        S("二期"),
                        S("很多"),
                        E,
                        S("下个月"),
                        S("方案提交"),
                        E,
                    ],
                    // Lost without a reason.
                    vec![E, S("新客户有限公司"), S("三期"), E, E, E, S("输单"), E],
                ]),
            ),
        ],
    );
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    assert_eq!(
        (pv.opportunity_sheet.as_deref(), pv.opportunity_rows),
        (Some("商机"), 6)
    );
    // The preview finds the same failing deals before anything is written:
    // CL9001 is a customer the first sheet creates, not a missing one.
    let rows_of = |f: &[import::FailedRow]| f.iter().map(|f| f.row).collect::<Vec<_>>();
    assert_eq!(rows_of(&pv.opportunity_failures), vec![5, 6, 7]);
    assert_eq!(pv.opportunity_failures[0].issues[0].field, "customer");
    assert!(pv.opportunity_failures[1]
        .issues
        .iter()
        .any(|i| i.suggestion.as_deref() == Some("方案提供")));
    let dry = import::run(
        &mut e.ws,
        &path,
        &opts(),
        true,
        &mut |_| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(
        (
            dry.opportunities_imported,
            rows_of(&dry.opportunity_failures)
        ),
        (3, vec![5, 6, 7])
    );
    assert_eq!(opportunities_of(&e.ws).len(), 0, "a dry run writes nothing");
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(rep.imported, 1);
    assert_eq!(
        rep.opportunities_imported, 3,
        "{:?}",
        rep.opportunity_failures
    );
    let deals = opportunities_of(&e.ws);
    assert_eq!(
        deals
            .iter()
            .map(|d| (d.1.as_str(), d.2.as_str(), d.3, d.4.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            ("一期", "negotiation", Some(125000.0), Some("2024-06-30")),
            ("旧项目", "lost", None, None),
            ("续约", "needs_analysis", Some(30000.0), Some("2024-09-01")),
        ]
    );
    let won: f64 =
        e.ws.conn()
            .query_row(
                "SELECT won_amount FROM opportunities WHERE name = '一期'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(won, 1_200_000.0);
    let (reason, stays): (String, i64) = e
        .ws
        .conn()
        .query_row(
            "SELECT loss_reason, (SELECT count(*) FROM opportunity_stage_history h WHERE h.opportunity_id = o.id)
             FROM opportunities o WHERE name = '旧项目'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (reason.as_str(), stays),
        ("价格太高", 2),
        "entered at the first stage, then lost"
    );

    let fails = &rep.opportunity_failures;
    assert_eq!(
        fails.iter().map(|f| f.row).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    let unknown = &fails[0].issues[0];
    assert_eq!(unknown.field, "customer");
    assert!(unknown.zh.contains("找不到客户“NOPE-1”"), "{}", unknown.zh);
    assert!(
        unknown.en.contains("No customer “NOPE-1”"),
        "{}",
        unknown.en
    );
    let by_field = |f: &str| fails[1].issues.iter().find(|i| i.field == f).cloned();
    let stage = by_field("stage").expect("the misspelt stage");
    assert_eq!(stage.suggestion.as_deref(), Some("方案提供"));
    assert!(stage.zh.contains("是否是“方案提供”"), "{}", stage.zh);
    assert!(by_field("expected_amount").unwrap().zh.contains("很多"));
    assert!(by_field("expected_close_date")
        .unwrap()
        .en
        .contains("下个月"));
    assert_eq!(fails[2].issues[0].field, "reason");

    // The error report carries the failed deals on a sheet of their own.
    let report = e.dir.path().join("err.xlsx");
    import::report::write_error_report(&rep, &report, kehu::Lang::Zh).unwrap();
    assert_eq!(
        import::read::sheet_names(&report).unwrap(),
        ["导入失败的行", "商机"]
    );
    let t = import::read::read(&report, import::read::SheetPick::Named("商机"), None).unwrap();
    assert_eq!(t.rows.len(), 4);
    assert!(t.rows[1].last().unwrap().display().contains("找不到客户"));

    let undo = import::undo(&mut e.ws, rep.job_id.as_deref().unwrap()).unwrap();
    assert_eq!(
        undo.opportunities_removed, 2,
        "the deals of the customer that stays"
    );
    assert_eq!(count(&e.ws, "opportunities"), 0);
    assert_eq!(count(&e.ws, "opportunity_stage_history"), 0);
    assert!(customers::get(e.ws.conn(), &old.id).is_ok());
}

#[test]
fn rows_repeating_a_customer_with_other_contact_persons_add_contacts_to_one_customer() {
    let mut e = env();
    let path = e.dir.path().join("per_contact.csv");
    std::fs::write(
        &path,
        "客户编号,客户名称,联系人,手机,职务,所属行业\n\
         ,杭州云帆科技有限公司,张伟,13800138000,采购经理,\n\
         ,杭州云帆科技有限公司,李娜,13912345678,财务,制造业\n\
         ,杭州云帆科技有限公司,王强,,总经理,\n\
         CL7001,宁波海信贸易有限公司,赵敏,13700000001,,\n\
         CL7001,宁波海信贸易有限公司,钱力,13700000002,,\n\
         CL7001,温州别的公司,孙燕,13700000003,,\n",
    )
    .unwrap();
    let pv = import::preview(&e.ws, &path, &opts()).unwrap();
    assert_eq!((pv.create, pv.update, pv.fail), (2, 3, 1));
    assert_eq!(
        pv.rows
            .iter()
            .find(|r| r.row == 3)
            .unwrap()
            .matched
            .as_ref()
            .unwrap()
            .row,
        Some(2)
    );
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!(
        (rep.imported, rep.updated, rep.failed),
        (2, 3, 1),
        "{:?}",
        rep.failures
    );
    assert_eq!(
        rep.failures[0].issues[0].field, "code",
        "same code, another name"
    );
    assert_eq!(count(&e.ws, "customers"), 2);
    let yf = customer_by_name(&e.ws, "杭州云帆科技有限公司");
    let mut names: Vec<(&str, bool)> = yf
        .contacts
        .iter()
        .map(|c| (c.fields.name.as_str(), c.fields.is_primary))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![("张伟", true), ("李娜", false), ("王强", false)]
    );
    assert_eq!(
        yf.fields.industry.as_deref(),
        Some("制造业"),
        "a later row fills an empty field"
    );
    assert_eq!(
        customer_by_name(&e.ws, "宁波海信贸易有限公司")
            .contacts
            .len(),
        2
    );
    import::undo(&mut e.ws, rep.job_id.as_deref().unwrap()).unwrap();
    assert_eq!(
        (count(&e.ws, "customers"), count(&e.ws, "contacts")),
        (0, 0)
    );
}

/// tests/fixtures/libreoffice.{xls,ods}: written by openpyxl, converted by
/// LibreOffice (scripts/make-fixtures.sh regenerates them).
fn libreoffice_fixture_imports(ext: &str) {
    let mut e = env();
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/libreoffice.{ext}"));
    let rep = import_file(&mut e.ws, &path, &opts());
    assert_eq!((rep.imported, rep.failed), (3, 0), "{:?}", rep.failures);
    let c = customer_by_name(&e.ws, "杭州云帆科技有限公司");
    assert_eq!(c.fields.first_contact_date.as_deref(), Some("2024-03-01"));
    assert_eq!(c.fields.annual_purchase, Some(1_250_000.5));
    assert_eq!(c.fields.industry.as_deref(), Some("制造业"));
    assert_eq!(c.fields.grade, Some(customers::Grade::A));
    assert_eq!(c.fields.notes.as_deref(), Some("华东重点客户"));
    assert_eq!(c.contacts[0].fields.name, "张伟");
    assert_eq!(c.contacts[0].fields.mobile.as_deref(), Some("13800138000"));
    let d = customer_by_name(&e.ws, "成都锦江餐饮管理有限公司");
    assert_eq!(d.fields.first_contact_date.as_deref(), Some("2024-02-29"));
    assert_eq!(d.fields.annual_purchase, Some(0.75));
    assert_eq!(
        customer_by_name(&e.ws, "深圳前海贸易有限公司")
            .fields
            .first_contact_date
            .as_deref(),
        Some("2023-12-31")
    );
    assert_eq!(
        rep.opportunities_imported, 1,
        "{:?}",
        rep.opportunity_failures
    );
    assert_eq!(
        opportunities_of(&e.ws),
        vec![(
            "杭州云帆科技有限公司".to_string(),
            "年度设备采购".to_string(),
            "proposal".to_string(),
            Some(50000.0),
            Some("2024-06-30".to_string())
        )]
    );
}

#[test]
fn an_xls_written_by_libreoffice_imports_dates_numbers_and_chinese_text() {
    libreoffice_fixture_imports("xls");
}

#[test]
fn an_ods_written_by_libreoffice_imports_dates_numbers_and_chinese_text() {
    libreoffice_fixture_imports("ods");
}

#[test]
fn a_bulk_import_into_an_empty_workspace_ends_with_every_index_and_its_follow_ups_attached() {
    let e = env();
    let fresh = Workspace::open(e.dir.path().join("fresh.db")).unwrap();
    let mut ws = Workspace::open(e.dir.path().join("bulk.db")).unwrap();
    // Enough rows for the import to build the read-side indexes at the end.
    let n = 2_500;
    let mut customers = vec![vec![S("客户名称"), S("客户状态"), S("联系人"), S("手机")]];
    for i in 0..n {
        customers.push(vec![
            T(format!("批量{i}号科技有限公司")),
            S(if i % 3 == 0 { "意向" } else { "潜在" }),
            T(format!("联系人{i}")),
            T(format!("139{:08}", i)),
        ]);
    }
    // Follow-ups name their customers: looked up after the rows are in.
    let followups = vec![
        vec![
            S("客户名称"),
            S("跟进时间"),
            S("跟进方式"),
            S("跟进内容摘要"),
        ],
        vec![
            S("批量7号科技有限公司"),
            S("2024-03-05 10:00"),
            S("电话"),
            S("确认需求"),
        ],
        vec![
            S("批量2499号科技有限公司"),
            D(2024, 3, 4),
            S("拜访"),
            S("现场演示"),
        ],
    ];
    let path = e.dir.path().join("bulk.xlsx");
    write_xlsx(&path, &[("客户", customers), ("跟进", followups)]);
    let rep = import_file(&mut ws, &path, &opts());
    assert_eq!(
        (rep.imported, rep.failed, rep.followups_imported),
        (n, 0, 2)
    );

    assert_eq!(index_definitions(&ws), index_definitions(&fresh));
    assert_eq!(integrity(&ws), "ok");
    let q = kehu::customer_list::CustomerQuery {
        status: vec![customers::Status::Interested],
        ..Default::default()
    };
    assert_eq!(kehu::customer_list::list(ws.conn(), &q).unwrap().total, 834);
    assert!(customer_by_name(&ws, "批量7号科技有限公司")
        .last_followup_at
        .is_some());
    assert!(customer_by_name(&ws, "批量2499号科技有限公司")
        .last_followup_at
        .is_some());
    // Their search documents and name keys were built on the side (an
    // empty index, 2,000+ customers) and copied in.
    let found = |q: &str| kehu::search::search_ids(ws.conn(), q, 10).unwrap();
    assert_eq!(found("13900001234").len(), 1);
    assert_eq!(found("批量1234号"), found("13900001234"));
    assert_eq!(found("联系人2345").len(), 1);
    assert_eq!(customers_with_name_keys(&ws), n as i64);
}
