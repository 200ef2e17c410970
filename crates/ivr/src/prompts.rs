//! The prompt catalog: every recorded clip the IVR, the queue experience and
//! the survey may play, with the text to synthesise in each language.
//!
//! The voice layer plays `<prompt_dir>/<lang>/<name>.wav`; the files are
//! generated from [`CATALOG`] (`espeak-ng -v en` and `-v cmn`), so a clip
//! name the interpreter emits must be listed here (the tests check it).
//!
//! Clip names do not depend on the language: `n-hundred` is "hundred" in
//! English and "百" in Chinese, and [`crate::speak`] arranges the clips in
//! each language's word order.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language prompts are played in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Mandarin Chinese (simplified characters in the catalog).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The code used in JSON, attributes and prompt directories (`zh`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Parse `zh` / `en` (case-insensitive, surrounding blanks ignored).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One recorded clip in one language.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Clip {
    /// Language directory the clip is taken from.
    pub lang: Lang,
    /// Catalog name, without directory or extension.
    pub name: String,
}

impl Clip {
    /// A clip by name.
    pub fn new(lang: Lang, name: impl Into<String>) -> Clip {
        Clip { lang, name: name.into() }
    }

    /// The file path relative to the prompt directory: `zh/n-5.wav`.
    pub fn path(&self) -> String {
        format!("{}/{}.wav", self.lang, self.name)
    }
}

/// One element of a playback: a clip or a pause.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sound {
    /// Play this clip.
    Clip(Clip),
    /// Play silence for this many milliseconds.
    Silence {
        /// Length of the pause.
        ms: u32,
    },
}

/// The text of one clip in every language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PromptText {
    /// Clip name (file name without `.wav`).
    pub name: &'static str,
    /// English text.
    pub en: &'static str,
    /// Mandarin text, simplified characters.
    pub zh: &'static str,
}

