//! Business hours, evaluated from epoch milliseconds without a date
//! library. The JSON shape mirrors the server's desk settings
//! (`business_hours`): `{"utc_offset_minutes": 480, "days": [{"day": "mon",
//! "open": "08:00", "close": "20:00"}], "holidays": ["2026-10-01"]}`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    const ALL: [Weekday; 7] =
        [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

    /// The weekday of a day counted from 1970-01-01 (a Thursday).
    pub fn from_days_since_epoch(days: i64) -> Weekday {
        Weekday::ALL[(days + 3).rem_euclid(7) as usize]
    }
}

/// A time of day in minutes after midnight; `"HH:MM"` in JSON, `24:00`
/// allowed as a closing time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay(pub u16);

impl TimeOfDay {
    /// Parse `HH:MM` (00:00 … 24:00).
    pub fn parse(s: &str) -> Option<TimeOfDay> {
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' || !b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit()) {
            return None;
        }
        let h: u16 = s[..2].parse().ok()?;
        let m: u16 = s[3..].parse().ok()?;
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(TimeOfDay(h * 60 + m))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeOfDay::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("time {s:?}: expected HH:MM (00:00–24:00)")))
    }
}

/// A civil date; `"YYYY-MM-DD"` in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
}

impl Date {
    /// Parse `YYYY-MM-DD`, checking the day exists.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let all_digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if !all_digits(0..4) || !all_digits(5..7) || !all_digits(8..10) {
            return None;
        }
        let date = Date { year: s[..4].parse().ok()?, month: s[5..7].parse().ok()?, day: s[8..].parse().ok()? };
        (date.month >= 1 && date.month <= 12 && date.day >= 1 && date.day <= days_in_month(date.year, date.month))
            .then_some(date)
    }

    /// The civil date of a day counted from 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        // Shift the epoch to 0000-03-01 so leap days fall at the end of a
        // year, then split into 400-year eras of 146097 days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("date {s:?}: expected YYYY-MM-DD")))
    }
}

/// Opening hours of one weekday; a weekday may be listed more than once
/// (split shifts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayHours {
    /// The weekday.
    pub day: Weekday,
    /// Opening time (inclusive).
    pub open: TimeOfDay,
    /// Closing time (exclusive).
    pub close: TimeOfDay,
}

/// When the hotline is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// Offset of local time from UTC, minutes (480 for China).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// Open hours per weekday; a day not listed is closed.
    #[serde(default)]
    pub days: Vec<DayHours>,
    /// Closed local dates.
    #[serde(default)]
    pub holidays: Vec<Date>,
}

impl Default for Calendar {
    /// Monday to Friday, 08:00–20:00, China time (the server's default).
    fn default() -> Self {
        let days = Weekday::ALL[..5]
            .iter()
            .map(|&day| DayHours { day, open: TimeOfDay(8 * 60), close: TimeOfDay(20 * 60) })
            .collect();
        Calendar { utc_offset_minutes: 480, days, holidays: Vec::new() }
    }
}

impl Calendar {
    /// Local weekday, date and minute of the day at `utc_ms`.
    pub fn local(&self, utc_ms: u64) -> (Weekday, Date, u16) {
        let minutes = (utc_ms / 60_000) as i64 + i64::from(self.utc_offset_minutes);
        let days = minutes.div_euclid(1440);
        let minute = minutes.rem_euclid(1440) as u16;
        (Weekday::from_days_since_epoch(days), Date::from_days_since_epoch(days), minute)
    }

    /// Whether the hotline is open at `utc_ms` (milliseconds since the epoch).
    pub fn is_open(&self, utc_ms: u64) -> bool {
        let (weekday, date, minute) = self.local(utc_ms);
        !self.holidays.contains(&date)
            && self.days.iter().any(|d| d.day == weekday && d.open.0 <= minute && minute < d.close.0)
    }

