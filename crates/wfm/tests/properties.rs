//! Property tests: monotonicity in the number of agents, the least-staffing
//! property of the searches, Erlang A → Erlang C as patience grows, and
//! Erlang A's service level against an independent uniformisation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use wfm::{ErlangA, ErlangC, Target};

/// (calls per hour, AHT seconds): offered loads from 0.05 to about 200 Erlangs.
fn traffic() -> impl Strategy<Value = (f64, f64)> {
    (1.0f64..2_000.0, 30.0f64..600.0).prop_filter("load ≤ 200", |(l, a)| l * a / 3600.0 <= 200.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn erlang_c_improves_with_agents((cph, aht) in traffic(), threshold in 0.0f64..120.0, extra in 0u32..40) {
        let q = ErlangC::new(cph, aht).unwrap();
        let first = q.offered_load().floor() as u32 + 1;
        let n = first + extra;
        let m = q.metrics(n, threshold).unwrap();
        let m1 = q.metrics(n + 1, threshold).unwrap();
        prop_assert!(m1.service_level >= m.service_level, "{m:?} {m1:?}");
        prop_assert!(m1.p_wait <= m.p_wait);
        prop_assert!(m1.asa_seconds <= m.asa_seconds);
        prop_assert!(m1.occupancy < m.occupancy);
        for x in [m.p_wait, m.service_level, m.occupancy] {
            prop_assert!((0.0..=1.0).contains(&x));
        }
        prop_assert!(m.asa_seconds >= 0.0 && m.asa_seconds.is_finite());
        // The fractional extension lies between its neighbours.
        let mid = q.metrics_fractional(f64::from(n) + 0.5, threshold).unwrap();
        prop_assert!(mid.p_wait <= m.p_wait + 1e-15 && mid.p_wait >= m1.p_wait - 1e-15);
    }

    #[test]
    fn erlang_a_improves_with_agents(
        (cph, aht) in traffic(),
        patience in 5.0f64..3_000.0,
        threshold in 0.0f64..120.0,
        fraction in 0.3f64..1.5,
    ) {
        let q = ErlangA::new(cph, aht, patience).unwrap();
        let n = ((q.offered_load() * fraction).floor() as u32).max(1);
        let m = q.metrics(n, threshold).unwrap();
        let m1 = q.metrics(n + 1, threshold).unwrap();
        let eps = 1e-12;
        prop_assert!(m1.service_level >= m.service_level - eps, "{m:?} {m1:?}");
        prop_assert!(m1.p_wait <= m.p_wait + eps);
        prop_assert!(m1.p_abandon <= m.p_abandon + eps);
        prop_assert!(m1.asa_answered_seconds <= m.asa_answered_seconds * (1.0 + eps) + eps);
        prop_assert!(m1.mean_wait_all_seconds <= m.mean_wait_all_seconds * (1.0 + eps) + eps);
        prop_assert!(m1.occupancy <= m.occupancy + eps);
        // Every probability is a probability; the variants are ordered.
        for x in [m.p_wait, m.p_abandon, m.service_level, m.service_level_answered, m.service_level_virtual,
                  m.service_level_abandons_ignored, m.service_level_abandons_positive, m.occupancy,
                  m.p_abandon_within_threshold] {
            prop_assert!((0.0..=1.0).contains(&x), "{m:?}");
        }
        prop_assert!(m.service_level <= m.service_level_answered + eps);
        prop_assert!(m.service_level <= m.service_level_virtual + eps);
        prop_assert!(m.service_level <= m.service_level_abandons_ignored + eps);
        prop_assert!(m.service_level <= m.service_level_abandons_positive + eps);
        prop_assert!(m.p_abandon_within_threshold <= m.p_abandon + eps);
        prop_assert!(m.p_abandon <= m.p_wait + eps);
        // E[W] = P(abandon) · mean patience.
        let w = m.p_abandon * patience;
        prop_assert!((m.mean_wait_all_seconds - w).abs() <= 1e-9 * w.max(1e-3), "{} vs {w}", m.mean_wait_all_seconds);
    }

    #[test]
    fn erlang_c_required_agents_is_least((cph, aht) in traffic(), level in 0.05f64..0.99, threshold in 0.0f64..120.0,
                                         cap in proptest::option::of(0.5f64..1.0)) {
        let q = ErlangC::new(cph, aht).unwrap();
        let mut target = Target::service_level(level, threshold);
        target.max_occupancy = cap;
        let s = q.required_agents(&target).unwrap();
        prop_assert!(target.met_by_c(&s.metrics));
        prop_assert_eq!(s.metrics, q.metrics(s.agents, threshold).unwrap());
        if s.agents > 1 {
            match q.metrics(s.agents - 1, threshold) {
                Ok(m) => prop_assert!(!target.met_by_c(&m), "{} agents already meet it", s.agents - 1),
                Err(e) => prop_assert!(matches!(e, wfm::WfmError::Unstable { .. }), "{e}"),
            }
        }
    }

    #[test]
    fn erlang_a_required_agents_is_least(
        (cph, aht) in traffic(),
        patience in 5.0f64..3_000.0,
        level in 0.05f64..0.99,
        threshold in 0.0f64..120.0,
        max_abandon in proptest::option::of(0.01f64..0.5),
        max_asa in proptest::option::of(1.0f64..120.0),
        max_occupancy in proptest::option::of(0.5f64..1.0),
    ) {
        let q = ErlangA::new(cph, aht, patience).unwrap();
        let mut target = Target::service_level(level, threshold);
        target.max_abandon = max_abandon;
        target.max_asa_seconds = max_asa;
        target.max_occupancy = max_occupancy;
        let s = q.required_agents(&target).unwrap();
        prop_assert!(target.met_by_a(&s.metrics));
        if s.agents > 1 {
            let below = q.metrics(s.agents - 1, threshold).unwrap();
            prop_assert!(!target.met_by_a(&below), "{} agents already meet it: {below:?}", s.agents - 1);
        }
        // With abandonment, never more than Erlang C needs for the same
        // service level? Not a theorem (impatient callers abandon within
        // T); only check the lower bound the search relies on.
        prop_assert!(f64::from(s.agents) >= q.offered_load() * level * (1.0 - 1e-12));
    }

    #[test]
    fn erlang_a_with_huge_patience_is_erlang_c((cph, aht) in traffic(), threshold in 0.0f64..120.0, extra in 1u32..20) {
        let c = ErlangC::new(cph, aht).unwrap();
        let n = c.offered_load().floor() as u32 + extra;
        // Within 0.05 agents of the load the Erlang C queue holds tens of
        // thousands of callers, and even a patience of 10¹² AHTs shows.
        prop_assume!(f64::from(n) - c.offered_load() >= 0.05);
        let mc = c.metrics(n, threshold).unwrap();
        let ma = ErlangA::new(cph, aht, aht * 1e12).unwrap().metrics(n, threshold).unwrap();
        prop_assert!((ma.p_wait - mc.p_wait).abs() < 1e-6, "{ma:?} {mc:?}");
        prop_assert!((ma.service_level - mc.service_level).abs() < 1e-6, "{ma:?} {mc:?}");
        prop_assert!((ma.service_level_virtual - mc.service_level).abs() < 1e-6);
        prop_assert!((ma.occupancy - mc.occupancy).abs() < 1e-6);
        prop_assert!(ma.p_abandon < 1e-6);
        let tol = 1e-5 * mc.asa_seconds.max(1.0);
        prop_assert!((ma.asa_answered_seconds - mc.asa_seconds).abs() < tol, "{ma:?} {mc:?}");
        prop_assert!((ma.mean_wait_all_seconds - mc.asa_seconds).abs() < tol);
    }
}

/// Erlang A service levels by uniformisation of the tagged-customer chain
/// (the method of pyworkforce), written independently of the library: the
/// stationary distribution by brute force, then P(answered within t | j
/// waiting ahead) and P(V ≤ t | j) by a backward recursion over the jumps
/// of the uniformised chain, weighted by Poisson probabilities.
/// Time unit: the AHT. Returns (SL offered, SL virtual, P(abandon)).
fn uniformised(n: u32, load: f64, theta: f64, t: f64) -> (f64, f64, f64) {
    let nf = f64::from(n);
    let mut p = vec![1.0f64];
    for k in 1..=n {
        let last = p[p.len() - 1];
        p.push(last * load / f64::from(k));
    }
    let mut total: f64 = p.iter().sum();
    let mut j = 0.0;
    loop {
        j += 1.0;
        let last = p[p.len() - 1];
        let next = last * load / (nf + j * theta);
        p.push(next);
        total += next;
        if load < nf + j * theta && next < 1e-18 * total {
            break;
        }
    }
    let total: f64 = p.iter().sum();
    let pi: Vec<f64> = p.iter().map(|x| x / total).collect();
    let waiting = pi.len() - n as usize; // states j = 0 .. waiting-1 as seen by an arrival
    let rate = nf + (waiting as f64 + 1.0) * theta;
    // f[j]: P(answered within k jumps); g[j]: P(V reached within k jumps) (no own abandonment).
    let mut f = vec![0.0f64; waiting];
    let mut g = vec![0.0f64; waiting];
    let mut offered = 0.0;
    let mut virtual_ = 0.0;
    let mut abandon = 0.0;
    for (jj, w) in pi[n as usize..].iter().enumerate() {
        // P(abandon | j) = 1 − Π (n + iθ)/(n + (i+1)θ).
        let mut s = 1.0;
        for i in 0..=jj {
            s *= (nf + i as f64 * theta) / (nf + (i as f64 + 1.0) * theta);
        }
        abandon += w * (1.0 - s);
    }
    let lt = rate * t;
    let mut ln_pois = -lt;
    let mut cum = 0.0;
    let mut k = 0u64;
    loop {
        let pois = ln_pois.exp();
        cum += pois;
        for (jj, w) in pi[n as usize..].iter().enumerate() {
            offered += w * pois * f[jj];
            virtual_ += w * pois * g[jj];
        }
        if (k as f64) > lt && 1.0 - cum < 1e-15 || k > 200_000 {
            break;
        }
        // One more jump (in place, from the back: f[jj - 1] is still the old value).
        for jj in (0..waiting).rev() {
            let adv = nf + jj as f64 * theta;
            let out = adv + theta;
            let (fa, ga) = if jj == 0 { (1.0, 1.0) } else { (f[jj - 1], g[jj - 1]) };
            f[jj] = adv / rate * fa + (1.0 - out / rate) * f[jj];
            g[jj] = adv / rate * ga + (1.0 - adv / rate) * g[jj];
        }
        k += 1;
        ln_pois += lt.ln() - (k as f64).ln();
    }
    let no_wait: f64 = pi[..n as usize].iter().sum();
    (no_wait + offered, no_wait + virtual_, abandon)
}

proptest! {
    // The reference is slow (jumps × states); a dozen cases cover the ground.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn erlang_a_matches_uniformisation(n in 1u32..25, rho in 0.2f64..1.6, aht in 60.0f64..400.0,
                                       patience_factor in 0.4f64..10.0, threshold in 0.0f64..100.0) {
        let load = rho * f64::from(n);
        let patience = aht * patience_factor;
        let q = ErlangA::new(load * 3600.0 / aht, aht, patience).unwrap();
        let m = q.metrics(n, threshold).unwrap();
        let (offered, virtual_, abandon) = uniformised(n, load, aht / patience, threshold / aht);
        prop_assert!((m.service_level - offered).abs() < 1e-9, "{} vs {offered}", m.service_level);
        prop_assert!((m.service_level_virtual - virtual_).abs() < 1e-9, "{} vs {virtual_}", m.service_level_virtual);
        prop_assert!((m.p_abandon - abandon).abs() < 1e-9, "{} vs {abandon}", m.p_abandon);
    }
}
