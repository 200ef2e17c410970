//! The simulated contact center: skills, queues with their routing, agents
//! with their skills and memberships, and the arrival weights of the queues.

use crate::routing::RoutingBenchConfig;
use engine::rng::Rng;
use engine::{
    AgentConfig, AgentId, AgentSkill, Condition, EngineConfig, Membership, QueueConfig, QueueId, RoutingStep, Settings,
    SkillReq,
};

/// Share of queues with two routing steps (experts first, then anyone).
pub(crate) const TWO_STEP_SHARE: f64 = 0.20;
/// Minimum level of the first step of two-step queues.
pub(crate) const EXPERT_LEVEL: u8 = 7;
/// How long the first step of two-step queues lasts.
pub(crate) const EXPERT_STEP_MS: u64 = 20_000;
/// Share of queues whose contacts get a priority boost.
pub(crate) const PRIORITY_SHARE: f64 = 0.05;
/// The boost.
pub(crate) const PRIORITY_BOOST: i32 = 10;
/// Share of queues with after-call work.
pub(crate) const WRAP_UP_SHARE: f64 = 0.5;
/// After-call work time of those queues (the engine ends it by timer).
pub(crate) const WRAP_UP_MS: u64 = 30_000;
/// Coefficient of variation of the queues' arrival weights (log-normal).
const WEIGHT_CV: f64 = 1.0;

/// The generated contact center.
pub(crate) struct Workload {
    pub config: EngineConfig,
    /// Cumulative arrival weights, by queue index (queue id = index + 1).
    pub cumulative_weight: Vec<f64>,
    pub two_step_queues: u32,
    pub priority_queues: u32,
    pub wrap_up_queues: u32,
}

pub(crate) fn queue_id(index: u32) -> QueueId {
    QueueId(index + 1)
}

pub(crate) fn agent_id(index: u32) -> AgentId {
    AgentId(index + 1)
}

fn skill_name(skill: u32) -> String {
    format!("skill{skill:03}")
}