    /// Problems that make the calendar wrong (an interval that never opens,
    /// an offset beyond ±14 hours).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.utc_offset_minutes.abs() > 14 * 60 {
            out.push(format!("utc_offset_minutes {} is beyond ±14 hours", self.utc_offset_minutes));
        }
        for d in &self.days {
            if d.open >= d.close {
                out.push(format!("{:?}: open {} must be before close {}", d.day, d.open, d.close).to_lowercase());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: u64 = 86_400_000;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(Weekday::from_days_since_epoch(0), Weekday::Thu);
        assert_eq!(Date::from_days_since_epoch(0), Date { year: 1970, month: 1, day: 1 });
        // 2000-02-29 is day 11016; 2026-10-01 (a Thursday) is day 20727.
        assert_eq!(Date::from_days_since_epoch(11_016), Date { year: 2000, month: 2, day: 29 });
        assert_eq!(Date::from_days_since_epoch(20_727), Date { year: 2026, month: 10, day: 1 });
        assert_eq!(Weekday::from_days_since_epoch(20_727), Weekday::Thu);
        assert_eq!(Date::from_days_since_epoch(-1), Date { year: 1969, month: 12, day: 31 });
    }

    #[test]
    fn dates_round_trip_through_day_numbers() {
        let mut expected = Date { year: 1970, month: 1, day: 1 };
        for days in 0..200_000 {
            assert_eq!(Date::from_days_since_epoch(days), expected);
            expected.day += 1;
            if expected.day > days_in_month(expected.year, expected.month) {
                expected.day = 1;
                expected.month += 1;
                if expected.month > 12 {
                    expected.month = 1;
                    expected.year += 1;
                }
            }
        }
    }

    #[test]
    fn open_in_local_time() {
        let cal = Calendar::default();
        // 2026-11-23 is a Monday (day 20780). 00:30 UTC is 08:30 in China.
        let monday = 20_780 * DAY_MS;
        assert_eq!(cal.local(monday).0, Weekday::Mon);
        assert!(cal.is_open(monday + 30 * 60_000));
        assert!(!cal.is_open(monday - 30 * 60_000), "07:30 Monday local is before opening");
        assert!(!cal.is_open(monday + 12 * 3_600_000), "20:00 local is closed");
        assert!(cal.is_open(monday + 12 * 3_600_000 - 60_000), "19:59 is open");
        let mut holiday = cal.clone();
        holiday.holidays.push(Date::parse("2026-11-23").unwrap());
        assert!(!holiday.is_open(monday + 30 * 60_000));
    }

    #[test]
    fn west_of_greenwich_and_holidays_in_local_dates() {
        // New York in winter: UTC-5. Monday 2026-11-23 03:00 UTC is still
        // Sunday 22:00 there.
        let cal = Calendar {
            utc_offset_minutes: -300,
            days: vec![DayHours { day: Weekday::Sun, open: TimeOfDay(20 * 60), close: TimeOfDay(1440) }],
            holidays: vec![Date::parse("2026-11-23").unwrap()],
        };
        let t = 20_780 * DAY_MS + 3 * 3_600_000;
        assert_eq!(cal.local(t), (Weekday::Sun, Date::parse("2026-11-22").unwrap(), 22 * 60));
        assert!(cal.is_open(t));
        // The holiday is Monday local time, which has no hours anyway; on
        // Sunday 23:59 local it is still open.
        assert!(cal.is_open(t + 119 * 60_000));
        assert!(!cal.is_open(t + 120 * 60_000));
    }

    #[test]
    fn parses_the_desk_settings_shape() {
        let cal: Calendar = serde_json::from_str(
            r#"{"utc_offset_minutes":480,"days":[{"day":"sat","open":"09:00","close":"24:00"}],"holidays":["2026-10-01"]}"#,
        )
        .unwrap();
        assert_eq!(cal.days[0].close, TimeOfDay(1440));
        assert_eq!(serde_json::to_value(&cal).unwrap()["holidays"][0], "2026-10-01");
        assert!(serde_json::from_str::<Calendar>(r#"{"days":[{"day":"mon","open":"8:00","close":"20:00"}]}"#).is_err());
        assert!(serde_json::from_str::<Calendar>(r#"{"holidays":["2026-02-30"]}"#).is_err());
        assert!(
            serde_json::from_str::<Calendar>(r#"{"days":[{"day":"monday","open":"08:00","close":"20:00"}]}"#).is_err()
        );
        let bad = Calendar {
            utc_offset_minutes: 0,
            days: vec![DayHours { day: Weekday::Mon, open: TimeOfDay(600), close: TimeOfDay(600) }],
            holidays: vec![],
        };
        assert_eq!(bad.problems().len(), 1);
    }
}
