//! The forecasting method: Holt-Winters on calendar-adjusted daily totals
//! × intraday profiles per weekday × calendar multipliers × overrides, and
//! the seasonal-naive baseline.

use super::calendar::{day_of_month, weekday};
use super::{ForecastError, IntervalSeries};

/// Days at the start of a month with their own multiplier.
const MONTH_START_DAYS: usize = 3;
/// Prior holiday multiplier when history has no holiday (many centers
/// run a skeleton service), and its weight in pseudo-observations.
const HOLIDAY_PRIOR: f64 = 0.4;
/// Weight of the neutral prior (1.0) for month-start multipliers.
const PRIOR_WEIGHT: f64 = 1.0;

/// A manual adjustment of the forecast (campaigns, launches, outages).
#[derive(Clone, Debug, PartialEq)]
pub enum Override {
    /// Multiply every interval of a day.
    DayMultiplier {
        /// Day (days since 1970-01-01).
        day: i64,
        /// Factor, ≥ 0.
        multiplier: f64,
    },
    /// Set one interval's volume.
    Volume {
        /// Day (days since 1970-01-01).
        day: i64,
        /// Minute of the day the interval starts at (on the forecast's grid).
        start_minute: u32,
        /// Contacts offered in that interval, ≥ 0.
        offered: f64,
    },
}

/// Settings of [`forecast`].
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastConfig {
    /// Days to forecast after the history.
    pub horizon_days: usize,
    /// Public holidays, sorted (days since 1970-01-01), in history and horizon.
    pub holidays: Vec<i64>,
    /// Manual overrides, applied last in order given.
    pub overrides: Vec<Override>,
    /// Days of history that were one-offs (outages, past campaigns):
    /// left out of the calendar multipliers, profiles and AHT, and
    /// replaced by their same-weekday neighbours for Holt-Winters.
    pub excluded_days: Vec<i64>,
    /// Weeks of history averaged for the intraday profiles.
    pub profile_weeks: usize,
    /// Weeks of history for the AHT profile.
    pub aht_weeks: usize,
    /// Weight decay per week back for the AHT profile.
    pub aht_decay: f64,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            horizon_days: 7,
            holidays: Vec::new(),
            overrides: Vec::new(),
            excluded_days: Vec::new(),
            profile_weeks: 8,
            aht_weeks: 6,
            aht_decay: 0.8,
        }
    }
}

/// Holt-Winters parameters chosen by the grid search, with the fit.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct HoltWinters {
    /// Level smoothing.
    pub alpha: f64,
    /// Trend smoothing.
    pub beta: f64,
    /// Seasonal smoothing.
    pub gamma: f64,
    /// Trend damping.
    pub phi: f64,
    /// Mean absolute one-step error relative to the mean daily total.
    pub one_step_relative_mae: f64,
}

/// Calendar multipliers estimated from history.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CalendarEffects {
    /// Volume on a holiday relative to a plain day of that weekday.
    pub holiday: f64,
    /// Holidays seen in history.
    pub holidays_seen: usize,
    /// Multipliers for days 1, 2, 3 of a month.
    pub month_start: Vec<f64>,
}

/// A forecast and how it was made.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastResult {
    /// Offered and AHT per interval for the horizon.
    pub series: IntervalSeries,
    /// The daily-total model.
    pub holt_winters: HoltWinters,
    /// The calendar multipliers.
    pub effects: CalendarEffects,
}

fn is_holiday(holidays: &[i64], day: i64) -> bool {
    holidays.binary_search(&day).is_ok()
}

fn month_start_index(day: i64) -> Option<usize> {
    let dom = day_of_month(day) as usize;
    (dom <= MONTH_START_DAYS).then(|| dom - 1)
}

