//! Rolling-origin back-test with WAPE, MAPE and the Poisson floor.

use super::model::{ForecastConfig, forecast, seasonal_naive};
use super::{ForecastError, IntervalSeries};

/// Forecast error over a set of intervals.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Accuracy {
    /// Σ|A − F| / ΣA over all intervals.
    pub wape: f64,
    /// mean |A − F| / A over intervals with A > 0.
    pub mape: f64,
    /// AHT error weighted by workload: Σ A·|AHT_A − AHT_F| / Σ A·AHT_A.
    pub aht_wape: f64,
}

/// One line of the back-test table.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct BacktestRow {
    /// Granularity in minutes; 1440 is the row of daily totals.
    pub interval_minutes: u32,
    /// Forecast origins (weeks) tested.
    pub origins: usize,
    /// Intervals compared (all intervals of the tested weeks).
    pub intervals: usize,
    /// Contacts actually offered in the tested weeks.
    pub actual_total: f64,
    /// The method of [`forecast`].
    pub method: Accuracy,
    /// The baseline of [`seasonal_naive`].
    pub seasonal_naive: Accuracy,
    /// WAPE a perfect forecast of the Poisson rate would still have; see
    /// [`poisson_floor_wape`].
    pub poisson_floor_wape: f64,
}

/// The WAPE of a perfect forecast when counts are Poisson around the
/// rates `lambdas`: E|X − λ| ≈ λ·sqrt(2/(π·λ)) = sqrt(2λ/π) per interval,
/// summed and divided by Σλ — the mean of sqrt(2/(π·λ)) weighted by λ,
/// exactly as WAPE weights intervals by volume. (The approximation is
/// within 1 % of the exact E|X − λ| from λ ≈ 5 and overstates below.)
///
/// ```
/// let f = wfm::forecast::poisson_floor_wape(&[100.0]);
/// assert!((f - 0.0798).abs() < 1e-4);
/// ```
pub fn poisson_floor_wape(lambdas: &[f64]) -> f64 {
    let total: f64 = lambdas.iter().filter(|l| **l > 0.0).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let noise: f64 = lambdas.iter().filter(|l| **l > 0.0).map(|l| (2.0 * l / std::f64::consts::PI).sqrt()).sum();
    noise / total
}

#[derive(Default)]
struct Sums {
    abs_err: f64,
    actual: f64,
    ape: f64,
    ape_n: usize,
    aht_abs_err: f64,
    work: f64,
}

impl Sums {
    fn add_aht(&mut self, offered: f64, actual: f64, forecast: f64) {
        if offered > 0.0 {
            self.aht_abs_err += offered * (actual - forecast).abs();
            self.work += offered * actual;
        }
    }

    fn add(&mut self, actual: f64, forecast: f64) {
        self.abs_err += (actual - forecast).abs();
        self.actual += actual;
        if actual > 0.0 {
            self.ape += (actual - forecast).abs() / actual;
            self.ape_n += 1;
        }
    }

    fn accuracy(&self) -> Accuracy {
        Accuracy {
            wape: if self.actual > 0.0 { self.abs_err / self.actual } else { 0.0 },
            mape: if self.ape_n > 0 { self.ape / self.ape_n as f64 } else { 0.0 },
            aht_wape: if self.work > 0.0 { self.aht_abs_err / self.work } else { 0.0 },
        }
    }
}

