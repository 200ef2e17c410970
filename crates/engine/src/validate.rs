//! Configuration validation: every problem of an [`EngineConfig`] at once,
//! each with the place it was found, so an administrator (or the simulator,
//! which maps the paths back to its own file) can fix them all in one go.
//!
//! Paths name the place like a field access, with the display name of queues
//! and agents after their index: `queues[2] (billing).steps[1].condition.skills[0]`,
//! `agents[4] (Ana).queues[1].weight`.

use crate::config::{AgentConfig, EngineConfig, ExitAction, QueueConfig};
use crate::ids::{AgentId, QueueId};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// How bad a configuration issue is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Severity {
    /// The configuration is wrong (a duplicate id, a dangling reference, a
    /// level out of range, an overflow loop): the engine refuses it.
    #[default]
    Error,
    /// A requirement no agent (or no member of the queue) meets yet: the
    /// configuration is consistent, but contacts at that step can only wait
    /// or time out. The engine accepts it — an administrator may create
    /// queues before the agents who will serve them — while a simulation
    /// scenario, which lists every agent, refuses it.
    Unstaffed,
}

/// One problem found in a configuration, with the place it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Where, e.g. `queues[2] (billing).steps[1].condition.skills[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How bad it is.
    pub severity: Severity,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Lowest valid skill level.
pub const MIN_SKILL_LEVEL: u8 = 1;
/// Highest valid skill level.
pub const MAX_SKILL_LEVEL: u8 = 10;

/// Path of a queue: `queues[i] (name)`.
fn queue_path(i: usize, q: &QueueConfig) -> String {
    format!("queues[{i}] ({})", q.name)
}

/// Path of an agent: `agents[i] (name)`.
fn agent_path(i: usize, a: &AgentConfig) -> String {
    format!("agents[{i}] ({})", a.name)
}

struct Checker<'a> {
    config: &'a EngineConfig,
    issues: Vec<ConfigIssue>,
    /// First index of each queue id.
    queue_index: HashMap<QueueId, usize>,
    /// First index of each agent id.
    agent_index: HashMap<AgentId, usize>,
    /// Indexes of the agents that are members of each queue (by queue index).
    members: Vec<Vec<usize>>,
}

impl<'a> Checker<'a> {
    fn new(config: &'a EngineConfig) -> Self {
        let mut queue_index = HashMap::new();
        for (i, q) in config.queues.iter().enumerate() {
            queue_index.entry(q.id).or_insert(i);
        }
        let mut agent_index = HashMap::new();
        for (i, a) in config.agents.iter().enumerate() {
            agent_index.entry(a.id).or_insert(i);
        }
        let mut members = vec![Vec::new(); config.queues.len()];
        for (ai, a) in config.agents.iter().enumerate() {
            for m in &a.queues {
                if let Some(&qi) = queue_index.get(&m.queue)
                    && !members[qi].contains(&ai)
                {
                    members[qi].push(ai);
                }
            }
        }
        Checker { config, issues: Vec::new(), queue_index, agent_index, members }
    }

    fn issue(&mut self, path: String, message: String) {
        self.issues.push(ConfigIssue { path, message, severity: Severity::Error });
    }

    fn unstaffed(&mut self, path: String, message: String) {
        self.issues.push(ConfigIssue { path, message, severity: Severity::Unstaffed });
    }

    /// `queue#3 (billing)` when the queue exists, `queue#3` otherwise.
    fn queue_label(&self, id: QueueId) -> String {
        match self.queue_index.get(&id) {
            Some(&i) => format!("{id} ({})", self.config.queues[i].name),
            None => id.to_string(),
        }
    }

