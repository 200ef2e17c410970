//! Service-level variants, computed from counts (see [`SlCounts`]).

use super::counts::QueueCounts;
use serde::{Deserialize, Serialize};

/// `n / d`, or `None` when `d` is 0.
#[inline]
pub(crate) fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Milliseconds `n` divided by a count `d`, in seconds; `None` when `d` is 0.
#[inline]
pub(crate) fn mean_seconds(n_ms: u64, d: u64) -> Option<f64> {
    ratio(n_ms, d).map(|ms| ms / 1000.0)
}

/// The counts the service-level variants are computed from.
///
/// With, for one queue and period, `a_t` contacts answered within the
/// threshold T, `a` answered, `b` abandoned, `b_t` abandoned within T, `s`
/// short abandons and `x` exited (left by a limit for good):
///
/// | Figure | Formula | Meaning |
/// |---|---|---|
/// | [`service_level`](SlCounts::service_level) (F3, "offered", the default) | a_t / (a + b + x) | answered within T among every contact that finished in the queue |
/// | [`sl_answered`](SlCounts::sl_answered) (F2) | a_t / a | answered within T among answered |
/// | [`sl_abandons_positive`](SlCounts::sl_abandons_positive) (F1) | (a_t + b_t) / (a + b + x) | abandons within T count as met |
/// | [`sl_abandons_ignored`](SlCounts::sl_abandons_ignored) (F4) | a_t / (a + b − b_t + x) | abandons within T removed |
/// | [`sl_short_abandons_excluded`](SlCounts::sl_short_abandons_excluded) (F5) | a_t / (a + b − s + x) | short abandons removed |
/// | [`abandon_rate`](SlCounts::abandon_rate) | b / (a + b + x) | |
///
/// The default, F3, is the definition behind the Erlang C and Erlang A
/// golden values. Contacts that overflowed out of the queue are in none of
/// these denominators: they count in the queue they flowed into. Every
/// figure is a fraction in [0, 1] and `None` when its denominator is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlCounts {
    /// `a_t`: answered within the threshold.
    pub answered_within: u64,
    /// `a`: answered.
    pub answered: u64,
    /// `b`: abandoned.
    pub abandoned: u64,
    /// `b_t`: abandoned within the threshold.
    pub abandoned_within: u64,
    /// `s`: short abandons.
    pub short_abandons: u64,
    /// `x`: exited (left by a limit for good).
    pub exited: u64,
}

impl SlCounts {
    /// The counts of a queue's counters.
    pub fn of(c: &QueueCounts) -> SlCounts {
        SlCounts {
            answered_within: c.answered_within,
            answered: c.answered,
            abandoned: c.abandoned,
            abandoned_within: c.abandoned_within,
            short_abandons: c.short_abandons,
            exited: c.exited,
        }
    }

    /// a + b + x: contacts that finished in the queue.
    pub fn finished(&self) -> u64 {
        self.answered + self.abandoned + self.exited
    }

    /// F3, the default ("offered"): a_t / (a + b + x).
    pub fn service_level(&self) -> Option<f64> {
        ratio(self.answered_within, self.finished())
    }

    /// F2: a_t / a.
    pub fn sl_answered(&self) -> Option<f64> {
        ratio(self.answered_within, self.answered)
    }

    /// F1: (a_t + b_t) / (a + b + x).
    pub fn sl_abandons_positive(&self) -> Option<f64> {
        ratio(self.answered_within + self.abandoned_within, self.finished())
    }

    /// F4: a_t / (a + b − b_t + x).
    pub fn sl_abandons_ignored(&self) -> Option<f64> {
        ratio(self.answered_within, self.finished().saturating_sub(self.abandoned_within))
    }

    /// F5: a_t / (a + b − s + x).
    pub fn sl_short_abandons_excluded(&self) -> Option<f64> {
        ratio(self.answered_within, self.finished().saturating_sub(self.short_abandons))
    }

    /// b / (a + b + x).
    pub fn abandon_rate(&self) -> Option<f64> {
        ratio(self.abandoned, self.finished())
    }

    /// Every variant at once.
    pub fn levels(&self) -> ServiceLevel {
        ServiceLevel {
            service_level: self.service_level(),
            sl_answered: self.sl_answered(),
            sl_abandons_positive: self.sl_abandons_positive(),
            sl_abandons_ignored: self.sl_abandons_ignored(),
            sl_short_abandons_excluded: self.sl_short_abandons_excluded(),
        }
    }
}

/// The service-level variants of one period, as fractions (see
/// [`SlCounts`] for the formulas); `None` (null) when the denominator is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceLevel {
    /// F3, the default: a_t / (a + b + x).
    pub service_level: Option<f64>,
    /// F2: a_t / a.
    pub sl_answered: Option<f64>,
    /// F1: (a_t + b_t) / (a + b + x).
    pub sl_abandons_positive: Option<f64>,
    /// F4: a_t / (a + b − b_t + x).
    pub sl_abandons_ignored: Option<f64>,
    /// F5: a_t / (a + b − s + x).
    pub sl_short_abandons_excluded: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(x: Option<f64>) -> f64 {
        (x.expect("defined") * 1000.0).round() / 10.0
    }

    /// ICMI worked example: 1000 answered, 860 within 20 s; 60 abandoned,
    /// 20 within 20 s (40 beyond), 10 within 5 s.
    #[test]
    fn icmi_worked_example() {
        let c = SlCounts {
            answered_within: 860,
            answered: 1000,
            abandoned: 60,
            abandoned_within: 20,
            short_abandons: 10,
            exited: 0,
        };
        assert_eq!(pct(c.sl_abandons_positive()), 83.0);
        assert_eq!(pct(c.sl_answered()), 86.0);
        assert_eq!(pct(c.service_level()), 81.1);
        assert_eq!(pct(c.sl_abandons_ignored()), 82.7);
        assert_eq!(pct(c.sl_short_abandons_excluded()), 81.9);
        // Exact values, not only rounded ones.
        assert_eq!(c.service_level(), Some(860.0 / 1060.0));
        assert_eq!(c.sl_abandons_ignored(), Some(860.0 / 1040.0));
        assert_eq!(c.sl_short_abandons_excluded(), Some(860.0 / 1050.0));
        let l = c.levels();
        assert_eq!(l.service_level, c.service_level());
        assert_eq!(l.sl_answered, c.sl_answered());
        assert_eq!(pct(c.abandon_rate()), 5.7);
    }

    #[test]
    fn exits_are_in_the_offered_denominators_only() {
        let c = SlCounts { answered_within: 8, answered: 10, exited: 6, ..Default::default() };
        assert_eq!(c.service_level(), Some(0.5));
        assert_eq!(c.sl_answered(), Some(0.8));
        assert_eq!(c.sl_abandons_ignored(), Some(0.5));
        assert_eq!(c.sl_short_abandons_excluded(), Some(0.5));
    }

    #[test]
    fn zero_denominators_are_none_and_serialise_as_null() {
        let c = SlCounts::default();
        assert_eq!(c.levels(), ServiceLevel::default());
        let only_abandons = SlCounts { abandoned: 3, abandoned_within: 3, short_abandons: 3, ..Default::default() };
        assert_eq!(only_abandons.sl_abandons_ignored(), None);
        assert_eq!(only_abandons.sl_short_abandons_excluded(), None);
        assert_eq!(only_abandons.service_level(), Some(0.0));
        assert_eq!(only_abandons.sl_answered(), None);
        let json = serde_json::to_value(only_abandons.levels()).expect("serialise");
        assert!(json["sl_answered"].is_null());
        assert_eq!(json["service_level"], 0.0);
    }
}
