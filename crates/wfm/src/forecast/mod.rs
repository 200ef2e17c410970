//! Forecasting contact volume and handle time per interval from history.
//!
//! * [`IntervalSeries`]: one queue's offered contacts and mean handle time
//!   per interval (15, 30 or 60 minutes) on a dense day × interval grid.
//! * [`synthetic_history`]: a seeded, realistic history (weekly and
//!   intraday seasonality, month-start uplift, holidays, trend, Poisson
//!   noise, AHT by time of day).
//! * [`forecast`]: daily totals by Holt-Winters (additive damped trend,
//!   multiplicative weekly seasonality, smoothing parameters chosen by a
//!   grid search on one-step errors) on calendar-adjusted totals, times
//!   intraday profiles per weekday, times month-start and holiday
//!   multipliers estimated from history, with manual [`Override`]s; AHT
//!   per weekday × interval by a recency-weighted mean.
//! * [`seasonal_naive`]: the baseline — the same interval a week earlier.
//! * [`backtest`]: rolling-origin back-test, WAPE and MAPE per
//!   granularity for both methods next to the Poisson floor.
//!
//! Pure: no I/O, no clock. Days are counted from 1970-01-01 (UTC).

mod backtest;
mod calendar;
mod model;
mod synth;

pub use backtest::{Accuracy, BacktestRow, backtest, poisson_floor_wape};
pub use calendar::{
    civil_from_days, day_of_month, days_from_civil, default_holidays, format_date, format_instant, parse_date,
    parse_instant, weekday,
};
pub use model::{
    AHT_PRIOR_CALLS, CalendarEffects, ForecastConfig, ForecastResult, HoltWinters, Override, forecast, seasonal_naive,
};
pub use synth::{
    HOLIDAY_FACTOR, MONTH_START_FACTORS, SyntheticConfig, WEEKDAY_FACTORS, intraday_intensity, opening_hours,
    synthetic_history, true_aht,
};

/// What can go wrong when forecasting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    /// The interval length is not 15, 30 or 60 minutes (or not a multiple
    /// of the history's when aggregating).
    #[error("interval length must be 15, 30 or 60 minutes (and a multiple of the history's), not {0}")]
    Interval(u32),
    /// Too little history for the method.
    #[error("need at least {needed} days of history, have {have}")]
    TooShort {
        /// Days needed.
        needed: usize,
        /// Days given.
        have: usize,
    },
    /// A value out of its domain.
    #[error("{0}")]
    Invalid(String),
}

/// One interval of a series, as read from or written to CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalRecord {
    /// Day (days since 1970-01-01).
    pub day: i64,
    /// Minute of the day the interval starts at.
    pub start_minute: u32,
    /// Contacts offered in the interval (a forecast may be fractional).
    pub offered: f64,
    /// Mean handle time in seconds (0 when nothing was offered).
    pub aht_seconds: f64,
}

/// One queue's offered contacts and mean handle time per interval, for
/// whole days from `first_day`; intervals not given are 0.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalSeries {
    /// Queue name.
    pub queue: String,
    /// Interval length in minutes: 15, 30 or 60.
    pub interval_minutes: u32,
    /// First day (days since 1970-01-01).
    pub first_day: i64,
    offered: Vec<f64>,
    aht_seconds: Vec<f64>,
}

/// Whether `minutes` is a supported interval length.
pub fn valid_interval(minutes: u32) -> bool {
    matches!(minutes, 15 | 30 | 60)
}

impl IntervalSeries {
    /// `days` days of zeros.
    pub fn zeros(queue: String, interval_minutes: u32, first_day: i64, days: usize) -> Result<Self, ForecastError> {
        if !valid_interval(interval_minutes) {
            return Err(ForecastError::Interval(interval_minutes));
        }
        let n = days * (1440 / interval_minutes as usize);
        Ok(Self { queue, interval_minutes, first_day, offered: vec![0.0; n], aht_seconds: vec![0.0; n] })
    }

    /// Intervals per day.
    pub fn slots_per_day(&self) -> usize {
        1440 / self.interval_minutes as usize
    }

    /// Number of days.
    pub fn days(&self) -> usize {
        self.offered.len() / self.slots_per_day()
    }

    /// Sets one interval (`day_index` from `first_day`, `slot` of the day).
    /// Out-of-range positions are ignored.
    pub fn set(&mut self, day_index: usize, slot: usize, offered: f64, aht_seconds: f64) {
        let spd = self.slots_per_day();
        if slot < spd
            && let Some(i) = Some(day_index * spd + slot).filter(|&i| i < self.offered.len())
        {
            self.offered[i] = offered;
            self.aht_seconds[i] = aht_seconds;
        }
    }

    /// Offered per interval of one day.
    pub fn day(&self, day_index: usize) -> &[f64] {
        let spd = self.slots_per_day();
        &self.offered[day_index * spd..(day_index + 1) * spd]
    }

    /// Mean handle time per interval of one day.
    pub fn day_aht(&self, day_index: usize) -> &[f64] {
        let spd = self.slots_per_day();
        &self.aht_seconds[day_index * spd..(day_index + 1) * spd]
    }

    /// Contacts offered on one day.
    pub fn day_total(&self, day_index: usize) -> f64 {
        self.day(day_index).iter().sum()
    }

    /// All offered counts, day-major.
    pub fn offered(&self) -> &[f64] {
        &self.offered
    }

    /// The first `days` days.
    pub fn truncated(&self, days: usize) -> Self {
        let n = days.min(self.days()) * self.slots_per_day();
        Self {
            queue: self.queue.clone(),
            interval_minutes: self.interval_minutes,
            first_day: self.first_day,
            offered: self.offered[..n].to_vec(),
            aht_seconds: self.aht_seconds[..n].to_vec(),
        }
    }

    /// Days `from..from + days`.
    pub fn window(&self, from: usize, days: usize) -> Self {
        let spd = self.slots_per_day();
        let a = from.min(self.days()) * spd;
        let b = (from + days).min(self.days()) * spd;
        Self {
            queue: self.queue.clone(),
            interval_minutes: self.interval_minutes,
            first_day: self.first_day + from as i64,
            offered: self.offered[a..b].to_vec(),
            aht_seconds: self.aht_seconds[a..b].to_vec(),
        }
    }

    /// The same series in coarser intervals: offered summed, AHT weighted
    /// by offered.
    pub fn aggregate(&self, minutes: u32) -> Result<Self, ForecastError> {
        if !valid_interval(minutes) || !minutes.is_multiple_of(self.interval_minutes) {
            return Err(ForecastError::Interval(minutes));
        }
        let k = (minutes / self.interval_minutes) as usize;
        let mut out = Self::zeros(self.queue.clone(), minutes, self.first_day, self.days())?;
        for (i, chunk) in self.offered.chunks(k).enumerate() {
            let total: f64 = chunk.iter().sum();
            let work: f64 = chunk.iter().zip(&self.aht_seconds[i * k..]).map(|(n, a)| n * a).sum();
            out.offered[i] = total;
            out.aht_seconds[i] = if total > 0.0 { work / total } else { 0.0 };
        }
        Ok(out)
    }

    /// Every interval in time order.
    pub fn records(&self) -> impl Iterator<Item = IntervalRecord> + '_ {
        let spd = self.slots_per_day();
        self.offered.iter().zip(&self.aht_seconds).enumerate().map(move |(i, (&offered, &aht))| IntervalRecord {
            day: self.first_day + (i / spd) as i64,
            start_minute: (i % spd) as u32 * self.interval_minutes,
            offered,
            aht_seconds: aht,
        })
    }
}