/// Estimates holiday and month-start multipliers: each special day's
/// total against the mean of the same weekday 1 and 2 weeks before and
/// after (plain days only), averaged with a prior.
fn calendar_effects(totals: &[f64], first_day: i64, holidays: &[i64], excluded: &[i64]) -> CalendarEffects {
    let special = |d: usize| {
        let day = first_day + d as i64;
        is_holiday(holidays, day) || month_start_index(day).is_some() || excluded.contains(&day)
    };
    let ratio = |d: usize| -> Option<f64> {
        let mut sum = 0.0;
        let mut n = 0;
        for off in [-14i64, -7, 7, 14] {
            let j = d as i64 + off;
            if j >= 0 && (j as usize) < totals.len() && !special(j as usize) && totals[j as usize] > 0.0 {
                sum += totals[j as usize];
                n += 1;
            }
        }
        (n > 0).then(|| totals[d] / (sum / f64::from(n)))
    };
    let (mut hol_sum, mut hol_n) = (0.0, 0usize);
    let mut ms_sum = [0.0; MONTH_START_DAYS];
    let mut ms_n = [0usize; MONTH_START_DAYS];
    for d in 0..totals.len() {
        let day = first_day + d as i64;
        if excluded.contains(&day) {
            continue;
        }
        if is_holiday(holidays, day) {
            if let Some(r) = ratio(d) {
                hol_sum += r;
                hol_n += 1;
            }
        } else if let Some(k) = month_start_index(day)
            && let Some(r) = ratio(d)
        {
            ms_sum[k] += r;
            ms_n[k] += 1;
        }
    }
    CalendarEffects {
        holiday: (hol_sum + PRIOR_WEIGHT * HOLIDAY_PRIOR) / (hol_n as f64 + PRIOR_WEIGHT),
        holidays_seen: hol_n,
        month_start: (0..MONTH_START_DAYS)
            .map(|k| (ms_sum[k] + PRIOR_WEIGHT) / (ms_n[k] as f64 + PRIOR_WEIGHT))
            .collect(),
    }
}

fn calendar_multiplier(effects: &CalendarEffects, holidays: &[i64], day: i64) -> f64 {
    let mut m = 1.0;
    if is_holiday(holidays, day) {
        m *= effects.holiday;
    } else if let Some(k) = month_start_index(day) {
        m *= effects.month_start[k];
    }
    m
}

/// State of Holt-Winters after running over `y`; returns the sum of
/// absolute one-step errors after the first week.
struct HwRun {
    level: f64,
    trend: f64,
    season: [f64; 7],
    abs_error: f64,
}

fn run_hw(y: &[f64], alpha: f64, beta: f64, gamma: f64, phi: f64) -> HwRun {
    let week = |w: usize| y[w * 7..w * 7 + 7].iter().sum::<f64>() / 7.0;
    let weeks = (y.len() / 7).min(4);
    let mut season = [0.0; 7];
    for (i, s) in season.iter_mut().enumerate() {
        let mut acc = 0.0;
        let mut n = 0.0;
        for w in 0..weeks {
            let m = week(w);
            if m > 0.0 {
                acc += y[w * 7 + i] / m;
                n += 1.0;
            }
        }
        *s = if n > 0.0 { acc / n } else { 1.0 };
    }
    let mut level = week(0);
    let mut trend = if weeks >= 2 { (week(1) - week(0)) / 7.0 } else { 0.0 };
    let mut abs_error = 0.0;
    for (t, &obs) in y.iter().enumerate() {
        let i = t % 7;
        let base = level + phi * trend;
        let predicted = base * season[i];
        if t >= 7 {
            abs_error += (obs - predicted).abs();
        }
        if season[i] > 1e-9 {
            let new_level = alpha * obs / season[i] + (1.0 - alpha) * base;
            trend = beta * (new_level - level) + (1.0 - beta) * phi * trend;
            level = new_level;
            if level > 1e-9 {
                season[i] = gamma * obs / level + (1.0 - gamma) * season[i];
            }
        } else {
            level = base;
            trend *= phi;
        }
    }
    HwRun { level, trend, season, abs_error }
}

