//! Parsing the dates and times people type or spreadsheets hold.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};

/// A calendar date from `2024-03-01`, `2024/3/1`, `2024.3.1`, `20240301`,
/// `2024年3月1日` (a time part after the date is ignored).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let t = t.split([' ', 'T']).next().unwrap_or(t);
    let t = t
        .replace(['年', '月'], "-")
        .replace('日', "")
        .replace(['/', '.'], "-");
    if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&t, "%Y%m%d").ok();
    }
    NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok()
}

/// A local date-time (`YYYY-MM-DD HH:MM[:SS]`) or an RFC 3339 time, to UTC ms.
pub fn parse_local_datetime(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    let t2 = t.replace('/', "-").replace('T', " ");
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(&t2, fmt) {
            return chrono::Local
                .from_local_datetime(&n)
                .earliest()
                .map(|d| d.timestamp_millis());
        }
    }
    parse_date(t)
        .and_then(|d| {
            chrono::Local
                .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
                .earliest()
        })
        .map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dates_in_the_forms_people_type() {
        let want = NaiveDate::from_ymd_opt(2024, 3, 1);
        for t in [
            "2024-03-01",
            "2024/3/1",
            "2024.3.1",
            "20240301",
            "2024年3月1日",
            "2024-03-01 10:00",
        ] {
            assert_eq!(parse_date(t), want, "{t}");
        }
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("明天"), None);
    }
}
