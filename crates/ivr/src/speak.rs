//! Numbers, digit strings, durations and queue positions as clip lists.
//!
//! English: "one hundred twenty three" (no "and"), thousands, millions,
//! billions, trillions; 10^15 and above are read digit by digit.
//!
//! Chinese: groups of four digits (万, 亿, 万亿); one 零 for any run of
//! zeros between spoken digits (一百零五, 一千零五, 一万零五); 十 without 一
//! only at the head of a number (十, 十五, 十万, but 一百一十); 两 before
//! 千 and before a leading 百, 万 or 亿 (两百, 两千, 两万, but 一千二百);
//! [`quantity`] also says 两 for a bare 2 before a measure word (两分钟).
//! 10^16 and above are read digit by digit.

use crate::prompts::{Clip, Lang};

/// `n` as a cardinal number.
pub fn number(n: u64, lang: Lang) -> Vec<Clip> {
    let names = match lang {
        Lang::En => english(n),
        Lang::Zh => chinese(n),
    };
    clips(lang, names)
}

/// `n` followed by a unit clip: `unit` when `n` is 1, else `unit` + `s`
/// (`day`/`days`, `minute`/`minutes`…). In Chinese a bare 2 is 两.
pub fn quantity(n: u64, unit: &str, lang: Lang) -> Vec<Clip> {
    let mut out = if lang == Lang::Zh && n == 2 { clips(lang, vec!["n-liang".into()]) } else { number(n, lang) };
    out.push(Clip::new(lang, if n == 1 { unit.to_string() } else { format!("{unit}s") }));
    out
}

/// Read a digit string key by key (`0`–`9`, `*`, `#`); other characters
/// are skipped. Chinese reads 1 as 幺, as for phone numbers.
pub fn digits(s: &str, lang: Lang) -> Vec<Clip> {
    let names = s
        .chars()
        .filter_map(|c| match c {
            '1' if lang == Lang::Zh => Some("n-yao".to_string()),
            '0'..='9' => Some(format!("n-{c}")),
            '*' => Some("key-star".into()),
            '#' => Some("key-hash".into()),
            _ => None,
        })
        .collect();
    clips(lang, names)
}

/// A rough duration: under a minute in steps of 10 seconds (rounded up,
/// at least 10), then whole minutes (nearest; from 10 minutes to the
/// nearest 5), then whole hours from 60 minutes on.
pub fn duration(seconds: u64, lang: Lang) -> Vec<Clip> {
    if seconds < 55 {
        let s = seconds.div_ceil(10).max(1) * 10;
        return quantity(s, "second", lang);
    }
    let mut minutes = seconds.saturating_add(30) / 60;
    if minutes >= 10 {
        minutes = (minutes + 2) / 5 * 5;
    }
    if minutes >= 60 {
        return quantity((minutes + 30) / 60, "hour", lang);
    }
    quantity(minutes.max(1), "minute", lang)
}

/// "Your expected wait is about …".
pub fn expected_wait(seconds: u64, lang: Lang) -> Vec<Clip> {
    let mut out = vec![Clip::new(lang, "expected-wait")];
    out.extend(duration(seconds, lang));
    out
}

/// "You are caller number 3 in the queue." / "您是第三位等候的来电。"
pub fn position(n: u64, lang: Lang) -> Vec<Clip> {
    let mut out = vec![Clip::new(lang, "caller-number")];
    out.extend(number(n, lang));
    out.push(Clip::new(lang, "in-line"));
    out
}

/// The periodic announcement to a waiting caller: "You are caller number
/// 3 in the queue. Your expected wait is about 4 minutes." Either part may
/// be left out; with neither, "please hold".
pub fn queue_update(position: Option<u64>, wait_seconds: Option<u64>, lang: Lang) -> Vec<Clip> {
    let mut out = Vec::new();
    if let Some(p) = position.filter(|&p| p > 0) {
        out.extend(self::position(p, lang));
    }
    if let Some(w) = wait_seconds {
        out.extend(expected_wait(w, lang));
    }
    if out.is_empty() {
        out.push(Clip::new(lang, "please-hold"));
    }
    out
}

fn clips(lang: Lang, names: Vec<String>) -> Vec<Clip> {
    names.into_iter().map(|name| Clip { lang, name }).collect()
}

fn digit_names(n: u64) -> Vec<String> {
    n.to_string().chars().map(|c| format!("n-{c}")).collect()
}

