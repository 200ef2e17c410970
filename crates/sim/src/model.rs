//! From a [`Scenario`] to what a run needs: the engine configuration (dense
//! ids, names resolved, milliseconds) and the simulator's own model of
//! callers and agents. Every problem is collected, with its place in the
//! scenario file, before anything runs; the engine's own validation is
//! reused and its paths are mapped back to the file's names.

use crate::scenario::*;
use engine::{
    AgentConfig, AgentId, AgentSkill, CallbackPolicy, Channel, Condition, ConfigIssue, EngineConfig, ExitAction, Limit,
    Membership, NewCustomerPreference, Overflow, QueueConfig, QueueId, RoutingStep, Segment, Settings, SkillReq,
};
use std::collections::HashMap;

/// A random duration: its distribution and mean, in milliseconds.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Duration {
    /// The distribution.
    pub dist: Distribution,
    /// Mean in milliseconds.
    pub mean_ms: f64,
    /// Coefficient of variation (log-normal only).
    pub cv: f64,
}

impl Duration {
    /// Draw one value in whole milliseconds (at least 1 for a positive mean).
    pub fn draw(&self, rng: &mut engine::rng::Rng) -> u64 {
        let x = match self.dist {
            Distribution::Exponential => rng.exp(self.mean_ms),
            Distribution::Lognormal => rng.lognormal(self.mean_ms, self.cv),
            Distribution::Fixed => self.mean_ms,
        };
        // x ≥ 0: adding ½ and truncating rounds like `round` without its
        // libm call (baseline x86-64 has no rounding instruction).
        ((x + 0.5) as u64).max(1)
    }
}

/// One compiled arrival stream.
#[derive(Clone, Debug)]
pub struct StreamModel {
    /// Queue entered.
    pub queue: QueueId,
    /// Arrival rate per millisecond in each reporting interval of the run
    /// (index 0 = the interval containing the start).
    pub rate_per_ms: Vec<f64>,
    /// Handle time.
    pub handle: Duration,
    /// Mean handle time (ms) per reporting interval, replacing
    /// `handle.mean_ms` for contacts arriving in it (empty: constant).
    pub handle_mean_ms: Vec<f64>,
    /// Patience; `None`: never abandons.
    pub patience: Option<Duration>,
    /// Contact priority.
    pub priority: i32,
    /// Cumulative segment probabilities (empty: all unknown).
    pub segments: Vec<(Segment, f64)>,
    /// Skills required on top of the queue's steps.
    pub required_skills: Vec<SkillReq>,
    /// Probability of asking for a callback.
    pub callback_probability: f64,
    /// When the callback is asked for, after arrival.
    pub callback_after_ms: u64,
    /// Channel.
    pub channel: Channel,
    /// Give returning and VIP customers a last agent (the queue routes on it).
    pub wants_last_agent: bool,
    /// Give every contact a number to call back (some queue turns callers
    /// into callbacks at its maximum wait).
    pub callback_number: bool,
}

/// One simulated agent (index = agent id).
#[derive(Clone, Debug)]
pub struct AgentModel {
    /// Name (`group-k`, or the group's name for a group of one).
    pub name: String,
    /// Index of its `[[agents]]` group.
    pub group: usize,
    /// Delay from offer to answer.
    pub answer_delay_ms: u64,
    /// Probability that an offer is missed.
    pub miss_probability: f64,
    /// Time an agent set not ready for missed offers takes to be ready again.
    pub ready_again_ms: u64,
    /// Working spans `[start, end)` in ms, sorted, not overlapping (none:
    /// the whole run, unless `absent`).
    pub shifts: Vec<(u64, u64)>,
    /// The agent does not work in this run (an empty list in `agent_shifts`).
    pub absent: bool,
}

/// Simulated customers' behaviour towards callbacks of a queue (index = queue id).
#[derive(Clone, Debug)]
pub struct QueueModel {
    /// Name.
    pub name: String,
    /// Dialling time.
    pub dial_ms: u64,
    /// Probability the customer answers.
    pub answer_probability: f64,
    /// Members, for drawing a returning customer's last agent.
    pub members: Vec<AgentId>,
}