    fn check_ids(&mut self) {
        let mut seen: HashMap<QueueId, usize> = HashMap::new();
        for (i, q) in self.config.queues.iter().enumerate() {
            if let Some(&first) = seen.get(&q.id) {
                let first_q = &self.config.queues[first];
                self.issue(
                    format!("{}.id", queue_path(i, q)),
                    format!("duplicate queue id {} (also used by {})", q.id, queue_path(first, first_q)),
                );
            } else {
                seen.insert(q.id, i);
            }
        }
        let mut seen: HashMap<AgentId, usize> = HashMap::new();
        for (i, a) in self.config.agents.iter().enumerate() {
            if let Some(&first) = seen.get(&a.id) {
                let first_a = &self.config.agents[first];
                self.issue(
                    format!("{}.id", agent_path(i, a)),
                    format!("duplicate agent id {} (also used by {})", a.id, agent_path(first, first_a)),
                );
            } else {
                seen.insert(a.id, i);
            }
        }
    }

    fn check_agents(&mut self) {
        let config = self.config;
        for (i, a) in config.agents.iter().enumerate() {
            let ap = agent_path(i, a);
            let mut skill_names: HashSet<&str> = HashSet::new();
            for (k, s) in a.skills.iter().enumerate() {
                if !(MIN_SKILL_LEVEL..=MAX_SKILL_LEVEL).contains(&s.level) {
                    self.issue(
                        format!("{ap}.skills[{k}].level"),
                        format!(
                            "skill level {} of \"{}\" is outside {MIN_SKILL_LEVEL}..={MAX_SKILL_LEVEL}",
                            s.level, s.skill
                        ),
                    );
                }
                if !skill_names.insert(s.skill.as_str()) {
                    self.issue(format!("{ap}.skills[{k}]"), format!("skill \"{}\" is listed twice", s.skill));
                }
            }
            let mut seen_queues: HashMap<QueueId, usize> = HashMap::new();
            for (k, m) in a.queues.iter().enumerate() {
                if !self.queue_index.contains_key(&m.queue) {
                    self.issue(format!("{ap}.queues[{k}].queue"), format!("unknown queue {}", m.queue));
                } else if let Some(&first) = seen_queues.get(&m.queue) {
                    let label = self.queue_label(m.queue);
                    self.issue(
                        format!("{ap}.queues[{k}].queue"),
                        format!("membership of {label} is listed twice (also queues[{first}])"),
                    );
                } else {
                    seen_queues.insert(m.queue, k);
                }
                if m.weight == 0 {
                    self.issue(format!("{ap}.queues[{k}].weight"), "weight must be at least 1".to_string());
                }
            }
            let c = &a.capacity;
            if c.voice == 0 && c.chat == 0 && c.email == 0 {
                self.issue(
                    format!("{ap}.capacity"),
                    "capacity is zero on every channel: the agent could never take a contact".to_string(),
                );
            }
        }
    }

    fn any_agent(&self, qi: usize, pred: impl Fn(&AgentConfig) -> bool) -> (bool, bool) {
        let anyone = self.config.agents.iter().any(&pred);
        let member = self.members[qi].iter().any(|&ai| pred(&self.config.agents[ai]));
        (anyone, member)
    }

    /// Reports a requirement nobody (or no member of the queue) meets.
    fn require(&mut self, qi: usize, path: String, what: &str, pred: impl Fn(&AgentConfig) -> bool) {
        let (anyone, member) = self.any_agent(qi, pred);
        if !anyone {
            self.unstaffed(path, format!("no agent has {what}"));
        } else if !member {
            let qname = self.config.queues[qi].name.clone();
            self.unstaffed(path, format!("no member of queue \"{qname}\" has {what}"));
        }
    }

    fn check_exit(&mut self, path: String, action: &ExitAction, own: QueueId) {
        if let ExitAction::Overflow { queue } = action {
            if !self.queue_index.contains_key(queue) {
                self.issue(format!("{path}.queue"), format!("overflow to unknown queue {queue}"));
            } else if *queue == own {
                self.issue(format!("{path}.queue"), "overflow to the queue itself".to_string());
            }
        }
    }

