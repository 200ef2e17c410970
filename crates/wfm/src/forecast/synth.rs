//! A seeded synthetic interval history, so the forecaster can be tried
//! (and tested) without data.
//!
//! The random numbers come from a small SplitMix64 generator inside this
//! module, which keeps `wfm` independent of the engine crate; the same
//! seed and settings give the same history on every platform.

use super::calendar::{day_of_month, default_holidays, weekday};
use super::{ForecastError, IntervalSeries};

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, good enough for
/// synthetic data.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Poisson(λ): Knuth's product method below 30, else Hörmann's PTRS
    /// (transformed rejection with squeeze, 1993).
    pub(crate) fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let mut k = 0u64;
            let mut p = self.uniform();
            while p > limit {
                k += 1;
                p *= self.uniform();
            }
            return k;
        }
        let slam = lambda.sqrt();
        let loglam = lambda.ln();
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = self.uniform() - 0.5;
            let v = self.uniform();
            let us = 0.5 - u.abs();
            let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
            if us >= 0.07 && v <= vr {
                return k as u64;
            }
            if k < 0.0 || (us < 0.013 && v > us) {
                continue;
            }
            if (v * inv_alpha / (a / (us * us) + b)).ln() <= -lambda + k * loglam - ln_factorial(k) {
                return k as u64;
            }
        }
    }
}

/// ln(k!) by Stirling's series (exact enough for k ≥ 10), a sum below.
fn ln_factorial(k: f64) -> f64 {
    if k < 10.0 {
        return (2..=(k as u64)).map(|i| (i as f64).ln()).sum();
    }
    let x = k + 1.0;
    (x - 0.5) * x.ln() - x + 0.5 * std::f64::consts::TAU.ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x * x)
}

/// Settings of [`synthetic_history`]. [`SyntheticConfig::default`] is a
/// mid-sized service hotline.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticConfig {
    /// Queue name written into the history.
    pub queue: String,
    /// First day (days since 1970-01-01).
    pub first_day: i64,
    /// Number of whole weeks.
    pub weeks: u32,
    /// Interval length: 15, 30 or 60 minutes.
    pub interval_minutes: u32,
    /// Seed of the random numbers.
    pub seed: u64,
    /// Expected calls on a plain Wednesday at the start.
    pub base_daily_volume: f64,
    /// Growth per week (0.004 = +0.4 % a week, linear).
    pub weekly_growth: f64,
    /// Relative standard deviation of a day's random level (real arrivals
    /// are over-dispersed compared with Poisson).
    pub day_noise: f64,
    /// Mean handle time at the quietest time of day, seconds.
    pub base_aht_seconds: f64,
    /// Public holidays (days since 1970-01-01) with reduced volume.
    pub holidays: Vec<i64>,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        let first_day = super::calendar::days_from_civil(2026, 8, 3); // a Monday
        Self {
            queue: "support".into(),
            first_day,
            weeks: 16,
            interval_minutes: 15,
            seed: 1,
            base_daily_volume: 3000.0,
            weekly_growth: 0.004,
            day_noise: 0.03,
            base_aht_seconds: 280.0,
            holidays: default_holidays(2000, 2100),
        }
    }
}

/// Volume of each weekday relative to Wednesday: Monday highest, weekend low.
pub const WEEKDAY_FACTORS: [f64; 7] = [1.30, 1.10, 1.00, 0.97, 0.90, 0.40, 0.25];
/// Uplift on the first three days of a month (billing, pay day).
pub const MONTH_START_FACTORS: [f64; 3] = [1.35, 1.20, 1.10];
/// Volume on a public holiday relative to a plain day of that weekday.
pub const HOLIDAY_FACTOR: f64 = 0.30;

/// Opening hours `[open, close)` in minutes of the day: weekdays 07–21,
/// Saturday 08–18, Sunday 09–17.
pub fn opening_hours(weekday: usize) -> (u32, u32) {
    match weekday {
        0..=4 => (7 * 60, 21 * 60),
        5 => (8 * 60, 18 * 60),
        _ => (9 * 60, 17 * 60),
    }
}

fn bump(hour: f64, centre: f64, width: f64) -> f64 {
    (-0.5 * ((hour - centre) / width).powi(2)).exp()
}

/// Relative arrival intensity at `hour` (fractional hour of day) on a
/// weekday: peaks around 10:00 and 14:00 on weekdays, one midday peak at
/// weekends; 0 when closed.
pub fn intraday_intensity(weekday: usize, hour: f64) -> f64 {
    let (open, close) = opening_hours(weekday);
    if hour * 60.0 < f64::from(open) || hour * 60.0 >= f64::from(close) {
        return 0.0;
    }
    if weekday < 5 {
        0.15 + bump(hour, 10.0, 1.4) + 0.8 * bump(hour, 14.2, 1.5) + 0.2 * bump(hour, 19.0, 1.0)
    } else {
        0.2 + bump(hour, 12.5, 2.2)
    }
}

/// True mean handle time at `hour`: longer early and late in the day
/// (more complex calls), a little longer on Mondays.
pub fn true_aht(base: f64, weekday: usize, hour: f64) -> f64 {
    let monday = if weekday == 0 { 1.05 } else { 1.0 };
    base * monday * (1.0 + 0.12 * ((hour - 13.0) / 6.0).powi(2) + 0.05 * bump(hour, 10.0, 1.5))
}