impl Workload {
    /// Build the center. Queue `i` requires skill `i % skills`; every agent
    /// has distinct random skills at random levels and is a member of every
    /// queue whose skill it has.
    pub(crate) fn generate(cfg: &RoutingBenchConfig, rng: &mut Rng) -> Workload {
        let skills = cfg.skills;
        let max_skills = cfg.max_skills_per_agent.min(skills);
        let min_skills = cfg.min_skills_per_agent.min(max_skills);

        // Agents' skills: (skill, level), distinct skills.
        let mut agent_skills: Vec<Vec<(u32, u8)>> = Vec::with_capacity(cfg.agents as usize);
        for _ in 0..cfg.agents {
            let k = min_skills + rng.below(u64::from(max_skills - min_skills + 1)) as u32;
            let mut own: Vec<(u32, u8)> = Vec::with_capacity(k as usize);
            while own.len() < k as usize {
                let s = rng.below(u64::from(skills)) as u32;
                if own.iter().all(|(x, _)| *x != s) {
                    own.push((s, 1 + rng.below(10) as u8));
                }
            }
            agent_skills.push(own);
        }
        // Every skill a queue requires must be held by someone.
        for q in 0..cfg.queues {
            let s = q % skills;
            if !agent_skills.iter().any(|own| own.iter().any(|(x, _)| *x == s)) {
                let a = (q % cfg.agents) as usize;
                agent_skills[a].push((s, 1 + rng.below(10) as u8));
            }
        }
        // Best level held per skill (a two-step queue needs an expert).
        let mut best_level = vec![0u8; skills as usize];
        for own in &agent_skills {
            for (s, l) in own {
                best_level[*s as usize] = best_level[*s as usize].max(*l);
            }
        }

        // Which queues get two steps, a priority boost, after-call work:
        // fixed shares (at least one of each in centers big enough), on
        // queues drawn at random.
        let share = |p: f64, min_queues: u32| {
            if cfg.queues < min_queues { 0 } else { ((f64::from(cfg.queues) * p).round() as u32).max(1) }
        };
        let two_step = pick(rng, cfg.queues, share(TWO_STEP_SHARE, 2));
        let boosted = pick(rng, cfg.queues, share(PRIORITY_SHARE, 3));
        let wrapped = pick(rng, cfg.queues, share(WRAP_UP_SHARE, 2));

        let mut queues = Vec::with_capacity(cfg.queues as usize);
        let mut cumulative_weight = Vec::with_capacity(cfg.queues as usize);
        let (mut two_step_queues, mut priority_queues, mut wrap_up_queues) = (0, 0, 0);
        let mut total = 0.0;
        for i in 0..cfg.queues {
            let skill = skill_name(i % skills);
            let mut q = QueueConfig::new(queue_id(i), format!("queue{i:03}"));
            let req = |min_level| Condition {
                skills: vec![SkillReq { skill: skill.clone(), min_level }],
                ..Condition::default()
            };
            if two_step[i as usize] && best_level[(i % skills) as usize] >= EXPERT_LEVEL {
                two_step_queues += 1;
                q.steps.push(RoutingStep { condition: req(EXPERT_LEVEL), timeout_ms: Some(EXPERT_STEP_MS) });
            }
            q.steps.push(RoutingStep { condition: req(1), timeout_ms: None });
            if boosted[i as usize] {
                priority_queues += 1;
                q.priority = PRIORITY_BOOST;
            }
            if wrapped[i as usize] {
                wrap_up_queues += 1;
                q.wrap_up_ms = WRAP_UP_MS;
            }
            queues.push(q);
            total += rng.lognormal(1.0, WEIGHT_CV);
            cumulative_weight.push(total);
        }

        let agents = agent_skills
            .iter()
            .enumerate()
            .map(|(i, own)| {
                let i = i as u32;
                let mut a = AgentConfig::new(agent_id(i), format!("agent{i:05}"), &[]);
                a.skills = own.iter().map(|(s, l)| AgentSkill { skill: skill_name(*s), level: *l }).collect();
                let mut memberships: Vec<u32> =
                    own.iter().flat_map(|(s, _)| (*s..cfg.queues).step_by(skills as usize)).collect();
                memberships.sort_unstable();
                a.queues = memberships.into_iter().map(|q| Membership::of(queue_id(q))).collect();
                a
            })
            .collect();

        let settings = Settings { seed: cfg.seed, ..Settings::default() };
        Workload {
            config: EngineConfig { settings, queues, agents },
            cumulative_weight,
            two_step_queues,
            priority_queues,
            wrap_up_queues,
        }
    }

    /// A queue drawn by arrival weight.
    pub(crate) fn pick_queue(&self, rng: &mut Rng) -> QueueId {
        let total = self.cumulative_weight.last().copied().unwrap_or(0.0);
        let x = rng.next_f64() * total;
        let i = self.cumulative_weight.partition_point(|w| *w <= x);
        queue_id(i.min(self.cumulative_weight.len().saturating_sub(1)) as u32)
    }
}

/// `k` of `n` flags set, on positions drawn at random.
fn pick(rng: &mut Rng, n: u32, k: u32) -> Vec<bool> {
    let mut order: Vec<u32> = (0..n).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut flags = vec![false; n as usize];
    for q in order.into_iter().take(k as usize) {
        flags[q as usize] = true;
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_center_is_valid_and_shaped_as_asked() {
        let cfg = RoutingBenchConfig { agents: 300, skills: 20, queues: 40, ..Default::default() };
        let w = Workload::generate(&cfg, &mut Rng::new(3));
        assert!(w.config.validate().is_empty(), "{:?}", w.config.validate());
        assert_eq!(w.config.queues.len(), 40);
        assert_eq!(w.config.agents.len(), 300);
        for a in &w.config.agents {
            assert!((1..=8).contains(&a.skills.len()) || a.skills.len() == 9);
            // Members exactly of the queues of their skills.
            for m in &a.queues {
                let skill = skill_name((m.queue.0 - 1) % 20);
                assert!(a.skills.iter().any(|s| s.skill == skill));
            }
        }
        assert_eq!((w.two_step_queues, w.priority_queues, w.wrap_up_queues), (8, 2, 20));
    }
}
