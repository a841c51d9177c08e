mod common;

use common::*;
use kehu::contacts::{self, ContactFields};
use kehu::validate::{normalize_phone, PhoneKind};
use proptest::prelude::*;
use serde_json::json;

#[test]
fn a_mobile_with_plus86_is_stored_normalised() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "腾云科技",
        vec![contact("张三", "+86 138-0013-8000")],
        &[],
    );
    assert_eq!(c.contacts[0].fields.mobile.as_deref(), Some("13800138000"));
}

#[test]
fn phone_validation_table() {
    let cases: &[(&str, Option<(&str, PhoneKind)>)] = &[
        ("13800138000", Some(("13800138000", PhoneKind::CnMobile))),
        ("138 0013 8000", Some(("13800138000", PhoneKind::CnMobile))),
        ("+8613800138000", Some(("13800138000", PhoneKind::CnMobile))),
        (
            "86-138-0013-8000",
            Some(("13800138000", PhoneKind::CnMobile)),
        ),
        (
            "(+86)138-0013-8000",
            Some(("13800138000", PhoneKind::CnMobile)),
        ),
        (
            "0086 159 5403 3907",
            Some(("15954033907", PhoneKind::CnMobile)),
        ),
        (
            "010-62345678",
            Some(("010-62345678", PhoneKind::CnLandline)),
        ),
        (
            "0755 2345 6789",
            Some(("0755-23456789", PhoneKind::CnLandline)),
        ),
        (
            "(021)6123-4567 转 88",
            Some(("021-61234567-88", PhoneKind::CnLandline)),
        ),
        (
            "+44 20 7946 0958",
            Some(("+442079460958", PhoneKind::International)),
        ),
        ("12345", None),
        ("10086", None),
        ("11800138000", None),
        ("1380013800", None),
        ("电话 138", None),
        ("010-1234", None),
    ];
    for (input, want) in cases {
        let got = normalize_phone(input).ok();
        assert_eq!(
            got.as_ref().map(|(s, k)| (s.as_str(), *k)),
            *want,
            "{input}"
        );
    }
}

#[test]
fn a_bad_email_names_the_email_field() {
    let mut e = env();
    let c = add(&mut e.ws, "腾云科技", vec![], &[]);
    let err = contacts::add(
        &mut e.ws,
        &c.id,
        ContactFields {
            name: "李四".into(),
            email: Some("lisi@".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("email"));
    assert!(err.message(kehu::Lang::Zh).contains("邮箱"));
}

#[test]
fn the_first_contact_is_primary_and_there_is_only_ever_one() {
    let mut e = env();
    let c = add(&mut e.ws, "腾云科技", vec![], &[]);
    let a = contacts::add(&mut e.ws, &c.id, contact("张三", "13800138000")).unwrap();
    assert!(a.fields.is_primary);
    let b = contacts::add(
        &mut e.ws,
        &c.id,
        ContactFields {
            is_primary: true,
            ..contact("李四", "13900139000")
        },
    )
    .unwrap();
    assert!(b.fields.is_primary);
    let all = contacts::list_for_customer(e.ws.conn(), &c.id).unwrap();
    assert_eq!(all.iter().filter(|c| c.fields.is_primary).count(), 1);
    assert_eq!(all[0].fields.name, "李四");
    contacts::update(&mut e.ws, &a.id, &patch(&[("is_primary", json!(true))])).unwrap();
    let all = contacts::list_for_customer(e.ws.conn(), &c.id).unwrap();
    assert_eq!(
        all.iter()
            .filter(|c| c.fields.is_primary)
            .map(|c| c.fields.name.as_str())
            .collect::<Vec<_>>(),
        vec!["张三"]
    );
    // Removing the primary promotes the remaining one.
    contacts::remove(&mut e.ws, &a.id).unwrap();
    let all = contacts::list_for_customer(e.ws.conn(), &c.id).unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].fields.is_primary);
}

#[test]
fn a_contact_edit_is_searchable_and_in_the_customer_history() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "腾云科技",
        vec![contact("张三", "13800138000")],
        &[],
    );
    let id = c.contacts[0].id.clone();
    contacts::update(
        &mut e.ws,
        &id,
        &patch(&[("mobile", json!("139 0000 1111"))]),
    )
    .unwrap();
    assert_eq!(
        kehu::search::search_ids(e.ws.conn(), "13900001111", 5).unwrap(),
        vec![c.id.clone()]
    );
    assert!(kehu::search::search_ids(e.ws.conn(), "13800138000", 5)
        .unwrap()
        .is_empty());
    let h = kehu::customers::history(e.ws.conn(), &c.id).unwrap();
    assert!(h.iter().any(|h| h.entity == "contact"
        && h.field == "mobile"
        && h.new == Some(json!("13900001111"))));
}

proptest! {
    /// Any Chinese mobile, written with any of the usual prefixes and
    /// separators, normalises to its 11 digits; normalising is idempotent.
    #[test]
    fn cn_mobiles_normalise_to_eleven_digits(
        second in 3u8..=9, rest in 0u64..1_000_000_000,
        prefix in prop::sample::select(vec!["", "+86", "+86 ", "0086", "86-", "(+86)", "+86-"]),
        sep in prop::sample::select(vec!["", " ", "-"]),
        pad in prop::sample::select(vec!["", " ", "  "]),
    ) {
        let digits = format!("1{second}{rest:09}");
        let written = format!("{pad}{prefix}{}{sep}{}{sep}{}{pad}", &digits[..3], &digits[3..7], &digits[7..]);
        let (n, kind) = normalize_phone(&written).unwrap();
        prop_assert_eq!(&n, &digits);
        prop_assert_eq!(kind, PhoneKind::CnMobile);
        prop_assert_eq!(normalize_phone(&n).unwrap().0, n);
    }

    /// Whatever text goes in, normalisation never panics, and what it
    /// accepts it accepts again unchanged.
    #[test]
    fn normalisation_is_total_and_idempotent(s in "\\PC{0,24}") {
        if let Ok((n, _)) = normalize_phone(&s) {
            prop_assert_eq!(normalize_phone(&n).unwrap().0, n);
        }
    }
}
