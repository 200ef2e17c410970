//! Civil dates as days since 1970-01-01 (proleptic Gregorian, UTC), the
//! ISO-8601 instants of interval starts, and a default holiday calendar.
//! Written here so that the crate needs no date library.

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
///
/// ```
/// assert_eq!(wfm::forecast::days_from_civil(1970, 1, 1), 0);
/// assert_eq!(wfm::forecast::days_from_civil(2026, 11, 2), 20_759);
/// ```
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of week of a day number: 0 = Monday … 6 = Sunday.
pub fn weekday(days: i64) -> usize {
    // 1970-01-01 was a Thursday (3).
    (days + 3).rem_euclid(7) as usize
}

/// Day of month (1–31) of a day number.
pub fn day_of_month(days: i64) -> u32 {
    civil_from_days(days).2
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a day number and a minute of the day.
///
/// ```
/// assert_eq!(wfm::forecast::format_instant(20_759, 8 * 60 + 30), "2026-11-02T08:30:00Z");
/// ```
pub fn format_instant(days: i64, minute_of_day: u32) -> String {
    format!("{}T{:02}:{:02}:00Z", format_date(days), minute_of_day / 60, minute_of_day % 60)
}

fn digits(s: &str, what: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} \"{s}\" is not a number"));
    }
    s.parse().map_err(|_| format!("{what} \"{s}\" is not a number"))
}

/// Parses `YYYY-MM-DD` into a day number.
///
/// ```
/// assert_eq!(wfm::forecast::parse_date("2026-11-02"), Ok(20_759));
/// assert!(wfm::forecast::parse_date("2026-02-30").is_err());
/// ```
pub fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("\"{s}\" is not a date like 2026-11-02");
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (year, month, day) = (digits(y, "year")?, digits(m, "month")?, digits(d, "day")?);
    if !(1..=12).contains(&month) || day == 0 {
        return Err(bad());
    }
    let days = days_from_civil(i64::from(year), month, day);
    // Round trip rejects 2026-02-30 and friends.
    if civil_from_days(days) != (i64::from(year), month, day) {
        return Err(format!("\"{s}\" is not a calendar date"));
    }
    Ok(days)
}

/// Parses an ISO-8601 UTC instant `YYYY-MM-DDTHH:MM[:SS]Z` (also with a
/// space instead of `T`, or `+00:00` instead of `Z`) into a day number and
/// a minute of the day. Seconds must be 0.
///
/// ```
/// assert_eq!(wfm::forecast::parse_instant("2026-11-02T08:30:00Z"), Ok((20_759, 510)));
/// assert!(wfm::forecast::parse_instant("2026-11-02T08:30:00+01:00").is_err());
/// ```
pub fn parse_instant(s: &str) -> Result<(i64, u32), String> {
    let bad = || format!("\"{s}\" is not a UTC time like 2026-11-02T08:30:00Z");
    let body = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00")).ok_or_else(bad)?;
    if body.len() < 16 {
        return Err(bad());
    }
    let (date, time) = body.split_at(10);
    let days = parse_date(date)?;
    let time = time.strip_prefix('T').or_else(|| time.strip_prefix(' ')).ok_or_else(bad)?;
    let fields: Vec<&str> = time.split(':').collect();
    if !(2..=3).contains(&fields.len()) || fields.iter().any(|f| f.len() != 2) {
        return Err(bad());
    }
    let hour = digits(fields[0], "hour")?;
    let minute = digits(fields[1], "minute")?;
    let second = if fields.len() == 3 { digits(fields[2], "second")? } else { 0 };
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    if second != 0 {
        return Err(format!("\"{s}\": an interval start has 0 seconds"));
    }
    Ok((days, hour * 60 + minute))
}

/// The `n`-th (1-based) `weekday` (0 = Monday) of a month.
fn nth_weekday(year: i64, month: u32, weekday_wanted: usize, n: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    let offset = (weekday_wanted as i64 - weekday(first) as i64).rem_euclid(7);
    first + offset + 7 * (n - 1)
}

/// The last `weekday` (0 = Monday) of a month.
fn last_weekday(year: i64, month: u32, weekday_wanted: usize) -> i64 {
    let next = if month == 12 { days_from_civil(year + 1, 1, 1) } else { days_from_civil(year, month + 1, 1) };
    let last = next - 1;
    last - (weekday(last) as i64 - weekday_wanted as i64).rem_euclid(7)
}

/// A default public-holiday calendar (a US federal subset: New Year's
/// Day, Memorial Day, Independence Day, Labor Day, Thanksgiving,
/// Christmas) for the years `from..=to`, sorted. Planners elsewhere pass
/// their own list; the synthetic history uses this one.
pub fn default_holidays(from_year: i64, to_year: i64) -> Vec<i64> {
    let mut days = Vec::new();
    for y in from_year..=to_year {
        days.push(days_from_civil(y, 1, 1));
        days.push(last_weekday(y, 5, 0));
        days.push(days_from_civil(y, 7, 4));
        days.push(nth_weekday(y, 9, 0, 1));
        days.push(nth_weekday(y, 11, 3, 4));
        days.push(days_from_civil(y, 12, 25));
    }
    days.sort_unstable();
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for d in -800_000..800_000i64 {
            if d % 97 != 0 {
                continue;
            }
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(weekday(days_from_civil(2026, 11, 2)), 0, "a Monday");
        assert_eq!(weekday(days_from_civil(2026, 11, 29)), 6, "a Sunday");
        assert_eq!(format_date(days_from_civil(2024, 2, 29)), "2024-02-29");
    }

    #[test]
    fn instants_parse_strictly() {
        assert_eq!(parse_instant("2026-11-02T00:00Z"), Ok((20_759, 0)));
        assert_eq!(parse_instant("2026-11-02 23:45:00+00:00"), Ok((20_759, 23 * 60 + 45)));
        for bad in [
            "",
            "2026-11-02",
            "2026-11-02T08:30:00",
            "2026-11-02T24:00:00Z",
            "2026-11-02T08:30:15Z",
            "2026-13-02T08:30:00Z",
            "2026-11-2T08:30:00Z",
            "2026-11-02T8:30:00Z",
            "x026-11-02T08:30:00Z",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn holidays_fall_on_the_right_days() {
        let h = default_holidays(2026, 2026);
        let want = [(1, 1), (5, 25), (7, 4), (9, 7), (11, 26), (12, 25)];
        let got: Vec<(u32, u32)> = h.iter().map(|&d| (civil_from_days(d).1, civil_from_days(d).2)).collect();
        assert_eq!(got, want);
    }
}
