//! The simulator's own tallies and the figures derived from them.
//!
//! A contact counts once, in the interval of its **arrival**, whatever queues
//! it crossed; its wait is the customer's: from arrival to answer (or to
//! abandoning), overflows included. Agent time is split exactly across
//! intervals. The totals cover contacts arriving after the warm-up and agent
//! time between the warm-up's end and the end of arrivals.

use serde::{Deserialize, Serialize};

/// Raw counts and sums, per interval or for the whole run. Figures are
/// ratios of these, so counts from several intervals or replications can be
/// added before the figures are computed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Contacts that arrived.
    pub offered: u64,
    /// Contacts connected to an agent (callbacks included).
    pub answered: u64,
    /// Answered with a wait of at most the threshold.
    pub answered_within: u64,
    /// Contacts whose customer left before being connected.
    pub abandoned: u64,
    /// Abandoned with a wait of at most the threshold.
    pub abandoned_within: u64,
    /// Abandoned with a wait shorter than the short-abandon threshold.
    pub short_abandoned: u64,
    /// Contacts that left by a queue limit (maximum wait or length) without
    /// an agent (voicemail, disconnect).
    pub exited: u64,
    /// Callbacks requested by waiting callers.
    pub callbacks_requested: u64,
    /// Requests the engine refused (the caller kept waiting).
    pub callbacks_refused: u64,
    /// Callbacks that connected the customer to an agent.
    pub callbacks_answered: u64,
    /// Callbacks given up after their last attempt.
    pub callbacks_failed: u64,
    /// Contacts still in the system when the simulation stopped.
    pub unfinished: u64,
    /// Sum of the waits of answered contacts (ms).
    pub wait_answered_ms: u64,
    /// Sum of the waits of abandoned contacts (ms).
    pub wait_abandoned_ms: u64,
    /// Sum of the waits of all finished contacts: answered, abandoned, exited (ms).
    pub wait_all_ms: u64,
    /// Longest wait of an answered or abandoned contact (ms).
    pub max_wait_ms: u64,
    /// Contacts handled to the end by an agent.
    pub handled: u64,
    /// Talk + hold + wrap-up of handled contacts (ms).
    pub handle_ms: u64,
    /// Agent time reserved, busy, on hold or in wrap-up (ms).
    pub agent_busy_ms: u64,
    /// Agent time ready and idle (ms).
    pub agent_idle_ms: u64,
    /// Agent time logged in but not ready (ms).
    pub agent_not_ready_ms: u64,
}

impl Counts {
    /// Add another set of counts.
    pub fn add(&mut self, o: &Counts) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.answered_within += o.answered_within;
        self.abandoned += o.abandoned;
        self.abandoned_within += o.abandoned_within;
        self.short_abandoned += o.short_abandoned;
        self.exited += o.exited;
        self.callbacks_requested += o.callbacks_requested;
        self.callbacks_refused += o.callbacks_refused;
        self.callbacks_answered += o.callbacks_answered;
        self.callbacks_failed += o.callbacks_failed;
        self.unfinished += o.unfinished;
        self.wait_answered_ms += o.wait_answered_ms;
        self.wait_abandoned_ms += o.wait_abandoned_ms;
        self.wait_all_ms += o.wait_all_ms;
        self.max_wait_ms = self.max_wait_ms.max(o.max_wait_ms);
        self.handled += o.handled;
        self.handle_ms += o.handle_ms;
        self.agent_busy_ms += o.agent_busy_ms;
        self.agent_idle_ms += o.agent_idle_ms;
        self.agent_not_ready_ms += o.agent_not_ready_ms;
    }

    /// The figures of these counts.
    pub fn figures(&self) -> Figures {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let secs = |ms: u64, n: u64| if n == 0 { 0.0 } else { ms as f64 / n as f64 / 1000.0 };
        let finished = self.answered + self.abandoned + self.exited;
        Figures {
            service_level: ratio(self.answered_within, self.offered),
            service_level_answered: ratio(self.answered_within, self.answered),
            service_level_abandons_positive: ratio(self.answered_within + self.abandoned_within, self.offered),
            service_level_abandons_ignored: ratio(
                self.answered_within,
                self.offered.saturating_sub(self.abandoned_within),
            ),
            service_level_short_abandons_excluded: ratio(
                self.answered_within,
                self.offered.saturating_sub(self.short_abandoned),
            ),
            asa_seconds: secs(self.wait_answered_ms, self.answered),
            mean_wait_seconds: secs(self.wait_all_ms, finished),
            average_abandon_time_seconds: secs(self.wait_abandoned_ms, self.abandoned),
            max_wait_seconds: self.max_wait_ms as f64 / 1000.0,
            abandon_rate: ratio(self.abandoned, self.offered),
            answer_rate: ratio(self.answered, self.offered),
            occupancy: ratio(self.agent_busy_ms, self.agent_busy_ms + self.agent_idle_ms),
            aht_seconds: secs(self.handle_ms, self.handled),
        }
    }
}