impl PromptText {
    /// The text in `lang`.
    pub fn text(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

const fn p(name: &'static str, en: &'static str, zh: &'static str) -> PromptText {
    PromptText { name, en, zh }
}

/// Every clip the sample flow, the queue experience, the survey and the
/// number speaker use.
pub const CATALOG: &[PromptText] = &[
    // Greeting, hours, language choice.
    p("welcome", "Welcome to the Switchboard customer hotline.", "您好，欢迎致电客户服务热线。"),
    p(
        "closed",
        "Our hotline is closed. We are open Monday to Friday, from eight in the morning to eight in the evening.",
        "现在是非工作时间。我们的服务时间是周一至周五，早上八点到晚上八点。",
    ),
    p("lang-menu-zh", "For Chinese, press 1.", "中文服务请按一。"),
    p("lang-menu-en", "For English, press 2.", "英文服务请按二。"),
    // Main menu and its errors.
    p(
        "main-menu",
        "For sales, press 1. For technical support, press 2. For billing, press 3. \
         To check the status of an order, press 4. To be called back, press 9. To hear these options again, press 0.",
        "销售咨询请按一，技术支持请按二，账单问题请按三，查询订单状态请按四，预约回电请按九，重听请按零。",
    ),
    p("invalid", "Sorry, that is not a valid choice.", "对不起，您的输入有误。"),
    p("timeout", "Sorry, we did not receive your choice.", "对不起，我们没有收到您的输入。"),
    p("goodbye", "Thank you for calling. Goodbye.", "感谢您的来电，再见。"),
    p("key-star", "star", "星号"),
    p("key-hash", "hash", "井号"),
    // Queue experience.
    p("transferring", "Please wait while we transfer your call.", "正在为您转接，请稍候。"),
    p("please-hold", "Please hold, an agent will be with you shortly.", "请不要挂机，客服人员将很快为您服务。"),
    p("all-busy", "All our agents are busy at the moment.", "目前所有客服人员都在忙。"),
    p("transfer-failed", "Sorry, we could not connect your call.", "对不起，暂时无法为您接通。"),
    p("caller-number", "You are caller number", "您是第"),
    p("in-line", "in the queue.", "位等候的来电。"),
    p("expected-wait", "Your expected wait is about", "预计等待时间大约为"),
    p("second", "second", "秒"),
    p("seconds", "seconds", "秒"),
    p("minute", "minute", "分钟"),
    p("minutes", "minutes", "分钟"),
    p("hour", "hour", "小时"),
    p("hours", "hours", "小时"),
    p("day", "day", "天"),
    p("days", "days", "天"),
    // Callback.
    p(
        "callback-offer",
        "To be called back when an agent is free, without losing your place in the queue, press 1. \
         To return to the main menu, press any other key.",
        "如需在客服空闲时回电给您，并保留您的排队位置，请按一。返回主菜单请按其他任意键。",
    ),
    p(
        "callback-confirmed",
        "Thank you. We will call you back at this number. You keep your place in the queue.",
        "好的，我们将回拨您的这个号码，您的排队位置会为您保留。",
    ),
    // Voicemail.
    p(
        "voicemail-prompt",
        "Please leave your name, your number and a short message after the tone.",
        "请在提示音后留下您的姓名、电话号码和留言。",
    ),
    p("voicemail-thanks", "Thank you, we have received your message.", "谢谢，我们已经收到您的留言。"),
    // Order status self-service.
    p(
        "enter-account",
        "Please enter your account number, followed by the hash key.",
        "请输入您的账号，并以井号键结束。",
    ),
    p("order-status-is", "Your order status is", "您的订单状态是"),
    p("status-shipped", "shipped.", "已发货。"),
    p("status-processing", "being processed.", "正在处理中。"),
    p("status-delivered", "delivered.", "已送达。"),
    p("status-unknown", "unknown. Please speak to an agent.", "暂时无法确定，请咨询客服人员。"),
    p("expected-in", "It is expected to arrive in", "预计送达还需要"),
    p("lookup-failed", "Sorry, we cannot find your order at the moment.", "对不起，暂时无法查询到您的订单。"),
    // Post-call survey.
    p(
        "survey-intro",
        "Thank you for staying on the line for a short survey about your call.",
        "感谢您参加本次通话的满意度调查。",
    ),
    p(
        "survey-q1",
        "How satisfied were you with the agent? Press a key from 1, very unsatisfied, to 5, very satisfied.",
        "您对客服人员的服务满意吗？请按一到五，一表示非常不满意，五表示非常满意。",
    ),
    p(
        "survey-q2",
        "Was your problem solved? Press 1 for yes, or 2 for no.",
        "您的问题解决了吗？已解决请按一，未解决请按二。",
    ),
    p("survey-thanks", "Thank you for your feedback. Goodbye.", "感谢您的宝贵意见，再见。"),
    // Numbers (see `speak`). The Chinese text follows Chinese word order
    // only as far as each clip goes; `speak` chooses which clips to play.
    p("n-0", "zero", "零"),
    p("n-1", "one", "一"),
    p("n-2", "two", "二"),
    p("n-3", "three", "三"),
    p("n-4", "four", "四"),
    p("n-5", "five", "五"),
    p("n-6", "six", "六"),
    p("n-7", "seven", "七"),
    p("n-8", "eight", "八"),
    p("n-9", "nine", "九"),
    p("n-10", "ten", "十"),
    p("n-11", "eleven", "十一"),
    p("n-12", "twelve", "十二"),
    p("n-13", "thirteen", "十三"),
    p("n-14", "fourteen", "十四"),
    p("n-15", "fifteen", "十五"),
    p("n-16", "sixteen", "十六"),
    p("n-17", "seventeen", "十七"),
    p("n-18", "eighteen", "十八"),
    p("n-19", "nineteen", "十九"),
    p("n-20", "twenty", "二十"),
    p("n-30", "thirty", "三十"),
    p("n-40", "forty", "四十"),
    p("n-50", "fifty", "五十"),
    p("n-60", "sixty", "六十"),
    p("n-70", "seventy", "七十"),
    p("n-80", "eighty", "八十"),
    p("n-90", "ninety", "九十"),
    p("n-hundred", "hundred", "百"),
    p("n-thousand", "thousand", "千"),
    p("n-million", "million", "百万"),
    p("n-billion", "billion", "十亿"),
    p("n-trillion", "trillion", "万亿"),
    p("n-ten-thousand", "ten thousand", "万"),
    p("n-hundred-million", "hundred million", "亿"),
    // "两": two, before a measure word or 百/千/万/亿.
    p("n-liang", "two", "两"),
    // "幺": one, when reading digits one by one (phone and account numbers).
    p("n-yao", "one", "幺"),
];

/// The catalog entry of a clip name.
pub fn lookup(name: &str) -> Option<&'static PromptText> {
    CATALOG.iter().find(|t| t.name == name)
}

/// Whether a clip name is in the catalog.
pub fn is_known(name: &str) -> bool {
    lookup(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_file_safe() {
        let mut seen = BTreeSet::new();
        for t in CATALOG {
            assert!(seen.insert(t.name), "duplicate clip {}", t.name);
            assert!(t.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{}", t.name);
            assert!(!t.en.trim().is_empty() && !t.zh.trim().is_empty(), "{}", t.name);
            // The Chinese text is for the Mandarin voice: no Latin letters.
            assert!(!t.zh.chars().any(|c| c.is_ascii_alphabetic()), "{}", t.name);
        }
    }

    #[test]
    fn clip_path() {
        assert_eq!(Clip::new(Lang::Zh, "n-5").path(), "zh/n-5.wav");
        assert_eq!(Lang::parse(" EN "), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
