//! The user's language. Chinese (zh-CN) is the default; English is the other
//! choice. Enum labels live beside their enums; this module only decides the
//! language and names entities in messages.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// From a locale string such as `zh_CN.UTF-8` or `en_US`: zh when it
    /// starts with zh, otherwise English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The terminal's language, from LC_ALL, LC_MESSAGES or LANG.
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.is_empty())
            .map(|v| Lang::from_locale(&v))
            .unwrap_or(Lang::En)
    }

    /// Pick the text for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Chinese name of an entity for messages ("找不到客户：C2026…").
pub fn entity_zh(what: &str) -> &'static str {
    match what {
        "customer" => "客户",
        "contact" => "联系人",
        "tag" => "标签",
        "member" => "团队成员",
        "backup" => "备份",
        "followup" => "跟进记录",
        "opportunity" => "销售机会",
        _ => "记录",
    }
}