/// Figures derived from [`Counts`]. Service-level variants (threshold T,
/// see the research notes §2.1):
///
/// * `service_level`: answered ≤ T / offered, abandoned included (the
///   queueing-theory "offered" definition; Erlang C/A, Genesys default).
/// * `service_level_answered`: answered ≤ T / answered.
/// * `service_level_abandons_positive`: (answered ≤ T + abandoned ≤ T) / offered.
/// * `service_level_abandons_ignored`: answered ≤ T / (offered − abandoned ≤ T).
/// * `service_level_short_abandons_excluded`: answered ≤ T / (offered − short abandons).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Answered within T / offered.
    pub service_level: f64,
    /// Answered within T / answered.
    pub service_level_answered: f64,
    /// (Answered within T + abandoned within T) / offered.
    pub service_level_abandons_positive: f64,
    /// Answered within T / (offered − abandoned within T).
    pub service_level_abandons_ignored: f64,
    /// Answered within T / (offered − short abandons).
    pub service_level_short_abandons_excluded: f64,
    /// Average speed of answer: mean wait of answered contacts.
    pub asa_seconds: f64,
    /// Mean wait of all finished contacts, abandoned and exited included
    /// (Erlang C's "ASA" without abandonment; Erlang A's `E[W]`).
    pub mean_wait_seconds: f64,
    /// Mean wait of abandoned contacts.
    pub average_abandon_time_seconds: f64,
    /// Longest wait.
    pub max_wait_seconds: f64,
    /// Abandoned / offered.
    pub abandon_rate: f64,
    /// Answered / offered.
    pub answer_rate: f64,
    /// Busy / (busy + idle) agent time.
    pub occupancy: f64,
    /// Mean talk + hold + wrap-up of handled contacts.
    pub aht_seconds: f64,
}

impl Figures {
    /// The headline figures given a confidence interval across replications.
    pub const HEADLINE: [&'static str; 6] =
        ["service_level", "asa_seconds", "abandon_rate", "occupancy", "mean_wait_seconds", "aht_seconds"];

    /// A headline figure by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "service_level" => self.service_level,
            "asa_seconds" => self.asa_seconds,
            "abandon_rate" => self.abandon_rate,
            "occupancy" => self.occupancy,
            "mean_wait_seconds" => self.mean_wait_seconds,
            "aht_seconds" => self.aht_seconds,
            _ => return None,
        })
    }
}

/// Mean and 95 % confidence half-width of a figure over replications.
#[derive(Copy, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean over replications.
    pub mean: f64,
    /// Half-width of the 95 % confidence interval of the mean (Student t;
    /// 0 with one replication).
    pub half_width: f64,
}

impl Estimate {
    /// Estimate from per-replication values.
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len();
        if n == 0 {
            return Estimate::default();
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate { mean, half_width: 0.0 };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        Estimate { mean, half_width: t_975(n - 1) * (var / n as f64).sqrt() }
    }
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df - 1],
        31..=40 => 2.021,
        41..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of ICMI / Call Centre Helper: answered 1000,
    /// abandoned 60, answered ≤ 20 s 860, abandoned ≤ 20 s 20, ≤ 5 s 10.
    #[test]
    fn service_level_variants_on_the_worked_example() {
        let c = Counts {
            offered: 1060,
            answered: 1000,
            answered_within: 860,
            abandoned: 60,
            abandoned_within: 20,
            short_abandoned: 10,
            ..Counts::default()
        };
        let f = c.figures();
        let close = |a: f64, b: f64| (a - b).abs() < 0.0005;
        assert!(close(f.service_level, 0.811), "{}", f.service_level);
        assert!(close(f.service_level_answered, 0.860));
        assert!(close(f.service_level_abandons_positive, 0.830));
        assert!(close(f.service_level_abandons_ignored, 0.827));
        assert!(close(f.service_level_short_abandons_excluded, 0.819));
        assert!(close(f.abandon_rate, 60.0 / 1060.0));
    }

    #[test]
    fn estimate_uses_student_t() {
        let e = Estimate::of(&[1.0, 2.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        // sd = 1, n = 3, t(2) = 4.303
        assert!((e.half_width - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(Estimate::of(&[5.0]).half_width, 0.0);
    }
}