/// Fits Holt-Winters to daily totals `y` (grid search) and forecasts `h`
/// days (the weekly season is `t % 7` from `y[0]`).
fn holt_winters(y: &[f64], h: usize) -> (HoltWinters, Vec<f64>) {
    let mut best: Option<(f64, [f64; 4])> = None;
    for alpha in [0.02, 0.05, 0.1, 0.2, 0.3, 0.5] {
        for beta in [0.0, 0.02, 0.05, 0.1] {
            for gamma in [0.02, 0.05, 0.1, 0.2, 0.3] {
                for phi in [0.9, 0.98] {
                    let e = run_hw(y, alpha, beta, gamma, phi).abs_error;
                    if best.is_none_or(|(b, _)| e < b) {
                        best = Some((e, [alpha, beta, gamma, phi]));
                    }
                }
            }
        }
    }
    let (err, [alpha, beta, gamma, phi]) = best.unwrap_or((0.0, [0.1, 0.0, 0.1, 0.98]));
    let run = run_hw(y, alpha, beta, gamma, phi);
    let n = y.len();
    let mut out = Vec::with_capacity(h);
    let mut damp = 0.0;
    let mut p = 1.0;
    for k in 1..=h {
        p *= phi;
        damp += p;
        out.push(((run.level + damp * run.trend) * run.season[(n + k - 1) % 7]).max(0.0));
    }
    let mean = y.iter().sum::<f64>() / n as f64;
    let scored = n.saturating_sub(7).max(1) as f64;
    let fit = HoltWinters {
        alpha,
        beta,
        gamma,
        phi,
        one_step_relative_mae: if mean > 0.0 { err / scored / mean } else { 0.0 },
    };
    (fit, out)
}

/// Weight, in calls, of the pooled AHT profile against one weekday's own
/// interval mean.
pub const AHT_PRIOR_CALLS: f64 = 200.0;

/// AHT per weekday × slot from weighted sums `(Σ w·n·aht, Σ w·n)`.
fn aht_profile(by_weekday: &[Vec<(f64, f64)>], by_slot: &[(f64, f64)], all: (f64, f64)) -> Vec<Vec<f64>> {
    let spd = by_slot.len();
    let overall = if all.1 > 0.0 { all.0 / all.1 } else { 0.0 };
    // Interval-of-day profile smoothed with weights 1-2-1 on the sums.
    let slot_mean: Vec<Option<f64>> = (0..spd)
        .map(|s| {
            let (mut x, mut w) = (2.0 * by_slot[s].0, 2.0 * by_slot[s].1);
            for j in [s.wrapping_sub(1), s + 1] {
                if let Some(&(xj, wj)) = by_slot.get(j) {
                    x += xj;
                    w += wj;
                }
            }
            (w > 0.0).then(|| x / w)
        })
        .collect();
    by_weekday
        .iter()
        .map(|slots| {
            // Weekday factor: this weekday's workload over what the pooled
            // profile predicts for its calls.
            let (mut actual, mut pooled) = (0.0, 0.0);
            for (s, &(x, w)) in slots.iter().enumerate() {
                if let Some(m) = slot_mean[s] {
                    actual += x;
                    pooled += w * m;
                }
            }
            let factor = if pooled > 0.0 { actual / pooled } else { 1.0 };
            slots
                .iter()
                .enumerate()
                .map(|(s, &(x, w))| {
                    let prior = slot_mean[s].map_or(overall, |m| m * factor);
                    (x + AHT_PRIOR_CALLS * prior) / (w + AHT_PRIOR_CALLS)
                })
                .collect()
        })
        .collect()
}

