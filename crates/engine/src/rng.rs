//! A small deterministic random generator (SplitMix64 seeding xoshiro256++).
//! The engine uses it statelessly ([`mix`]) so a replay needs no generator
//! state; the simulator uses [`Rng`] streams with explicit seeds.

/// SplitMix64 finaliser: a good 64-bit hash of `x`.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// xoshiro256++: fast, small state, good statistical quality.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    zig: &'static Ziggurat,
}

/// Layers of the exponential ziggurat (Marsaglia & Tsang, 2000).
const ZIG_LAYERS: usize = 256;
/// Where the tail starts, for 256 layers.
const ZIG_R: f64 = 7.697_117_470_131_05;
/// Area of each layer, for 256 layers.
const ZIG_V: f64 = 3.949_659_822_581_572e-3;

/// Tables of the exponential ziggurat: layer `i` is the box `[0, x[i]]`
/// between heights `f[i]` and `f[i + 1]` (f = e^-x); layer 0 is the base
/// strip plus the tail beyond [`ZIG_R`].
#[derive(Debug)]
struct Ziggurat {
    x: [f64; ZIG_LAYERS + 1],
    f: [f64; ZIG_LAYERS + 1],
}

impl Ziggurat {
    fn get() -> &'static Ziggurat {
        static TABLES: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
        TABLES.get_or_init(|| {
            let mut x = [0.0; ZIG_LAYERS + 1];
            x[0] = ZIG_V / (-ZIG_R).exp();
            x[1] = ZIG_R;
            for i in 1..ZIG_LAYERS - 1 {
                x[i + 1] = -((-x[i]).exp() + ZIG_V / x[i]).ln();
            }
            // The top layer ends at x = 0 (the recurrence gets there up to rounding).
            x[ZIG_LAYERS] = 0.0;
            let f = x.map(|v| (-v).exp());
            Ziggurat { x, f }
        })
    }
}

impl Rng {
    /// A generator whose stream depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut s = [0u64; 4];
        for slot in &mut s {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *slot = mix(x);
        }
        Rng { s, zig: Ziggurat::get() }
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = (self.s[0].wrapping_add(self.s[3])).rotate_left(23).wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1]: safe for `ln`.
    pub fn next_open01(&mut self) -> f64 {
        1.0 - self.next_f64()
    }

    /// Uniform integer in `0..n` (n > 0), without modulo bias worth noting.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Exponential with the given mean. A ziggurat: about 99 % of draws
    /// cost one random number, a multiply and a compare, no logarithm (the
    /// simulator draws three per call).
    #[inline]
    pub fn exp(&mut self, mean: f64) -> f64 {
        self.exp1() * mean
    }

    /// Standard exponential (mean 1). The fast path is inlined; the rare
    /// wedge and tail draws are not.
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        let bits = self.next_u64();
        let i = (bits & 0xff) as usize;
        let x = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * self.zig.x[i];
        if x < self.zig.x[i + 1] {
            return x;
        }
        self.exp1_slow(i, x)
    }

    /// The draws of [`Rng::exp1`] that fell outside the box of their layer.
    #[cold]
    fn exp1_slow(&mut self, mut i: usize, mut x: f64) -> f64 {
        let z = self.zig;
        loop {
            if i == 0 {
                // The tail beyond R is R plus a fresh exponential.
                return ZIG_R - self.next_open01().ln();
            }
            // The wedge between the box and the curve.
            if z.f[i] + self.next_f64() * (z.f[i + 1] - z.f[i]) < (-x).exp() {
                return x;
            }
            let bits = self.next_u64();
            i = (bits & 0xff) as usize;
            x = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * z.x[i];
            if x < z.x[i + 1] {
                return x;
            }
        }
    }

    /// Standard normal (Box–Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_open01();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given mean and coefficient of variation.
    pub fn lognormal(&mut self, mean: f64, cv: f64) -> f64 {
        let sigma2 = (1.0 + cv * cv).ln();
        let mu = mean.ln() - sigma2 / 2.0;
        (mu + sigma2.sqrt() * self.normal()).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_mean_is_right() {
        let mut r = Rng::new(42);
        let n = 200_000;
        let m: f64 = (0..n).map(|_| r.exp(180.0)).sum::<f64>() / n as f64;
        assert!((m - 180.0).abs() < 2.0, "mean {m}");
    }

    /// The ziggurat's draws follow Exp(1): mean, variance, and the share
    /// beyond several quantiles (tail and wedges included) match.
    #[test]
    fn exp1_is_exponential() {
        let mut r = Rng::new(3);
        let n = 2_000_000;
        let draws: Vec<f64> = (0..n).map(|_| r.exp1()).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.003, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        for q in [0.01_f64, 0.1, 0.5, 1.0, 2.0, 4.0, 7.0, 8.0, 10.0] {
            let want = (-q).exp();
            let got = draws.iter().filter(|x| **x > q).count() as f64 / n as f64;
            let sd = (want * (1.0 - want) / n as f64).sqrt();
            assert!((got - want).abs() < 5.0 * sd + 1e-6, "P(X > {q}) = {got}, want {want}");
        }
        assert!(draws.iter().all(|x| *x >= 0.0 && x.is_finite()));
    }

    /// The last layer of the table closes at zero: the constants are right.
    #[test]
    fn ziggurat_tables_close() {
        let z = Ziggurat::get();
        let last = z.x[ZIG_LAYERS - 1];
        let top = (-last).exp() + ZIG_V / last;
        assert!((top - 1.0).abs() < 1e-9, "top layer reaches {top}");
    }

    #[test]
    fn lognormal_mean_is_right() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let m: f64 = (0..n).map(|_| r.lognormal(300.0, 0.8)).sum::<f64>() / n as f64;
        assert!((m - 300.0).abs() < 5.0, "mean {m}");
    }

    #[test]
    fn streams_are_reproducible() {
        let a: Vec<u64> = {
            let mut r = Rng::new(1);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(1);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
    }
}