fn english(n: u64) -> Vec<String> {
    if n == 0 {
        return vec!["n-0".into()];
    }
    if n >= 1_000_000_000_000_000 {
        return digit_names(n);
    }
    let mut out = Vec::new();
    let scales = [
        (1_000_000_000_000, Some("n-trillion")),
        (1_000_000_000, Some("n-billion")),
        (1_000_000, Some("n-million")),
        (1_000, Some("n-thousand")),
        (1, None),
    ];
    for (scale, name) in scales {
        let group = n / scale % 1000;
        if group == 0 {
            continue;
        }
        english_below_thousand(group, &mut out);
        if let Some(name) = name {
            out.push(name.into());
        }
    }
    out
}

fn english_below_thousand(n: u64, out: &mut Vec<String>) {
    if n >= 100 {
        out.push(format!("n-{}", n / 100));
        out.push("n-hundred".into());
    }
    let rest = n % 100;
    if rest >= 20 {
        out.push(format!("n-{}", rest / 10 * 10));
        if !rest.is_multiple_of(10) {
            out.push(format!("n-{}", rest % 10));
        }
    } else if rest > 0 {
        out.push(format!("n-{rest}"));
    }
}

fn chinese(n: u64) -> Vec<String> {
    if n == 0 {
        return vec!["n-0".into()];
    }
    if n >= 10_000_000_000_000_000 {
        return digit_names(n);
    }
    const UNITS: [Option<&str>; 4] = [None, Some("n-ten-thousand"), Some("n-hundred-million"), Some("n-trillion")];
    let mut out = Vec::new();
    let mut first = true;
    let mut gap = false;
    for idx in (0..4u32).rev() {
        let v = n / 10_000u64.pow(idx) % 10_000;
        if v == 0 {
            gap |= !first;
            continue;
        }
        // Zeros between this group and the last spoken one: a skipped group,
        // or leading zeros of this one (一万零五).
        if !first && (gap || v < 1000) {
            out.push("n-0".into());
        }
        gap = false;
        if v == 2 && idx > 0 {
            out.push("n-liang".into());
        } else {
            chinese_group(v, first, &mut out);
        }
        if let Some(unit) = UNITS[idx as usize] {
            out.push(unit.into());
        }
        first = false;
    }
    out
}

/// One group of up to four digits (千百十个).
fn chinese_group(v: u64, head_of_number: bool, out: &mut Vec<String>) {
    const UNITS: [Option<&str>; 4] = [Some("n-thousand"), Some("n-hundred"), Some("n-10"), None];
    let ds = [v / 1000, v / 100 % 10, v / 10 % 10, v % 10];
    let mut started = false;
    let mut zero = false;
    for (i, &d) in ds.iter().enumerate() {
        if d == 0 {
            zero |= started;
            continue;
        }
        if zero {
            out.push("n-0".into());
            zero = false;
        }
        let bare_ten = i == 2 && d == 1 && head_of_number && !started;
        if !bare_ten {
            let liang = d == 2 && (i == 0 || (i == 1 && !started));
            out.push(if liang { "n-liang".into() } else { format!("n-{d}") });
        }
        if let Some(unit) = UNITS[i] {
            out.push(unit.into());
        }
        started = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh(n: u64) -> String {
        number(n, Lang::Zh).iter().map(|c| crate::prompts::lookup(&c.name).map_or("?", |t| t.zh)).collect()
    }

    #[test]
    fn chinese_basics() {
        assert_eq!(zh(10), "十");
        assert_eq!(zh(105), "一百零五");
        assert_eq!(zh(1005), "一千零五");
        assert_eq!(zh(110), "一百一十");
        assert_eq!(zh(200), "两百");
        assert_eq!(zh(1200), "一千二百");
    }

    #[test]
    fn english_basics() {
        let en: Vec<String> = number(123, Lang::En).into_iter().map(|c| c.name).collect();
        assert_eq!(en, ["n-1", "n-hundred", "n-20", "n-3"]);
    }

    #[test]
    fn durations_round() {
        let names = |s| duration(s, Lang::En).into_iter().map(|c| c.name).collect::<Vec<_>>().join(" ");
        assert_eq!(names(0), "n-10 seconds");
        assert_eq!(names(21), "n-30 seconds");
        assert_eq!(names(56), "n-1 minute");
        assert_eq!(names(170), "n-3 minutes");
        assert_eq!(names(13 * 60), "n-15 minutes");
        assert_eq!(names(3 * 3600), "n-3 hours");
    }
}
