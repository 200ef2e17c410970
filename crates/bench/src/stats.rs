//! Latency samples: every measured call's duration in nanoseconds, kept
//! exactly (two million `u32`s are 8 MB) and sorted once at the end.

/// Durations of one kind of call, in nanoseconds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples {
    ns: Vec<u32>,
    total_ns: u128,
    sorted: bool,
}

/// Summary of a set of samples, in microseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub(crate) struct Summary {
    pub count: u64,
    pub total_ns: u128,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl Samples {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Samples { ns: Vec::with_capacity(n), total_ns: 0, sorted: true }
    }

    pub(crate) fn record(&mut self, ns: u64) {
        self.total_ns += u128::from(ns);
        self.ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
        self.sorted = false;
    }

    pub(crate) fn extend(&mut self, other: &Samples) {
        self.ns.extend_from_slice(&other.ns);
        self.total_ns += other.total_ns;
        self.sorted = false;
    }

    /// Nearest-rank percentile `p` (0..=1), in nanoseconds; needs sorted samples.
    fn percentile_ns(&self, p: f64) -> u32 {
        if self.ns.is_empty() {
            return 0;
        }
        let n = self.ns.len();
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        self.ns[rank - 1]
    }

    pub(crate) fn summary(&mut self) -> Summary {
        if !self.sorted {
            self.ns.sort_unstable();
            self.sorted = true;
        }
        let count = self.ns.len() as u64;
        let us = |ns: u32| f64::from(ns) / 1_000.0;
        Summary {
            count,
            total_ns: self.total_ns,
            mean_us: if count == 0 { 0.0 } else { self.total_ns as f64 / count as f64 / 1_000.0 },
            p50_us: us(self.percentile_ns(0.50)),
            p90_us: us(self.percentile_ns(0.90)),
            p99_us: us(self.percentile_ns(0.99)),
            p999_us: us(self.percentile_ns(0.999)),
            max_us: us(self.ns.last().copied().unwrap_or(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut s = Samples::with_capacity(1000);
        for i in (1..=1000u64).rev() {
            s.record(i * 1_000);
        }
        let m = s.summary();
        assert_eq!(m.count, 1000);
        assert_eq!(m.p50_us, 500.0);
        assert_eq!(m.p90_us, 900.0);
        assert_eq!(m.p99_us, 990.0);
        assert_eq!(m.p999_us, 999.0);
        assert_eq!(m.max_us, 1000.0);
        assert!((m.mean_us - 500.5).abs() < 1e-9);
    }

    #[test]
    fn empty_is_zero() {
        let m = Samples::default().summary();
        assert_eq!(m, Summary::default());
    }
}