    fn check_queues(&mut self) {
        let config = self.config;
        for (qi, q) in config.queues.iter().enumerate() {
            let qp = queue_path(qi, q);
            if q.offer_timeout_ms == 0 {
                self.issue(
                    format!("{qp}.offer_timeout_ms"),
                    "offer time-out must be positive: a zero time-out misses every offer".to_string(),
                );
            }
            let last = q.steps.len().saturating_sub(1);
            for (si, step) in q.steps.iter().enumerate() {
                let sp = format!("{qp}.steps[{si}]");
                match step.timeout_ms {
                    None if si != last => self.issue(
                        format!("{sp}.timeout_ms"),
                        format!("only the last step may omit timeout_ms: steps {}..={last} would never apply", si + 1),
                    ),
                    Some(0) => self.issue(
                        format!("{sp}.timeout_ms"),
                        "a step time-out must be positive (0 would skip the step)".to_string(),
                    ),
                    _ => {}
                }
                let cond = &step.condition;
                for (k, req) in cond.skills.iter().enumerate() {
                    let path = format!("{sp}.condition.skills[{k}]");
                    if !(MIN_SKILL_LEVEL..=MAX_SKILL_LEVEL).contains(&req.min_level) {
                        self.issue(
                            format!("{path}.min_level"),
                            format!(
                                "minimum level {} of \"{}\" is outside {MIN_SKILL_LEVEL}..={MAX_SKILL_LEVEL}",
                                req.min_level, req.skill
                            ),
                        );
                        continue;
                    }
                    let what = format!("skill \"{}\" at level {} or higher", req.skill, req.min_level);
                    self.require(qi, path, &what, |a| {
                        a.skills.iter().any(|s| s.skill == req.skill && s.level >= req.min_level)
                    });
                }
                if let Some(team) = &cond.team {
                    let what = format!("team \"{team}\"");
                    self.require(qi, format!("{sp}.condition.team"), &what, |a| a.team.as_deref() == Some(team));
                }
                for (k, attr) in cond.attributes.iter().enumerate() {
                    let what = format!("attribute \"{attr}\"");
                    self.require(qi, format!("{sp}.condition.attributes[{k}]"), &what, |a| {
                        a.attributes.iter().any(|x| x == attr)
                    });
                }
                for (k, agent) in cond.agents.iter().enumerate() {
                    let path = format!("{sp}.condition.agents[{k}]");
                    match self.agent_index.get(agent) {
                        None => self.issue(path, format!("unknown agent {agent}")),
                        Some(&ai) if !self.members[qi].contains(&ai) => {
                            let name = config.agents[ai].name.clone();
                            self.issue(path, format!("agent {agent} ({name}) is not a member of queue \"{}\"", q.name))
                        }
                        Some(_) => {}
                    }
                }
            }
            if let Some(limit) = &q.max_wait {
                self.check_exit(format!("{qp}.max_wait.action"), &limit.action, q.id);
            }
            if let Some(limit) = &q.max_length {
                if limit.action == ExitAction::Callback {
                    self.issue(
                        format!("{qp}.max_length.action"),
                        "callback is not allowed when the queue is full: the caller has no place to keep".to_string(),
                    );
                }
                self.check_exit(format!("{qp}.max_length.action"), &limit.action, q.id);
            }
            if let Some(o) = &q.overflow {
                if !self.queue_index.contains_key(&o.queue) {
                    self.issue(format!("{qp}.overflow.queue"), format!("overflow to unknown queue {}", o.queue));
                } else if o.queue == q.id {
                    self.issue(format!("{qp}.overflow.queue"), "overflow to the queue itself".to_string());
                }
                if o.after_ms.is_none() && !o.when_no_agents {
                    self.issue(
                        format!("{qp}.overflow"),
                        "overflow needs after_ms or when_no_agents, or it never happens".to_string(),
                    );
                }
            }
            if let Some(nc) = &q.new_customer {
                let what = format!("attribute \"{}\"", nc.attribute);
                self.require(qi, format!("{qp}.new_customer.attribute"), &what, |a| {
                    a.attributes.contains(&nc.attribute)
                });
            }
            if q.callbacks.max_attempts == 0 {
                self.issue(
                    format!("{qp}.callbacks.max_attempts"),
                    "a callback needs at least 1 dial attempt".to_string(),
                );
            }
        }
    }