/// Forecasts `config.horizon_days` days after `history` (at least 14
/// days, whole days from its `first_day`).
///
/// 1. Daily totals; holiday and month-start multipliers estimated from
///    them (each special day against plain same-weekday days ±1–2 weeks).
/// 2. Totals divided by those multipliers; Holt-Winters (damped additive
///    trend, multiplicative weekly seasonality) fitted by a grid search
///    over α, β, γ, φ minimising absolute one-step errors; forecast.
/// 3. Forecast totals × calendar multipliers of the horizon days ×
///    intraday share of each interval for that weekday (pooled over the
///    last `profile_weeks` plain days of that weekday).
/// 4. AHT per weekday × interval: the mean of recent same-weekday
///    intervals weighted by volume × `aht_decay` per week back, shrunk
///    towards (interval-of-day profile over all weekdays, smoothed over
///    neighbouring intervals) × (weekday factor) with a weight of
///    [`AHT_PRIOR_CALLS`] calls — handle-time means of a few dozen calls
///    are noisy.
/// 5. Overrides.
///
/// Days in `config.excluded_days` are left out of steps 1, 3 and 4 and
/// replaced by the mean of their plain same-weekday neighbours in step 2.
pub fn forecast(history: &IntervalSeries, config: &ForecastConfig) -> Result<ForecastResult, ForecastError> {
    let days = history.days();
    if days < 14 {
        return Err(ForecastError::TooShort { needed: 14, have: days });
    }
    let spd = history.slots_per_day();
    let first = history.first_day;
    let holidays = &config.holidays;
    let totals: Vec<f64> = (0..days).map(|d| history.day_total(d)).collect();
    let excluded = &config.excluded_days;
    let is_excluded = |d: usize| excluded.contains(&(first + d as i64));
    let effects = calendar_effects(&totals, first, holidays, excluded);
    let mut adjusted: Vec<f64> = totals
        .iter()
        .enumerate()
        .map(|(d, &t)| {
            let m = calendar_multiplier(&effects, holidays, first + d as i64);
            if m > 1e-9 { t / m } else { t }
        })
        .collect();
    // Excluded days: the mean of the same weekday 1 and 2 weeks around.
    for d in (0..days).filter(|&d| is_excluded(d)) {
        let near: Vec<f64> = [-14i64, -7, 7, 14]
            .iter()
            .map(|o| d as i64 + o)
            .filter(|&j| j >= 0 && (j as usize) < days && !is_excluded(j as usize))
            .map(|j| adjusted[j as usize])
            .collect();
        if !near.is_empty() {
            adjusted[d] = near.iter().sum::<f64>() / near.len() as f64;
        }
    }
    let (hw, daily) = holt_winters(&adjusted, config.horizon_days);

    // Intraday profiles per weekday.
    let plain = |d: usize| !is_holiday(holidays, first + d as i64) && !is_excluded(d) && totals[d] > 0.0;
    let mut profiles = vec![vec![0.0; spd]; 7];
    let mut all = vec![0.0; spd];
    for (wd, profile) in profiles.iter_mut().enumerate() {
        let chosen: Vec<usize> = (0..days)
            .rev()
            .filter(|&d| weekday(first + d as i64) == wd && plain(d))
            .take(config.profile_weeks)
            .collect();
        let sum: f64 = chosen.iter().map(|&d| totals[d]).sum();
        for &d in &chosen {
            for (s, v) in history.day(d).iter().enumerate() {
                profile[s] += v;
                all[s] += v;
            }
        }
        if sum > 0.0 {
            profile.iter_mut().for_each(|p| *p /= sum);
        }
    }
    let all_sum: f64 = all.iter().sum();
    if all_sum > 0.0 {
        all.iter_mut().for_each(|p| *p /= all_sum);
    }
    for profile in &mut profiles {
        if profile.iter().sum::<f64>() <= 0.0 {
            profile.clone_from(&all);
        }
    }

    // AHT per weekday × interval.
    let mut aht_wd = vec![vec![(0.0, 0.0); spd]; 7];
    let mut aht_slot = vec![(0.0, 0.0); spd];
    let mut aht_all = (0.0, 0.0);
    let horizon_weeks = config.aht_weeks.max(1) * 7;
    for d in (days.saturating_sub(horizon_weeks)..days).filter(|&d| !is_excluded(d)) {
        let age_weeks = ((days - 1 - d) / 7) as i32;
        let w = config.aht_decay.powi(age_weeks);
        let wd = weekday(first + d as i64);
        for (s, (&n, &a)) in history.day(d).iter().zip(history.day_aht(d)).enumerate() {
            if n > 0.0 && a > 0.0 {
                for acc in [&mut aht_wd[wd][s], &mut aht_slot[s], &mut aht_all] {
                    acc.0 += w * n * a;
                    acc.1 += w * n;
                }
            }
        }
    }
    let aht = aht_profile(&aht_wd, &aht_slot, aht_all);

    let mut series = IntervalSeries::zeros(
        history.queue.clone(),
        history.interval_minutes,
        first + days as i64,
        config.horizon_days,
    )?;
    for (k, &total) in daily.iter().enumerate() {
        let day = first + (days + k) as i64;
        let wd = weekday(day);
        let total = total * calendar_multiplier(&effects, holidays, day);
        for s in 0..spd {
            series.set(k, s, total * profiles[wd][s], aht[wd][s]);
        }
    }
    apply_overrides(&mut series, &config.overrides)?;
    Ok(ForecastResult { series, holt_winters: hw, effects })
}