/// Everything a run needs, checked.
#[derive(Clone, Debug)]
pub struct Model {
    /// The engine configuration (queue ids and agent ids dense from 0).
    pub config: EngineConfig,
    /// Start of the run (ms since 00:00 of the simulated day).
    pub start_ms: u64,
    /// Arrivals stop here.
    pub end_ms: u64,
    /// Contacts arriving before this are left out of the figures.
    pub warm_up_end_ms: u64,
    /// Reporting interval.
    pub interval_ms: u64,
    /// Start of the first reporting interval (the start rounded down to a
    /// multiple of the interval).
    pub first_interval_ms: u64,
    /// Service-level threshold.
    pub sl_threshold_ms: u64,
    /// Short-abandon threshold.
    pub short_abandon_ms: u64,
    /// How long after `end_ms` contacts are followed.
    pub drain_ms: u64,
    /// Replications.
    pub replications: u32,
    /// Seed of the first replication.
    pub seed: u64,
    /// Arrival streams.
    pub streams: Vec<StreamModel>,
    /// Agents, by id.
    pub agents: Vec<AgentModel>,
    /// Queues, by id.
    pub queues: Vec<QueueModel>,
}

impl Model {
    /// Number of reporting intervals from `first_interval_ms` to `end_ms`.
    pub fn interval_count(&self) -> usize {
        interval_count(self.first_interval_ms, self.end_ms, self.interval_ms)
    }

    /// Check a scenario and compile it; every problem at once.
    pub fn build(s: &Scenario) -> Result<Model, crate::ScenarioError> {
        let mut b = Builder::default();
        let model = b.build(s);
        if b.issues.is_empty() {
            if let Some(model) = model {
                return Ok(model);
            }
            b.push("simulation".into(), "the scenario could not be compiled".into());
        }
        Err(crate::ScenarioError::Invalid(b.issues))
    }
}

fn interval_count(first: u64, end: u64, interval: u64) -> usize {
    if end <= first || interval == 0 { 0 } else { (end - first).div_ceil(interval) as usize }
}

/// Parse `HH:MM` or `HH:MM:SS` into milliseconds since 00:00. Hours may exceed 23.
pub fn parse_clock(text: &str) -> Result<u64, String> {
    let bad = || format!("\"{text}\" is not a clock time like \"08:30\" or \"17:45:30\"");
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(bad());
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        nums[i] = p.parse().map_err(|_| bad())?;
    }
    if nums[1] > 59 || nums[2] > 59 {
        return Err(bad());
    }
    Ok(((nums[0] * 60 + nums[1]) * 60 + nums[2]) * 1000)
}

/// Edit distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn hint<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
    let best = known
        .map(|k| (distance(&name.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, k)) => format!(" (did you mean \"{k}\"?)"),
        None => String::new(),
    }
}

#[derive(Default)]
struct Builder {
    issues: Vec<ConfigIssue>,
    queue_ids: HashMap<String, QueueId>,
    /// Group name → agent ids of the group.
    group_agents: HashMap<String, Vec<AgentId>>,
    /// Agent name → id.
    agent_ids: HashMap<String, AgentId>,
    /// For each group, the file index of each membership kept.
    membership_index: Vec<Vec<usize>>,
}

fn qpath(i: usize, q: &QueueSpec) -> String {
    format!("queues[{i}] ({})", q.name)
}

fn gpath(i: usize, g: &AgentGroupSpec) -> String {
    format!("agents[{i}] ({})", g.name)
}

impl Builder {
    fn push(&mut self, path: String, message: String) {
        self.issues.push(ConfigIssue { path, message, severity: engine::Severity::Error });
    }

    /// Seconds → ms, reporting negative or non-finite values. `positive`
    /// also refuses zero.
    fn ms(&mut self, path: impl FnOnce() -> String, seconds: f64, positive: bool) -> u64 {
        if !seconds.is_finite() || seconds < 0.0 || (positive && seconds <= 0.0) {
            let need = if positive { "positive" } else { "zero or more" };
            self.push(path(), format!("must be {need} seconds, not {seconds}"));
            return 0;
        }
        (seconds * 1000.0).round() as u64
    }