    /// `when_no_agents` overflows that come back to where they started would
    /// move a contact forever while nobody is logged in.
    fn check_no_agent_cycles(&mut self) {
        let queues = &self.config.queues;
        let next: Vec<Option<usize>> = queues
            .iter()
            .map(|q| match &q.overflow {
                Some(o) if o.when_no_agents && o.queue != q.id => self.queue_index.get(&o.queue).copied(),
                _ => None,
            })
            .collect();
        // 0 = unvisited, 1 = on the current walk, 2 = done.
        let mut color = vec![0u8; queues.len()];
        for start in 0..queues.len() {
            if color[start] != 0 {
                continue;
            }
            let mut walk = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at {
                match color[i] {
                    0 => {
                        color[i] = 1;
                        walk.push(i);
                        at = next[i];
                    }
                    1 => {
                        // A new cycle: the part of the walk from i.
                        let pos = walk.iter().position(|&w| w == i).unwrap_or(0);
                        let cycle = &walk[pos..];
                        let first = cycle.iter().copied().min().unwrap_or(i);
                        let mut names: Vec<&str> = cycle.iter().map(|&c| queues[c].name.as_str()).collect();
                        // Start the description at the first queue in file order.
                        let rot = cycle.iter().position(|&c| c == first).unwrap_or(0);
                        names.rotate_left(rot);
                        names.push(queues[first].name.as_str());
                        let message = format!(
                            "overflows when no agents are logged in form a cycle ({}): a contact would move forever",
                            names.join(" → ")
                        );
                        self.issues.push(ConfigIssue {
                            path: format!("{}.overflow.when_no_agents", queue_path(first, &queues[first])),
                            message,
                            severity: Severity::Error,
                        });
                        break;
                    }
                    _ => break,
                }
            }
            for w in walk {
                color[w] = 2;
            }
        }
    }
}

impl EngineConfig {
    /// Every problem in the configuration (empty when it is valid), in the
    /// order of the configuration: ids first, then agents, queues and the
    /// overflow graph.
    pub fn validate(&self) -> Vec<ConfigIssue> {
        let mut c = Checker::new(self);
        c.check_ids();
        c.check_agents();
        c.check_queues();
        c.check_no_agent_cycles();
        c.issues
    }