/// Applies overrides to a forecast: a day multiplier scales the day's
/// intervals, a volume sets one interval. Overrides outside the series
/// are ignored; a volume not on the interval grid is an error.
pub(crate) fn apply_overrides(series: &mut IntervalSeries, overrides: &[Override]) -> Result<(), ForecastError> {
    let spd = series.slots_per_day();
    let m = series.interval_minutes;
    for o in overrides {
        match *o {
            Override::DayMultiplier { day, multiplier } => {
                if !(multiplier.is_finite() && multiplier >= 0.0) {
                    return Err(ForecastError::Invalid(format!("override multiplier {multiplier} must be 0 or more")));
                }
                let d = day - series.first_day;
                if d >= 0 && (d as usize) < series.days() {
                    let d = d as usize;
                    for s in 0..spd {
                        let (n, a) = (series.day(d)[s], series.day_aht(d)[s]);
                        series.set(d, s, n * multiplier, a);
                    }
                }
            }
            Override::Volume { day, start_minute, offered } => {
                if !(offered.is_finite() && offered >= 0.0) {
                    return Err(ForecastError::Invalid(format!("override volume {offered} must be 0 or more")));
                }
                if !start_minute.is_multiple_of(m) || start_minute >= 1440 {
                    return Err(ForecastError::Invalid(format!(
                        "override at minute {start_minute} of the day is not on the {m}-minute grid"
                    )));
                }
                let d = day - series.first_day;
                if d >= 0 && (d as usize) < series.days() {
                    let (d, s) = (d as usize, (start_minute / m) as usize);
                    let a = series.day_aht(d)[s];
                    series.set(d, s, offered, a);
                }
            }
        }
    }
    Ok(())
}