/// Rolling-origin back-test: for each of the last `weeks` weeks, fit on
/// everything before it, forecast that week (horizon 7 days) with
/// [`forecast`] (the `config`'s horizon and overrides are not used) and
/// [`seasonal_naive`], and compare with what happened — at each
/// granularity in `granularities` (minutes; the history aggregated).
/// `progress(done, total)` is called after each fit. A last row with
/// `interval_minutes` 1440 compares daily totals (from the finest
/// granularity's forecasts; AHT there is the day's mean).
pub fn backtest(
    history: &IntervalSeries,
    config: &ForecastConfig,
    weeks: usize,
    granularities: &[u32],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<BacktestRow>, ForecastError> {
    let days = history.days();
    let needed = 14 + 7 * weeks;
    if days < needed {
        return Err(ForecastError::TooShort { needed, have: days });
    }
    let total = weeks * granularities.len();
    let mut done = 0;
    let mut rows = Vec::new();
    let fit_config = ForecastConfig { horizon_days: 7, overrides: Vec::new(), ..config.clone() };
    let (mut day_method, mut day_naive, mut day_lambdas) = (Sums::default(), Sums::default(), Vec::new());
    for (g, &minutes) in granularities.iter().enumerate() {
        let h = history.aggregate(minutes)?;
        let (mut method, mut naive) = (Sums::default(), Sums::default());
        let mut lambdas = Vec::new();
        let mut intervals = 0;
        for w in (1..=weeks).rev() {
            let origin = days - 7 * w;
            let train = h.truncated(origin);
            let actual = h.window(origin, 7);
            let f = forecast(&train, &fit_config)?.series;
            let n = seasonal_naive(&train, 7)?;
            for ((a, f), n) in actual.offered().iter().zip(f.offered()).zip(n.offered()) {
                method.add(*a, *f);
                naive.add(*a, *n);
                lambdas.push(if *f > 0.0 { *f } else { *a });
                intervals += 1;
            }
            for d in 0..7 {
                for (s, (&n_a, &aht_a)) in actual.day(d).iter().zip(actual.day_aht(d)).enumerate() {
                    method.add_aht(n_a, aht_a, f.day_aht(d)[s]);
                    naive.add_aht(n_a, aht_a, n.day_aht(d)[s]);
                }
                if g == 0 {
                    let (a, fd, nd) = (actual.day_total(d), f.day_total(d), n.day_total(d));
                    day_method.add(a, fd);
                    day_naive.add(a, nd);
                    day_method.add_aht(a, day_aht(&actual, d), day_aht(&f, d));
                    day_naive.add_aht(a, day_aht(&actual, d), day_aht(&n, d));
                    day_lambdas.push(if fd > 0.0 { fd } else { a });
                }
            }
            done += 1;
            progress(done, total);
        }
        rows.push(BacktestRow {
            interval_minutes: minutes,
            origins: weeks,
            intervals,
            actual_total: method.actual,
            method: method.accuracy(),
            seasonal_naive: naive.accuracy(),
            poisson_floor_wape: poisson_floor_wape(&lambdas),
        });
    }
    if !granularities.is_empty() {
        rows.push(BacktestRow {
            interval_minutes: 1440,
            origins: weeks,
            intervals: day_lambdas.len(),
            actual_total: day_method.actual,
            method: day_method.accuracy(),
            seasonal_naive: day_naive.accuracy(),
            poisson_floor_wape: poisson_floor_wape(&day_lambdas),
        });
    }
    Ok(rows)
}

/// A day's mean handle time (weighted by offered).
fn day_aht(series: &IntervalSeries, d: usize) -> f64 {
    let n = series.day_total(d);
    let work: f64 = series.day(d).iter().zip(series.day_aht(d)).map(|(n, a)| n * a).sum();
    if n > 0.0 { work / n } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::super::calendar::default_holidays;
    use super::super::synth::{SyntheticConfig, synthetic_history};
    use super::*;

    #[test]
    fn method_beats_seasonal_naive_and_nears_the_poisson_floor() {
        let h = synthetic_history(&SyntheticConfig { weeks: 16, interval_minutes: 15, ..SyntheticConfig::default() })
            .unwrap();
        let config = ForecastConfig { holidays: default_holidays(2026, 2027), ..ForecastConfig::default() };
        let rows = backtest(&h, &config, 4, &[15, 30, 60], &mut |_, _| {}).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[3].interval_minutes, 1440);
        assert!(rows[3].method.wape < rows[2].method.wape, "{:?}", rows[3]);
        assert_eq!(rows[3].intervals, 28);
        for r in &rows {
            assert!(r.method.wape < r.seasonal_naive.wape, "{r:?}");
            assert!(r.method.wape >= r.poisson_floor_wape * 0.9, "{r:?}");
        }
        let r30 = rows[1];
        assert_eq!(r30.interval_minutes, 30);
        assert!(r30.method.wape < 0.85 * r30.seasonal_naive.wape, "{r30:?}");
        assert!(r30.method.wape < 1.6 * r30.poisson_floor_wape, "{r30:?}");
        // Coarser intervals have more calls each: less relative noise.
        assert!(rows[2].poisson_floor_wape < rows[1].poisson_floor_wape);
        assert!(rows[1].poisson_floor_wape < rows[0].poisson_floor_wape);
        for r in &rows[..3] {
            assert!(r.method.aht_wape < 0.8 * r.seasonal_naive.aht_wape, "{r:?}");
        }
    }

    #[test]
    fn accuracy_by_hand() {
        let mut s = Sums::default();
        s.add(10.0, 8.0);
        s.add(0.0, 1.0);
        s.add(30.0, 33.0);
        let a = s.accuracy();
        assert!((a.wape - 6.0 / 40.0).abs() < 1e-12);
        assert!((a.mape - (0.2 + 0.1) / 2.0).abs() < 1e-12);
        assert_eq!(poisson_floor_wape(&[0.0]), 0.0);
    }
}