    fn probability(&mut self, path: impl FnOnce() -> String, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            self.push(path(), format!("a probability must be between 0 and 1, not {p}"));
            return 0.0;
        }
        p
    }

    fn level(&mut self, path: impl FnOnce() -> String, level: i64) -> u8 {
        if !(1..=10).contains(&level) {
            self.push(path(), format!("skill level {level} is outside 1..=10"));
            return 1;
        }
        level as u8
    }

    /// Parse a list of shifts (`path` names the list): sorted spans in ms,
    /// every bad or overlapping shift reported.
    fn shifts(&mut self, path: &str, list: &[ShiftSpec]) -> Vec<(u64, u64)> {
        let mut shifts = Vec::new();
        for (k, sh) in list.iter().enumerate() {
            let a = parse_clock(&sh.start).map_err(|e| self.push(format!("{path}[{k}].start"), e));
            let b = parse_clock(&sh.end).map_err(|e| self.push(format!("{path}[{k}].end"), e));
            if let (Ok(a), Ok(b)) = (a, b) {
                if b <= a {
                    self.push(format!("{path}[{k}]"), "a shift must end after it starts".into());
                } else {
                    shifts.push((a, b, k));
                }
            }
        }
        shifts.sort();
        for w in shifts.windows(2) {
            if w[1].0 < w[0].1 {
                self.push(format!("{path}[{}]", w[1].2), format!("overlaps shifts[{}]", w[0].2));
            }
        }
        shifts.into_iter().map(|(a, b, _)| (a, b)).collect()
    }

    fn queue(&mut self, path: impl FnOnce() -> String, name: &str) -> Option<QueueId> {
        match self.queue_ids.get(name) {
            Some(id) => Some(*id),
            None => {
                let h = hint(name, self.queue_ids.keys().map(String::as_str));
                self.push(path(), format!("unknown queue \"{name}\"{h}"));
                None
            }
        }
    }

    fn build(&mut self, s: &Scenario) -> Option<Model> {
        let sim = &s.simulation;
        // --- the run
        let (start_ms, end_ms) = match (sim.hours, &sim.start, &sim.end) {
            (Some(h), None, None) => {
                if !h.is_finite() || h <= 0.0 {
                    self.push("simulation.hours".into(), format!("must be positive, not {h}"));
                    (0, 3_600_000)
                } else {
                    (0, (h * 3_600_000.0).round() as u64)
                }
            }
            (None, Some(a), Some(b)) => {
                let a = parse_clock(a).map_err(|e| self.push("simulation.start".into(), e)).unwrap_or(0);
                let b = parse_clock(b).map_err(|e| self.push("simulation.end".into(), e)).unwrap_or(a + 1);
                if b <= a {
                    self.push("simulation.end".into(), "the run must end after it starts".into());
                    (a, a + 3_600_000)
                } else {
                    (a, b)
                }
            }
            _ => {
                self.push(
                    "simulation".into(),
                    "give either `hours` or both `start` and `end` (clock times like \"08:00\")".into(),
                );
                (0, 3_600_000)
            }
        };
        if sim.replications < 1 {
            self.push("simulation.replications".into(), format!("must be at least 1, not {}", sim.replications));
        }
        let interval_ms = if sim.interval_minutes < 1 {
            self.push(
                "simulation.interval_minutes".into(),
                format!("must be at least 1 minute, not {}", sim.interval_minutes),
            );
            900_000
        } else {
            sim.interval_minutes as u64 * 60_000
        };
        let warm_up_ms = self.ms(|| "simulation.warm_up_minutes".into(), sim.warm_up_minutes * 60.0, false);
        if warm_up_ms >= end_ms.saturating_sub(start_ms) && warm_up_ms > 0 {
            self.push("simulation.warm_up_minutes".into(), "the warm-up must be shorter than the run".into());
        }
        let sl_threshold_ms = self.ms(|| "simulation.sl_threshold_seconds".into(), sim.sl_threshold_seconds, false);
        let short_abandon_ms = self.ms(|| "simulation.short_abandon_seconds".into(), sim.short_abandon_seconds, false);
        let drain_ms = self.ms(|| "simulation.drain_hours".into(), sim.drain_hours * 3600.0, false);
        if sim.max_missed_offers < 1 {
            self.push(
                "simulation.max_missed_offers".into(),
                format!("must be at least 1, not {}", sim.max_missed_offers),
            );
        }
        let first_interval_ms = start_ms - start_ms % interval_ms;

        // --- names
        if s.queues.is_empty() {
            self.push("queues".into(), "the scenario has no queue".into());
        }
        for (i, q) in s.queues.iter().enumerate() {
            if q.name.trim().is_empty() {
                self.push(format!("queues[{i}].name"), "a queue needs a name".into());
            } else if self.queue_ids.contains_key(&q.name) {
                self.push(format!("{}.name", qpath(i, q)), format!("queue name \"{}\" is used twice", q.name));
            } else {
                self.queue_ids.insert(q.name.clone(), QueueId(i as u32));
            }
        }
        let mut agents: Vec<AgentModel> = Vec::new();
        let mut agent_configs: Vec<AgentConfig> = Vec::new();
        for (gi, g) in s.agents.iter().enumerate() {
            let gp = gpath(gi, g);
            if g.name.trim().is_empty() {
                self.push(format!("agents[{gi}].name"), "an agent group needs a name".into());
            } else if self.group_agents.contains_key(&g.name) {
                self.push(format!("{gp}.name"), format!("agent group name \"{}\" is used twice", g.name));
                continue;
            }
            if g.count < 1 {
                self.push(
                    format!("{gp}.count"),
                    format!("must be at least 1, not {} (leave the group out to have none)", g.count),
                );
                continue;
            }
            if g.count > 1_000_000 {
                self.push(format!("{gp}.count"), format!("{} agents is more than the simulator supports", g.count));
                continue;
            }
            let answer_delay_ms = self.ms(|| format!("{gp}.answer_delay_seconds"), g.answer_delay_seconds, false);
            let miss_probability = self.probability(|| format!("{gp}.miss_probability"), g.miss_probability);
            let ready_again_ms = self.ms(|| format!("{gp}.ready_again_seconds"), g.ready_again_seconds, false);
            let shifts = self.shifts(&format!("{gp}.shifts"), &g.shifts);
            let agent_shifts: Option<Vec<Vec<(u64, u64)>>> = g.agent_shifts.as_ref().map(|lists| {
                if lists.len() as i64 != g.count {
                    self.push(
                        format!("{gp}.agent_shifts"),
                        format!("has {} lists but the group has {} agents", lists.len(), g.count),
                    );
                }
                if !g.shifts.is_empty() {
                    self.push(format!("{gp}.agent_shifts"), "give either `shifts` or `agent_shifts`".into());
                }
                lists.iter().enumerate().map(|(k, l)| self.shifts(&format!("{gp}.agent_shifts[{k}]"), l)).collect()
            });
            let mut skills = Vec::new();
            for (name, level) in &g.skills {
                let level = self.level(|| format!("{gp}.skills.{name}"), *level);
                skills.push(AgentSkill { skill: name.clone(), level });
            }
            let mut memberships = Vec::new();
            let mut kept = Vec::new();
            if g.queues.is_empty() {
                self.push(format!("{gp}.queues"), "the group serves no queue".into());
            }
            for (k, m) in g.queues.iter().enumerate() {
                let Some(q) = self.queue(|| format!("{gp}.queues[{k}]"), m.queue()) else { continue };
                let (position, weight) = match m {
                    MembershipSpec::Name(_) => (0, 1),
                    MembershipSpec::Full(t) => {
                        if t.weight < 1 || t.weight > i64::from(u32::MAX) {
                            self.push(
                                format!("{gp}.queues[{k}].weight"),
                                format!("must be at least 1, not {}", t.weight),
                            );
                        }
                        (t.position, t.weight.clamp(1, i64::from(u32::MAX)) as u32)
                    }
                };
                memberships.push(Membership { queue: q, position, weight });
                kept.push(k);
            }
            let mut ids = Vec::new();
            for k in 1..=g.count {
                let id = AgentId(agents.len() as u32);
                let name = if g.count == 1 { g.name.clone() } else { format!("{}-{k}", g.name) };
                if self.agent_ids.insert(name.clone(), id).is_some() {
                    self.push(format!("{gp}.name"), format!("agent name \"{name}\" is also used by another group"));
                }
                ids.push(id);
                agent_configs.push(AgentConfig {
                    id,
                    name: name.clone(),
                    skills: skills.clone(),
                    team: g.team.clone(),
                    attributes: g.attributes.clone(),
                    queues: memberships.clone(),
                    capacity: g.capacity,
                    // Agents who answer at once and never miss let the
                    // engine answer for them (one input less per contact).
                    auto_answer: answer_delay_ms == 0 && miss_probability == 0.0,
                });
                let (shifts, absent) = match &agent_shifts {
                    Some(lists) => {
                        let own = lists.get((k - 1) as usize).cloned().unwrap_or_default();
                        let absent = own.is_empty();
                        (own, absent)
                    }
                    None => (shifts.clone(), false),
                };
                agents.push(AgentModel {
                    name,
                    group: gi,
                    answer_delay_ms,
                    miss_probability,
                    ready_again_ms,
                    shifts,
                    absent,
                });
            }
            self.group_agents.insert(g.name.clone(), ids);
            self.membership_index.resize(gi + 1, Vec::new());
            self.membership_index[gi] = kept;
        }

        // --- queues
        let mut queue_configs = Vec::new();
        let mut queue_models = Vec::new();
        for (i, q) in s.queues.iter().enumerate() {
            let qp = qpath(i, q);
            let id = QueueId(i as u32);
            let mut steps = Vec::new();
            for (k, st) in q.steps.iter().enumerate() {
                let sp = format!("{qp}.steps[{k}]");
                let mut skills = Vec::new();
                for (name, level) in &st.skills {
                    let min_level = self.level(|| format!("{sp}.skills.{name}"), *level);
                    skills.push(SkillReq { skill: name.clone(), min_level });
                }
                let mut agents_only = Vec::new();
                for (j, name) in st.agents.iter().enumerate() {
                    if let Some(ids) = self.group_agents.get(name) {
                        agents_only.extend(ids.iter().copied());
                    } else if let Some(id) = self.agent_ids.get(name) {
                        agents_only.push(*id);
                    } else {
                        let known = self.group_agents.keys().map(String::as_str);
                        let h = hint(name, known);
                        self.push(format!("{sp}.agents[{j}]"), format!("unknown agent or agent group \"{name}\"{h}"));
                    }
                }
                let timeout_ms = st.timeout_seconds.map(|t| self.ms(|| format!("{sp}.timeout_seconds"), t, true));
                steps.push(RoutingStep {
                    condition: Condition {
                        skills,
                        team: st.team.clone(),
                        attributes: st.attributes.clone(),
                        preferred_agent: st.preferred_agent,
                        agents: agents_only,
                    },
                    timeout_ms,
                });
            }
            let offer_timeout_ms = self.ms(|| format!("{qp}.offer_timeout_seconds"), q.offer_timeout_seconds, true);
            let wrap_up_ms = self.ms(|| format!("{qp}.wrap_up_seconds"), q.wrap_up_seconds, false);
            let max_wait = match &q.max_wait {
                None => None,
                Some(mw) => {
                    let value = self.ms(|| format!("{qp}.max_wait.seconds"), mw.seconds, true);
                    self.action(&format!("{qp}.max_wait"), mw.action, mw.queue.as_deref(), &q.name)
                        .map(|action| Limit { value, action })
                }
            };
            let max_length = match &q.max_length {
                None => None,
                Some(ml) => {
                    if ml.contacts < 0 {
                        self.push(
                            format!("{qp}.max_length.contacts"),
                            format!("must be 0 or more, not {}", ml.contacts),
                        );
                    }
                    self.action(&format!("{qp}.max_length"), ml.action, ml.queue.as_deref(), &q.name)
                        .map(|action| Limit { value: ml.contacts.max(0) as u64, action })
                }
            };
            let overflow = match &q.overflow {
                None => None,
                Some(o) => {
                    let after_ms =
                        o.after_seconds.map(|t| self.ms(|| format!("{qp}.overflow.after_seconds"), t, false));
                    if o.queue == q.name {
                        self.push(format!("{qp}.overflow.queue"), "a queue cannot overflow into itself".into());
                        None
                    } else {
                        self.queue(|| format!("{qp}.overflow.queue"), &o.queue).map(|target| Overflow {
                            queue: target,
                            after_ms,
                            when_no_agents: o.when_no_agents,
                        })
                    }
                }
            };
            let sticky_agent_ms =
                q.sticky_agent_seconds.map(|t| self.ms(|| format!("{qp}.sticky_agent_seconds"), t, false));
            let new_customer = q.new_customer.as_ref().map(|nc| NewCustomerPreference {
                attribute: nc.attribute.clone(),
                for_ms: self.ms(|| format!("{qp}.new_customer.for_seconds"), nc.for_seconds, false),
            });
            let cb = &q.callbacks;
            let max_outstanding = cb.max_outstanding.map(|m| {
                if m < 0 {
                    self.push(format!("{qp}.callbacks.max_outstanding"), format!("must be 0 or more, not {m}"));
                }
                m.clamp(0, i64::from(u32::MAX)) as u32
            });
            if cb.max_attempts < 1 {
                self.push(
                    format!("{qp}.callbacks.max_attempts"),
                    format!("must be at least 1, not {}", cb.max_attempts),
                );
            }
            let callbacks = CallbackPolicy {
                enabled: cb.enabled,
                max_outstanding,
                max_attempts: cb.max_attempts.clamp(1, i64::from(u32::MAX)) as u32,
                retry_delay_ms: self.ms(
                    || format!("{qp}.callbacks.retry_delay_seconds"),
                    cb.retry_delay_seconds,
                    false,
                ),
            };
            let dial_ms = self.ms(|| format!("{qp}.callbacks.dial_seconds"), cb.dial_seconds, false);
            let answer_probability =
                self.probability(|| format!("{qp}.callbacks.answer_probability"), cb.answer_probability);
            queue_configs.push(QueueConfig {
                id,
                name: q.name.clone(),
                strategy: q.strategy,
                steps,
                priority: q.priority,
                offer_timeout_ms,
                wrap_up_ms,
                max_wait,
                max_length,
                overflow,
                sticky_agent_ms,
                new_customer,
                callbacks,
            });
            let members =
                agent_configs.iter().filter(|a| a.queues.iter().any(|m| m.queue == id)).map(|a| a.id).collect();
            queue_models.push(QueueModel { name: q.name.clone(), dial_ms, answer_probability, members });
        }

        // --- arrivals
        let n_intervals = interval_count(first_interval_ms, end_ms, interval_ms);
        if s.arrivals.is_empty() {
            self.push("arrivals".into(), "the scenario has no arrivals".into());
        }
        let mut streams = Vec::new();
        for (i, a) in s.arrivals.iter().enumerate() {
            let ap = format!("arrivals[{i}]");
            let queue = self.queue(|| format!("{ap}.queue"), &a.queue);
            let per_hour_to_ms = |r: f64| r / 3_600_000.0;
            let rate_per_ms = match (a.calls_per_hour, &a.profile) {
                (Some(r), None) => {
                    if !r.is_finite() || r < 0.0 {
                        self.push(format!("{ap}.calls_per_hour"), format!("must be zero or more, not {r}"));
                    }
                    vec![per_hour_to_ms(r.max(0.0)); n_intervals]
                }
                (None, Some(p)) => {
                    if p.len() != n_intervals {
                        self.push(
                            format!("{ap}.profile"),
                            format!(
                                "has {} rates but the run has {n_intervals} intervals of {} minutes",
                                p.len(),
                                interval_ms / 60_000
                            ),
                        );
                    }
                    for (k, r) in p.iter().enumerate() {
                        if !r.is_finite() || *r < 0.0 {
                            self.push(format!("{ap}.profile[{k}]"), format!("must be zero or more, not {r}"));
                        }
                    }
                    let mut v: Vec<f64> = p.iter().map(|r| per_hour_to_ms(r.max(0.0))).collect();
                    v.resize(n_intervals, 0.0);
                    v
                }
                _ => {
                    self.push(ap.clone(), "give either `calls_per_hour` or `profile`".into());
                    vec![0.0; n_intervals]
                }
            };
            let handle =
                self.duration(&ap, "aht_seconds", "handle_cv", a.aht_seconds, a.handle_distribution, a.handle_cv);
            let mut handle_mean_ms = Vec::new();
            if let Some(p) = &a.aht_profile {
                if p.len() != n_intervals {
                    self.push(
                        format!("{ap}.aht_profile"),
                        format!(
                            "has {} values but the run has {n_intervals} intervals of {} minutes",
                            p.len(),
                            interval_ms / 60_000
                        ),
                    );
                }
                for (k, v) in p.iter().enumerate() {
                    if !v.is_finite() || *v <= 0.0 {
                        self.push(format!("{ap}.aht_profile[{k}]"), format!("must be positive seconds, not {v}"));
                    }
                }
                handle_mean_ms =
                    p.iter().map(|v| if v.is_finite() && *v > 0.0 { v * 1000.0 } else { handle.mean_ms }).collect();
                handle_mean_ms.resize(n_intervals, handle.mean_ms);
            }
            let patience = a.patience_seconds.map(|p| {
                self.duration(&ap, "patience_seconds", "patience_cv", p, a.patience_distribution, a.patience_cv)
            });
            let mut segments = Vec::new();
            let total: f64 = a.segments.values().filter(|w| w.is_finite() && **w > 0.0).sum();
            let mut acc = 0.0;
            for (name, w) in &a.segments {
                let seg = match name.as_str() {
                    "new" => Segment::New,
                    "returning" => Segment::Returning,
                    "vip" => Segment::Vip,
                    "unknown" => Segment::Unknown,
                    _ => {
                        self.push(
                            format!("{ap}.segments.{name}"),
                            "unknown segment (known: new, returning, vip, unknown)".into(),
                        );
                        continue;
                    }
                };
                if !w.is_finite() || *w < 0.0 {
                    self.push(format!("{ap}.segments.{name}"), format!("a weight must be zero or more, not {w}"));
                    continue;
                }
                acc += w / total;
                segments.push((seg, acc));
            }
            if !a.segments.is_empty() && total <= 0.0 {
                self.push(format!("{ap}.segments"), "the weights add up to zero".into());
            }
            if let Some(last) = segments.last_mut() {
                last.1 = 1.0;
            }
            let mut required_skills = Vec::new();
            for (name, level) in &a.required_skills {
                let min_level = self.level(|| format!("{ap}.required_skills.{name}"), *level);
                required_skills.push(SkillReq { skill: name.clone(), min_level });
            }
            let callback_probability =
                self.probability(|| format!("{ap}.callback_probability"), a.callback_probability);
            let callback_after_ms = self.ms(|| format!("{ap}.callback_after_seconds"), a.callback_after_seconds, false);
            if a.channel == Channel::Callback {
                self.push(
                    format!("{ap}.channel"),
                    "callbacks are not an arrival channel: use callback_probability".into(),
                );
            }
            let Some(queue) = queue else { continue };
            let qc = &queue_configs[queue.0 as usize];
            if callback_probability > 0.0 && !qc.callbacks.enabled {
                self.push(
                    format!("{ap}.callback_probability"),
                    format!("queue \"{}\" does not take callbacks (callbacks.enabled = false)", qc.name),
                );
            }
            let members: Vec<&AgentConfig> =
                agent_configs.iter().filter(|ag| ag.queues.iter().any(|m| m.queue == queue)).collect();
            let slot = a.channel.slot();
            if !members.is_empty() && !members.iter().any(|ag| ag.capacity.of(slot) > 0) {
                self.push(
                    format!("{ap}.channel"),
                    format!("no agent of queue \"{}\" has capacity for {}", qc.name, a.channel.name()),
                );
            }
            if !required_skills.is_empty()
                && !members.iter().any(|ag| {
                    required_skills
                        .iter()
                        .all(|r| ag.skills.iter().any(|s| s.skill == r.skill && s.level >= r.min_level))
                })
            {
                self.push(
                    format!("{ap}.required_skills"),
                    format!("no agent of queue \"{}\" has all the required skills", qc.name),
                );
            }
            let wants_last_agent = qc.sticky_agent_ms.is_some() || qc.steps.iter().any(|s| s.condition.preferred_agent);
            streams.push(StreamModel {
                queue,
                rate_per_ms,
                handle,
                handle_mean_ms,
                patience,
                priority: a.priority,
                segments,
                required_skills,
                callback_probability,
                callback_after_ms,
                channel: a.channel,
                wants_last_agent,
                callback_number: queue_configs
                    .iter()
                    .any(|q| q.max_wait.as_ref().is_some_and(|l| l.action == ExitAction::Callback)),
            });
        }

        let config = EngineConfig {
            settings: Settings {
                max_missed_offers: sim.max_missed_offers.clamp(1, i64::from(u32::MAX)) as u32,
                seed: sim.seed,
                ..Settings::default()
            },
            queues: queue_configs,
            agents: agent_configs,
        };
        // The engine's own rules, with its paths mapped back to the file.
        let map = PathMap {
            config: &config,
            scenario: s,
            agent_group: agents.iter().map(|a| a.group).collect(),
            membership_index: &self.membership_index,
        };
        let mut seen = std::collections::HashSet::new();
        let mut mapped_issues = Vec::new();
        for issue in config.validate() {
            let mapped = map.issue(&issue);
            if seen.insert((mapped.path.clone(), mapped.message.clone()))
                && !self.issues.iter().any(|i| i.path == mapped.path)
            {
                mapped_issues.push(mapped);
            }
        }
        self.issues.extend(mapped_issues);
        Some(Model {
            config,
            start_ms,
            end_ms,
            warm_up_end_ms: start_ms + warm_up_ms,
            interval_ms,
            first_interval_ms,
            sl_threshold_ms,
            short_abandon_ms,
            drain_ms,
            replications: sim.replications.clamp(1, i64::from(u32::MAX)) as u32,
            seed: sim.seed,
            streams,
            agents,
            queues: queue_models,
        })
    }

    fn duration(
        &mut self,
        ap: &str,
        mean_key: &str,
        cv_key: &str,
        mean_s: f64,
        dist: Distribution,
        cv: Option<f64>,
    ) -> Duration {
        let mean_ms = self.ms(|| format!("{ap}.{mean_key}"), mean_s, true) as f64;
        let cv = match (dist, cv) {
            (Distribution::Lognormal, None) => {
                self.push(
                    format!("{ap}.{cv_key}"),
                    "a log-normal distribution needs its coefficient of variation".into(),
                );
                1.0
            }
            (Distribution::Lognormal, Some(c)) if !c.is_finite() || c <= 0.0 => {
                self.push(format!("{ap}.{cv_key}"), format!("must be positive, not {c}"));
                1.0
            }
            (Distribution::Lognormal, Some(c)) => c,
            (_, Some(_)) => {
                self.push(
                    format!("{ap}.{cv_key}"),
                    "only a log-normal distribution takes a coefficient of variation".into(),
                );
                1.0
            }
            (_, None) => 1.0,
        };
        Duration { dist, mean_ms: mean_ms.max(1.0), cv }
    }

    fn action(&mut self, path: &str, action: ActionSpec, queue: Option<&str>, own: &str) -> Option<ExitAction> {
        match (action, queue) {
            (ActionSpec::Overflow, None) => {
                self.push(format!("{path}.queue"), "an overflow action needs the target `queue`".into());
                None
            }
            (ActionSpec::Overflow, Some(q)) if q == own => {
                self.push(format!("{path}.queue"), "a queue cannot overflow into itself".into());
                None
            }
            (ActionSpec::Overflow, Some(q)) => {
                self.queue(|| format!("{path}.queue"), q).map(|queue| ExitAction::Overflow { queue })
            }
            (_, Some(_)) => {
                self.push(format!("{path}.queue"), "only an overflow action takes a `queue`".into());
                None
            }
            (ActionSpec::Disconnect, None) => Some(ExitAction::Disconnect),
            (ActionSpec::Voicemail, None) => Some(ExitAction::Voicemail),
            (ActionSpec::Callback, None) => Some(ExitAction::Callback),
        }
    }
}