/// Seasonal-naive baseline: each interval of the next `horizon_days` days
/// repeats the same interval one week earlier (the last week, repeated).
pub fn seasonal_naive(history: &IntervalSeries, horizon_days: usize) -> Result<IntervalSeries, ForecastError> {
    let days = history.days();
    if days < 7 {
        return Err(ForecastError::TooShort { needed: 7, have: days });
    }
    let mut out = IntervalSeries::zeros(
        history.queue.clone(),
        history.interval_minutes,
        history.first_day + days as i64,
        horizon_days,
    )?;
    for k in 0..horizon_days {
        let src = days - 7 + k % 7;
        for (s, (&n, &a)) in history.day(src).iter().zip(history.day_aht(src)).enumerate() {
            out.set(k, s, n, a);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::synth::{SyntheticConfig, synthetic_history};
    use super::*;

    fn history() -> IntervalSeries {
        synthetic_history(&SyntheticConfig { weeks: 10, interval_minutes: 30, ..SyntheticConfig::default() }).unwrap()
    }

    #[test]
    fn overrides_change_exactly_the_named_intervals() {
        let h = history();
        let base = forecast(&h, &ForecastConfig::default()).unwrap().series;
        let day = base.first_day + 2;
        let other = base.first_day + 4;
        let config = ForecastConfig {
            overrides: vec![
                Override::DayMultiplier { day, multiplier: 1.5 },
                Override::Volume { day: other, start_minute: 10 * 60 + 30, offered: 999.0 },
                Override::DayMultiplier { day: base.first_day + 100, multiplier: 3.0 }, // outside: ignored
            ],
            ..ForecastConfig::default()
        };
        let got = forecast(&h, &config).unwrap().series;
        let spd = base.slots_per_day();
        let mut changed = 0;
        for (i, (a, b)) in base.records().zip(got.records()).enumerate() {
            assert_eq!(a.aht_seconds, b.aht_seconds);
            if a.day == day {
                assert!((b.offered - 1.5 * a.offered).abs() < 1e-9);
                changed += usize::from(a.offered > 0.0);
            } else if a.day == other && a.start_minute == 630 {
                assert_eq!(b.offered, 999.0);
                assert_eq!(i % spd, 21);
                changed += 1;
            } else {
                assert_eq!(a.offered, b.offered, "{i}");
            }
        }
        assert!(changed > 20);
        let bad = ForecastConfig {
            overrides: vec![Override::Volume { day, start_minute: 10 * 60 + 15, offered: 1.0 }],
            ..ForecastConfig::default()
        };
        assert!(forecast(&h, &bad).is_err(), "15 past is not on a 30-minute grid");
    }

    #[test]
    fn forecast_follows_the_calendar() {
        let h = history();
        let config = ForecastConfig {
            holidays: super::super::calendar::default_holidays(2026, 2027),
            horizon_days: 7,
            ..ForecastConfig::default()
        };
        let f = forecast(&h, &config).unwrap();
        assert!(f.effects.holidays_seen >= 1);
        assert!((f.effects.holiday - 0.3).abs() < 0.15, "{:?}", f.effects);
        assert!(f.effects.month_start[0] > 1.15, "{:?}", f.effects);
        // Days in order Monday..Sunday (10 whole weeks from a Monday).
        let totals: Vec<f64> = (0..7).map(|d| f.series.day_total(d)).collect();
        assert!(totals[0] > totals[2] && totals[2] > totals[5] && totals[5] > totals[6], "{totals:?}");
        // AHT: longer at 20:00 than at 13:00.
        assert!(f.series.day_aht(1)[40] > f.series.day_aht(1)[26]);
        // Closed at night.
        assert_eq!(f.series.day(1)[4], 0.0);
    }

    #[test]
    fn holidays_and_month_start_in_the_horizon() {
        // 16 weeks from 2026-08-03: the horizon 2026-11-23..2026-12-06
        // holds Thanksgiving (Thursday 11-26) and December 1–3.
        let h = synthetic_history(&SyntheticConfig { weeks: 16, interval_minutes: 60, ..SyntheticConfig::default() })
            .unwrap();
        let config = ForecastConfig {
            holidays: super::super::calendar::default_holidays(2026, 2027),
            horizon_days: 14,
            ..ForecastConfig::default()
        };
        let f = forecast(&h, &config).unwrap().series;
        let t: Vec<f64> = (0..14).map(|d| f.day_total(d)).collect();
        assert!(t[3] < 0.5 * t[10], "Thanksgiving {} vs the next Thursday {}", t[3], t[10]);
        assert!(t[8] > 1.15 * t[1], "Tuesday 12-01 {} vs Tuesday 11-24 {}", t[8], t[1]);
        assert!(t[9] > 1.05 * t[2], "Wednesday 12-02 {} vs 11-25 {}", t[9], t[2]);
        // Without the holiday list, Thanksgiving is an ordinary Thursday.
        let plain = forecast(&h, &ForecastConfig { holidays: Vec::new(), ..config }).unwrap().series;
        assert!(plain.day_total(3) > 0.9 * plain.day_total(10));
    }

    #[test]
    fn excluded_days_do_not_distort_the_forecast() {
        let clean = history();
        let mut spiked = clean.clone();
        // A one-off campaign tripled the last Monday but one.
        let d = clean.days() - 14;
        for s in 0..spiked.slots_per_day() {
            let (n, a) = (clean.day(d)[s], clean.day_aht(d)[s]);
            spiked.set(d, s, 3.0 * n, a);
        }
        let plain = ForecastConfig::default();
        let base = forecast(&clean, &plain).unwrap().series;
        let hurt = forecast(&spiked, &plain).unwrap().series;
        let config = ForecastConfig { excluded_days: vec![clean.first_day + d as i64], ..plain };
        let err = |f: &IntervalSeries| {
            f.offered().iter().zip(base.offered()).map(|(a, b)| (a - b).abs()).sum::<f64>()
                / base.offered().iter().sum::<f64>()
        };
        assert!(err(&hurt) > 0.005, "the spike moves the forecast: {}", err(&hurt));
        // Excluded, the day's values no longer matter at all.
        let fixed = forecast(&spiked, &config).unwrap().series;
        let clean_excluded = forecast(&clean, &config).unwrap().series;
        for (a, b) in fixed.offered().iter().zip(clean_excluded.offered()) {
            assert!((a - b).abs() < 1e-9);
        }
        assert!(err(&fixed) < 0.03, "and the forecast stays close: {}", err(&fixed));
    }

    #[test]
    fn seasonal_naive_repeats_last_week() {
        let h = history();
        let n = seasonal_naive(&h, 9).unwrap();
        assert_eq!(n.day(0), h.day(h.days() - 7));
        assert_eq!(n.day(8), h.day(h.days() - 6));
    }

    #[test]
    fn too_short_history_is_an_error() {
        let h = history().truncated(13);
        assert_eq!(forecast(&h, &ForecastConfig::default()), Err(ForecastError::TooShort { needed: 14, have: 13 }));
    }
}