    /// The issues the engine refuses a configuration for ([`Severity::Error`]).
    pub fn errors(&self) -> Vec<ConfigIssue> {
        self.validate().into_iter().filter(|i| i.severity == Severity::Error).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::*;

    fn base() -> EngineConfig {
        let mut config = EngineConfig::default();
        config.queues.push(QueueConfig::new(QueueId(0), "sales"));
        config.queues.push(QueueConfig::new(QueueId(1), "billing"));
        config.agents.push(
            AgentConfig::new(AgentId(0), "Ana", &[QueueId(0), QueueId(1)])
                .with_skill("sales", 5)
                .with_skill("billing", 3),
        );
        config.agents.push(AgentConfig::new(AgentId(1), "Bo", &[QueueId(1)]).with_skill("billing", 8));
        config
    }

    fn step(skill: &str, level: u8, timeout: Option<u64>) -> RoutingStep {
        RoutingStep {
            condition: Condition {
                skills: vec![SkillReq { skill: skill.into(), min_level: level }],
                ..Condition::default()
            },
            timeout_ms: timeout,
        }
    }

    fn paths(c: &EngineConfig) -> Vec<String> {
        c.validate().into_iter().map(|i| i.path).collect()
    }

    #[test]
    fn valid_config_has_no_issues() {
        let mut c = base();
        c.queues[1].steps = vec![step("billing", 8, Some(20_000)), step("billing", 1, None)];
        assert_eq!(c.validate(), vec![]);
    }

    #[test]
    fn duplicate_ids() {
        let mut c = base();
        c.queues.push(QueueConfig::new(QueueId(0), "again"));
        c.agents.push(AgentConfig::new(AgentId(1), "Cy", &[QueueId(0)]));
        let issues = c.validate();
        assert_eq!(issues[0].path, "queues[2] (again).id");
        assert!(issues[0].message.contains("queues[0] (sales)"), "{}", issues[0].message);
        assert_eq!(issues[1].path, "agents[2] (Cy).id");
    }

    #[test]
    fn skill_levels_out_of_range() {
        let mut c = base();
        c.agents[0].skills[1].level = 11;
        c.agents[1].skills[0].level = 0;
        c.queues[0].steps = vec![step("sales", 0, None)];
        assert_eq!(
            paths(&c),
            vec![
                "agents[0] (Ana).skills[1].level",
                "agents[1] (Bo).skills[0].level",
                "queues[0] (sales).steps[0].condition.skills[0].min_level",
            ]
        );
    }

    #[test]
    fn skill_nobody_has() {
        let mut c = base();
        c.queues[1].steps = vec![step("billing", 9, Some(10_000)), step("chinese", 1, None)];
        let issues = c.validate();
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].path, "queues[1] (billing).steps[0].condition.skills[0]");
        assert!(issues[0].message.contains("level 9"), "{}", issues[0].message);
        assert_eq!(issues[1].path, "queues[1] (billing).steps[1].condition.skills[0]");
    }

    #[test]
    fn skill_only_non_members_have() {
        let mut c = base();
        // Bo has billing 8 but is not in sales.
        c.queues[0].steps = vec![step("billing", 8, None)];
        let issues = c.validate();
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("no member of queue \"sales\""), "{}", issues[0].message);
    }

    #[test]
    fn team_and_attribute_nobody_has() {
        let mut c = base();
        c.agents[0].team = Some("blue".into());
        c.agents[0].attributes = vec!["senior".into()];
        c.queues[0].steps = vec![RoutingStep {
            condition: Condition {
                team: Some("red".into()),
                attributes: vec!["senior".into(), "junior".into()],
                ..Condition::default()
            },
            timeout_ms: None,
        }];
        assert_eq!(
            paths(&c),
            vec!["queues[0] (sales).steps[0].condition.team", "queues[0] (sales).steps[0].condition.attributes[1]"]
        );
    }

    #[test]
    fn step_without_timeout_not_last() {
        let mut c = base();
        c.queues[1].steps = vec![step("billing", 1, None), step("billing", 1, Some(0)), step("billing", 1, None)];
        assert_eq!(
            paths(&c),
            vec!["queues[1] (billing).steps[0].timeout_ms", "queues[1] (billing).steps[1].timeout_ms"]
        );
    }

    #[test]
    fn zero_offer_timeout() {
        let mut c = base();
        c.queues[0].offer_timeout_ms = 0;
        assert_eq!(paths(&c), vec!["queues[0] (sales).offer_timeout_ms"]);
    }

    #[test]
    fn overflow_targets() {
        let mut c = base();
        c.queues[0].overflow = Some(Overflow { queue: QueueId(0), after_ms: Some(1), when_no_agents: false });
        c.queues[1].overflow = Some(Overflow { queue: QueueId(7), after_ms: None, when_no_agents: false });
        c.queues[0].max_wait = Some(Limit { value: 1000, action: ExitAction::Overflow { queue: QueueId(9) } });
        c.queues[1].max_length = Some(Limit { value: 10, action: ExitAction::Overflow { queue: QueueId(1) } });
        assert_eq!(
            paths(&c),
            vec![
                "queues[0] (sales).max_wait.action.queue",
                "queues[0] (sales).overflow.queue",
                "queues[1] (billing).max_length.action.queue",
                "queues[1] (billing).overflow.queue",
                "queues[1] (billing).overflow",
            ]
        );
    }

    #[test]
    fn when_no_agents_cycle() {
        let mut c = base();
        c.queues.push(QueueConfig::new(QueueId(2), "third"));
        let ov = |q| Some(Overflow { queue: QueueId(q), after_ms: None, when_no_agents: true });
        c.queues[0].overflow = ov(1);
        c.queues[1].overflow = ov(2);
        c.queues[2].overflow = ov(0);
        let issues = c.validate();
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].path, "queues[0] (sales).overflow.when_no_agents");
        assert!(issues[0].message.contains("sales → billing → third → sales"), "{}", issues[0].message);
        // A chain without a cycle is fine; a timed overflow does not count.
        c.queues[2].overflow = Some(Overflow { queue: QueueId(0), after_ms: Some(5), when_no_agents: false });
        assert_eq!(c.validate(), vec![]);
    }

    #[test]
    fn cycle_reached_from_outside_reported_once() {
        let mut c = base();
        c.queues.push(QueueConfig::new(QueueId(2), "third"));
        let ov = |q| Some(Overflow { queue: QueueId(q), after_ms: None, when_no_agents: true });
        c.queues[0].overflow = ov(1);
        c.queues[1].overflow = ov(2);
        c.queues[2].overflow = ov(1);
        let issues = c.validate();
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].path, "queues[1] (billing).overflow.when_no_agents");
        assert!(issues[0].message.contains("billing → third → billing"), "{}", issues[0].message);
    }

    #[test]
    fn max_length_callback_refused() {
        let mut c = base();
        c.queues[0].max_length = Some(Limit { value: 5, action: ExitAction::Callback });
        c.queues[0].max_wait = Some(Limit { value: 5, action: ExitAction::Callback });
        assert_eq!(paths(&c), vec!["queues[0] (sales).max_length.action"]);
    }

    #[test]
    fn zero_callback_attempts() {
        let mut c = base();
        c.queues[1].callbacks.max_attempts = 0;
        assert_eq!(paths(&c), vec!["queues[1] (billing).callbacks.max_attempts"]);
    }

    #[test]
    fn memberships() {
        let mut c = base();
        c.agents[1].queues.push(Membership::of(QueueId(5)));
        c.agents[1].queues.push(Membership::of(QueueId(1)));
        c.agents[1].queues[0].weight = 0;
        let issues = c.validate();
        assert_eq!(
            issues.iter().map(|i| i.path.as_str()).collect::<Vec<_>>(),
            vec!["agents[1] (Bo).queues[0].weight", "agents[1] (Bo).queues[1].queue", "agents[1] (Bo).queues[2].queue"]
        );
        assert!(issues[2].message.contains("listed twice"), "{}", issues[2].message);
    }

    #[test]
    fn zero_capacity() {
        let mut c = base();
        c.agents[0].capacity = Capacity { voice: 0, chat: 0, email: 0, exclusive_voice: true };
        assert_eq!(paths(&c), vec!["agents[0] (Ana).capacity"]);
        c.agents[0].capacity.chat = 2;
        assert_eq!(c.validate(), vec![]);
    }

    #[test]
    fn condition_agents() {
        let mut c = base();
        c.queues[0].steps = vec![RoutingStep {
            condition: Condition { agents: vec![AgentId(0), AgentId(1), AgentId(42)], ..Condition::default() },
            timeout_ms: None,
        }];
        let issues = c.validate();
        assert_eq!(
            issues.iter().map(|i| i.path.as_str()).collect::<Vec<_>>(),
            vec!["queues[0] (sales).steps[0].condition.agents[1]", "queues[0] (sales).steps[0].condition.agents[2]"]
        );
        assert!(issues[1].message.contains("unknown agent agent#42"));
    }

    #[test]
    fn new_customer_attribute() {
        let mut c = base();
        c.queues[0].new_customer = Some(NewCustomerPreference { attribute: "experienced".into(), for_ms: 10_000 });
        assert_eq!(paths(&c), vec!["queues[0] (sales).new_customer.attribute"]);
        c.agents[0].attributes.push("experienced".into());
        assert_eq!(c.validate(), vec![]);
    }

    #[test]
    fn every_problem_is_reported_together() {
        let mut c = base();
        c.queues[0].offer_timeout_ms = 0;
        c.queues[1].callbacks.max_attempts = 0;
        c.agents[0].skills[0].level = 12;
        assert_eq!(c.validate().len(), 3);
    }

    #[test]
    fn display_joins_path_and_message() {
        let i = ConfigIssue { path: "queues[0] (a).x".into(), message: "bad".into(), severity: Severity::Error };
        assert_eq!(i.to_string(), "queues[0] (a).x: bad");
    }
}