/// What is needed to map engine paths back to the scenario file.
struct PathMap<'a> {
    config: &'a EngineConfig,
    scenario: &'a Scenario,
    agent_group: Vec<usize>,
    membership_index: &'a [Vec<usize>],
}

impl PathMap<'_> {
    /// Map an engine issue (`queues[2] (billing).steps[1].condition.skills[0]`,
    /// `agents[7] (sales-3).skills[0].level`) to the scenario's own place
    /// (`queues[2] (billing).steps[1].skills.billing`, `agents[1] (sales).skills.billing`).
    fn issue(&self, issue: &ConfigIssue) -> ConfigIssue {
        let path = self.path(&issue.path).unwrap_or_else(|| issue.path.clone());
        // Engine messages use ids; the scenario knows names.
        let mut message = issue.message.clone();
        for q in &self.config.queues {
            message = message.replace(&format!("{} ({})", q.id, q.name), &format!("\"{}\"", q.name));
        }
        message = message.replace("timeout_ms", "timeout_seconds").replace("after_ms", "after_seconds");
        ConfigIssue { path, message, severity: issue.severity }
    }

    fn path(&self, path: &str) -> Option<String> {
        let (config, s) = (self.config, self.scenario);
        if let Some((qi, rest)) = take_index(path, "queues") {
            let rest = skip_name(rest);
            let q = s.queues.get(qi)?;
            let head = qpath(qi, q);
            if let Some(r) = rest.strip_prefix(".")
                && let Some((si, r)) = take_index(r, "steps")
            {
                let sp = format!("{head}.steps[{si}]");
                let cond = &config.queues.get(qi)?.steps.get(si)?.condition;
                if let Some(r2) = r.strip_prefix(".condition.") {
                    if let Some((k, _)) = take_index(r2, "skills") {
                        return Some(format!("{sp}.skills.{}", cond.skills.get(k)?.skill));
                    }
                    if r2.starts_with("agents") {
                        return Some(format!("{sp}.agents"));
                    }
                    return Some(format!("{sp}.{r2}"));
                }
                if r == ".timeout_ms" {
                    return Some(format!("{sp}.timeout_seconds"));
                }
                return Some(format!("{sp}{r}"));
            }
            let mapped = match rest {
                ".offer_timeout_ms" => ".offer_timeout_seconds",
                ".wrap_up_ms" => ".wrap_up_seconds",
                ".max_wait.action.queue" => ".max_wait.queue",
                ".max_length.action.queue" => ".max_length.queue",
                ".overflow.after_ms" => ".overflow.after_seconds",
                ".new_customer.for_ms" => ".new_customer.for_seconds",
                ".sticky_agent_ms" => ".sticky_agent_seconds",
                other => other,
            };
            return Some(format!("{head}{mapped}"));
        }
        if let Some((ai, rest)) = take_index(path, "agents") {
            let rest = skip_name(rest);
            let gi = *self.agent_group.get(ai)?;
            let g = s.agents.get(gi)?;
            let head = gpath(gi, g);
            let agent = config.agents.get(ai)?;
            if let Some(r) = rest.strip_prefix(".") {
                if let Some((k, _)) = take_index(r, "skills") {
                    return Some(format!("{head}.skills.{}", agent.skills.get(k)?.skill));
                }
                if let Some((k, r2)) = take_index(r, "queues") {
                    let file_k = *self.membership_index.get(gi)?.get(k)?;
                    return Some(match r2 {
                        ".queue" => format!("{head}.queues[{file_k}]"),
                        other => format!("{head}.queues[{file_k}]{other}"),
                    });
                }
            }
            return Some(format!("{head}{rest}"));
        }
        None
    }
}

/// Splits `name[index]` at the start of `text`; returns (index, rest).
fn take_index<'a>(text: &'a str, name: &str) -> Option<(usize, &'a str)> {
    let rest = text.strip_prefix(name)?.strip_prefix('[')?;
    let close = rest.find(']')?;
    let index = rest[..close].parse().ok()?;
    Some((index, &rest[close + 1..]))
}

/// Drops a ` (display name)` right after an index.
fn skip_name(text: &str) -> &str {
    if let Some(rest) = text.strip_prefix(" (") {
        // Names may contain parentheses; the path continues after ")." or at the end.
        if let Some(pos) = rest.find(").") {
            return &rest[pos + 1..];
        }
        if rest.ends_with(')') {
            return "";
        }
    }
    text
}
