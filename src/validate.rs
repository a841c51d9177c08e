//! Validation and normalisation of phone numbers and email addresses, so the
//! same number typed as `+86 138-0013-8000` or `13800138000` is stored, found
//! and matched as one value.

use crate::error::{Error, Result};
use regex::Regex;
use std::sync::LazyLock;

/// What kind of number a normalised phone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    /// Chinese mobile: `1[3-9]` + 9 digits, stored as 11 digits.
    CnMobile,
    /// Chinese landline with area code, stored as `0AA-NNNNNNNN` (extension `-NNN`).
    CnLandline,
    /// Any other country, stored as `+` and digits (E.164).
    International,
}

static CN_MOBILE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^1[3-9]\d{9}$").unwrap());
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,}$").unwrap()
});

/// Two- and three-digit area codes are `010` and `02X`; all others have four
/// digits (`0755`, `0571`).
fn area_code_len(digits: &str) -> usize {
    if digits.starts_with("010") || digits.starts_with("02") {
        3
    } else {
        4
    }
}

/// Normalise a phone number, or say why it is not one.
///
/// Accepts spaces, dashes, dots, brackets and full-width digits; `+86`,
/// `0086` and `86` prefixes on Chinese mobiles; landlines with area code
/// (`010-12345678`, `(0755)8765 4321`, extension after `-`, `转` or `ext`);
/// international numbers starting with `+` or `00`.
pub fn normalize_phone(input: &str) -> Result<(String, PhoneKind)> {
    let text: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap(),
            '＋' => '+',
            '－' | '—' | '–' => '-',
            c => c,
        })
        .collect();
    let bad = || {
        Error::validation(
            "mobile",
            format!("“{}”不是有效的电话号码：手机号应为 11 位（1 开头），座机需带区号，国际号码以 + 开头", input.trim()),
            format!("“{}” is not a valid phone number: a mobile has 11 digits starting with 1, a landline needs its area code, international numbers start with +", input.trim()),
        )
    };
    if text.is_empty() {
        return Err(bad());
    }
    // Split off an extension: 010-12345678-123, 转123, ext 123, x123.
    let lower = text.to_lowercase();
    let (main, ext) = match lower.find(['转', 'x']).or_else(|| lower.find("ext")) {
        Some(i) => {
            let ext: String = lower[i..].chars().filter(|c| c.is_ascii_digit()).collect();
            (lower[..i].to_string(), Some(ext))
        }
        None => (lower.clone(), None),
    };
    if main
        .chars()
        .any(|c| !(c.is_ascii_digit() || " -.()（）+/".contains(c)))
    {
        return Err(bad());
    }
    let plus = main.trim_start().starts_with('+');
    let mut digits: String = main.chars().filter(|c| c.is_ascii_digit()).collect();
    let international_prefix = plus || digits.starts_with("00");
    if digits.starts_with("00") {
        digits.drain(..2);
    }
    // Chinese country code in front of a mobile or landline.
    if (international_prefix || digits.len() == 13) && digits.starts_with("86") {
        let rest = &digits[2..];
        if CN_MOBILE.is_match(rest) {
            return Ok((rest.to_string(), PhoneKind::CnMobile));
        }
        if international_prefix
            && (9..=11).contains(&rest.len())
            && (!rest.starts_with('1') || rest.starts_with("10"))
        {
            // +86 10 12345678 → 010-12345678
            let local = format!("0{rest}");
            return landline(&local, ext.as_deref()).ok_or_else(bad);
        }
        return Err(bad());
    }
    if international_prefix {
        return if (7..=15).contains(&digits.len()) && !digits.starts_with('0') {
            Ok((format!("+{digits}"), PhoneKind::International))
        } else {
            Err(bad())
        };
    }
    if CN_MOBILE.is_match(&digits) {
        return Ok((digits, PhoneKind::CnMobile));
    }
    if digits.starts_with('0') {
        return landline(&digits, ext.as_deref()).ok_or_else(bad);
    }
    Err(bad())
}

fn landline(digits: &str, ext: Option<&str>) -> Option<(String, PhoneKind)> {
    let area = area_code_len(digits);
    let local = &digits[area.min(digits.len())..];
    if !(7..=8).contains(&local.len()) || local.starts_with('0') {
        return None;
    }
    let mut out = format!("{}-{}", &digits[..area], local);
    if let Some(e) = ext.filter(|e| !e.is_empty()) {
        out.push('-');
        out.push_str(e);
    }
    Some((out, PhoneKind::CnLandline))
}

/// Only the digits of a phone (for search and duplicate matching), with a
/// leading Chinese country code removed.
pub fn phone_digits(input: &str) -> String {
    match normalize_phone(input) {
        Ok((n, _)) => n.chars().filter(|c| c.is_ascii_digit()).collect(),
        Err(_) => input.chars().filter(|c| c.is_ascii_digit()).collect(),
    }
}

/// Lower-case and check an email address.
pub fn normalize_email(input: &str) -> Result<String> {
    let e = input.trim().to_lowercase();
    if EMAIL.is_match(&e) && !e.contains("..") {
        Ok(e)
    } else {
        Err(Error::validation(
            "email",
            format!("“{}”不是有效的邮箱地址", input.trim()),
            format!("“{}” is not a valid email address", input.trim()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let ok = [
            ("13800138000", "13800138000"),
            ("+86 138 0013 8000", "13800138000"),
            ("+86-138-0013-8000", "13800138000"),
            ("0086 13800138000", "13800138000"),
            ("8613800138000", "13800138000"),
            ("(+86)138-0013-8000", "13800138000"),
            ("１３８００１３８０００", "13800138000"),
            ("010-12345678", "010-12345678"),
            ("(0755) 8765 4321", "0755-87654321"),
            ("021 6123 4567转 808", "021-61234567-808"),
            ("+86 10 12345678", "010-12345678"),
            ("+1 415 555 2671", "+14155552671"),
            ("+49 30 1234567", "+49301234567"),
        ];
        for (input, want) in ok {
            assert_eq!(
                normalize_phone(input).map(|p| p.0).ok().as_deref(),
                Some(want),
                "{input}"
            );
        }
        for bad in [
            "",
            "12345",
            "1380013800",
            "138001380001",
            "12800138000",
            "abc",
            "010-123",
            "+86 12800138000",
            "138-0013-800a",
        ] {
            assert!(normalize_phone(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Zhang.San@Example.COM ").unwrap(),
            "zhang.san@example.com"
        );
        for bad in [
            "zhang",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "@b.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