/// A synthetic interval history: weekly pattern ([`WEEKDAY_FACTORS`]),
/// intraday profile ([`intraday_intensity`]), month-start uplift
/// ([`MONTH_START_FACTORS`]), holidays ([`HOLIDAY_FACTOR`]), a linear
/// trend, a random level per day, Poisson counts per interval and the
/// interval's mean handle time of lognormal handle times (coefficient of
/// variation 1) around [`true_aht`].
pub fn synthetic_history(config: &SyntheticConfig) -> Result<IntervalSeries, ForecastError> {
    let mut series = IntervalSeries::zeros(
        config.queue.clone(),
        config.interval_minutes,
        config.first_day,
        config.weeks as usize * 7,
    )?;
    let mut rng = SplitMix64::new(config.seed);
    let slots = series.slots_per_day();
    let m = f64::from(config.interval_minutes);
    for d in 0..series.days() {
        let day = config.first_day + d as i64;
        let wd = weekday(day);
        let mut level = config.base_daily_volume * WEEKDAY_FACTORS[wd];
        level *= 1.0 + config.weekly_growth * d as f64 / 7.0;
        let dom = day_of_month(day) as usize;
        if dom <= MONTH_START_FACTORS.len() {
            level *= MONTH_START_FACTORS[dom - 1];
        }
        if config.holidays.binary_search(&day).is_ok() {
            level *= HOLIDAY_FACTOR;
        }
        level *= (config.day_noise * rng.normal()).exp();
        // Intensity integrated over each interval (midpoint rule on 5-minute steps).
        let steps = (config.interval_minutes / 5).max(1);
        let weights: Vec<f64> = (0..slots)
            .map(|s| {
                (0..steps)
                    .map(|k| {
                        let minute = s as f64 * m + (f64::from(k) + 0.5) * m / f64::from(steps);
                        intraday_intensity(wd, minute / 60.0)
                    })
                    .sum::<f64>()
            })
            .collect();
        let total: f64 = weights.iter().sum();
        for (s, w) in weights.iter().enumerate() {
            if *w <= 0.0 || total <= 0.0 {
                continue;
            }
            let lambda = level * w / total;
            let n = rng.poisson(lambda);
            let hour = (s as f64 + 0.5) * m / 60.0;
            let mean = true_aht(config.base_aht_seconds, wd, hour);
            let aht = if n == 0 {
                0.0
            } else {
                // Mean of n lognormal handle times with CV 1: approximately
                // normal with sd mean/sqrt(n); kept positive.
                let x = mean * (1.0 + rng.normal() / (n as f64).sqrt());
                (x.max(0.2 * mean) * 10.0).round() / 10.0
            };
            series.set(d, s, n as f64, aht);
        }
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_has_the_right_mean_and_variance() {
        let mut rng = SplitMix64::new(7);
        for lambda in [0.5, 4.0, 29.0, 31.0, 150.0, 2000.0] {
            let n = 40_000;
            let xs: Vec<f64> = (0..n).map(|_| rng.poisson(lambda) as f64).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!((mean - lambda).abs() < 4.0 * (lambda / n as f64).sqrt() + 1e-9, "λ {lambda}: mean {mean}");
            assert!((var / lambda - 1.0).abs() < 0.05, "λ {lambda}: var {var}");
        }
    }

    #[test]
    fn weekly_and_intraday_shape() {
        let config = SyntheticConfig { weeks: 10, interval_minutes: 30, ..SyntheticConfig::default() };
        let h = synthetic_history(&config).unwrap();
        assert_eq!(h.days(), 70);
        assert_eq!(h.slots_per_day(), 48);
        // Weekday totals: Monday highest, Sunday lowest, weekend far below weekdays.
        let mut by_weekday = [0.0; 7];
        for d in 0..h.days() {
            by_weekday[weekday(h.first_day + d as i64)] += h.day_total(d);
        }
        let max = by_weekday.iter().cloned().fold(0.0, f64::max);
        assert_eq!(by_weekday[0], max, "{by_weekday:?}");
        assert!(by_weekday[6] < by_weekday[5] && by_weekday[5] < 0.5 * by_weekday[4], "{by_weekday:?}");
        // Intraday on weekdays: closed before 07:00, the 10:00 peak above midday and the evening.
        let mut slot = vec![0.0; 48];
        for d in 0..h.days() {
            if weekday(h.first_day + d as i64) < 5 {
                for (s, v) in h.day(d).iter().enumerate() {
                    slot[s] += v;
                }
            }
        }
        assert!(slot[..14].iter().all(|&v| v == 0.0), "closed at night");
        assert!(slot[42..].iter().all(|&v| v == 0.0), "closed from 21:00");
        assert!(slot[20] > 1.3 * slot[24], "10:00 peak above 12:00: {} vs {}", slot[20], slot[24]);
        assert!(slot[28] > slot[24], "early-afternoon peak above 12:00");
        assert!(slot[20] > 2.0 * slot[40], "10:00 above 20:00");
        // Labor Day (2026-09-07, a Monday) is far below the other Mondays.
        let labor = super::super::calendar::days_from_civil(2026, 9, 7) - h.first_day;
        assert!(h.day_total(labor as usize) < 0.5 * h.day_total(labor as usize - 7));
        // Month start: 2026-10-01 (a Thursday) above the Thursday a week later.
        let oct1 = (super::super::calendar::days_from_civil(2026, 10, 1) - h.first_day) as usize;
        assert!(h.day_total(oct1) > 1.15 * h.day_total(oct1 + 7));
    }

    #[test]
    fn same_seed_same_history() {
        let c = SyntheticConfig { weeks: 2, ..SyntheticConfig::default() };
        assert_eq!(synthetic_history(&c).unwrap(), synthetic_history(&c).unwrap());
        let other = SyntheticConfig { seed: 2, ..c.clone() };
        assert_ne!(synthetic_history(&c).unwrap(), synthetic_history(&other).unwrap());
    }
}
