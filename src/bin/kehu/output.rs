//! Printing: JSON for scripts, aligned text for people.

use kehu::customer_list::CustomerRow;
use kehu::Lang;
use serde::Serialize;

pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialisable")
    );
}

/// Print the error as one line (or a JSON object) and exit non-zero.
pub fn fail(e: &kehu::Error, json: bool, lang: Lang) -> ! {
    if json {
        println!(
            "{}",
            serde_json::to_string(&e.to_payload(lang)).expect("serialisable")
        );
    } else {
        let prefix = lang.pick("错误", "error");
        match e.field() {
            Some(f) => eprintln!("{prefix} [{f}]: {}", e.message(lang)),
            None => eprintln!("{prefix}: {}", e.message(lang)),
        }
    }
    std::process::exit(match e.code() {
        kehu::error::Code::Validation => 2,
        kehu::error::Code::NotFound => 3,
        _ => 1,
    })
}

/// Width of text in a terminal: CJK characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if (c as u32) >= 0x1100 && !c.is_ascii() {
                2
            } else {
                1
            }
        })
        .sum()
}

pub fn pad(s: &str, w: usize) -> String {
    let n = width(s);
    if n >= w {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

pub fn customer_rows(rows: &[CustomerRow], total: u32, lang: Lang) {
    for r in rows {
        let tags = r
            .tags
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(",");
        println!(
            "{}  {}  {}  {}  {}  {}  {}",
            pad(&r.code, 13),
            pad(&r.name, 30),
            pad(r.status.label(lang), 8),
            pad(r.grade.map(|g| g.key()).unwrap_or("-"), 2),
            pad(r.contact_name.as_deref().unwrap_or("-"), 8),
            pad(r.contact_mobile.as_deref().unwrap_or("-"), 13),
            tags
        );
    }
    if lang == Lang::Zh {
        println!("共 {total} 个客户，显示 {} 个", rows.len());
    } else {
        println!("{total} customers, {} shown", rows.len());
    }
}
