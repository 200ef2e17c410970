//! The demo company: a sample call center (queues with skills routing,
//! agents, users of every role, a few hundred customers) and its simulated
//! callers and agents, so the wallboard is alive while a person signs in as
//! a real agent and takes contacts alongside the simulated ones.

use crate::AppState;
use crate::auth;
use crate::error::ApiResult;
use crate::hub::AgentMsg;
use engine::rng::Rng;
use engine::{
    AgentConfig, AgentId, Condition, ContactId, EngineConfig, Input, Party, QueueConfig, QueueId, RoutingStep, SkillReq,
};
use std::sync::Arc;
use std::time::Duration;
use store::{AccountStore, ConfigStore, CustomerData, CustomerSegment, CustomerStore, NewUser, Role, WrapUp};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "switchboard";
/// Ids of simulated agents start here (humans' agents are 1 and 2).
pub const SIM_AGENT_BASE: u32 = 101;

/// How busy the demo is.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Simulated agents.
    pub agents: u32,
    /// Calls per minute.
    pub calls_per_minute: f64,
    /// Mean talk time, seconds.
    pub talk_seconds: f64,
    /// Mean patience of callers, seconds.
    pub patience_seconds: f64,
    /// Customers to create.
    pub customers: u32,
    /// Random seed.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            agents: 24,
            calls_per_minute: 16.0,
            talk_seconds: 60.0,
            patience_seconds: 150.0,
            customers: 300,
            seed: 7,
        }
    }
}

const QUEUES: [(u32, &str, &str); 3] =
    [(1, "Sales 销售", "sales"), (2, "Support 技术支持", "support"), (3, "Billing 账务", "billing")];

fn queue(id: u32, name: &str, skill: &str) -> QueueConfig {
    let mut q = QueueConfig::new(QueueId(id), name);
    // Experts first; after 20 s anyone with the skill; after 60 s any member.
    q.steps = vec![
        RoutingStep {
            condition: Condition {
                skills: vec![SkillReq { skill: skill.into(), min_level: 7 }],
                ..Condition::default()
            },
            timeout_ms: Some(20_000),
        },
        RoutingStep {
            condition: Condition {
                skills: vec![SkillReq { skill: skill.into(), min_level: 1 }],
                ..Condition::default()
            },
            timeout_ms: Some(60_000),
        },
    ];
    q.wrap_up_ms = 30_000;
    q.offer_timeout_ms = 20_000;
    q.sticky_agent_ms = Some(15_000);
    q
}

const SURNAMES: [&str; 12] =
    ["王", "李", "张", "刘", "陈", "杨", "Smith", "Garcia", "Müller", "Rossi", "Tanaka", "Kim"];
const GIVEN: [&str; 12] = ["伟", "芳", "娜", "敏", "静", "强", "Anna", "Luis", "Emma", "Marco", "Yuki", "Jin"];

/// The demo's customers: deterministic names and numbers.
pub fn customer(i: u32) -> CustomerData {
    let s = SURNAMES[(i as usize * 7) % SURNAMES.len()];
    let g = GIVEN[(i as usize * 5 + 3) % GIVEN.len()];
    let name = if s.is_ascii() || s.starts_with('M') { format!("{g} {s}") } else { format!("{s}{g}") };
    let segment = match i % 10 {
        0 => CustomerSegment::Vip,
        1..=3 => CustomerSegment::New,
        _ => CustomerSegment::Returning,
    };
    let mut attributes = serde_json::Map::new();
    attributes.insert("city".into(), ["北京", "上海", "广州", "深圳", "Berlin", "Madrid"][i as usize % 6].into());
    attributes.insert("plan".into(), ["basic", "plus", "business"][i as usize % 3].into());
    CustomerData {
        name,
        phones: vec![demo_phone(i)],
        emails: vec![format!("customer{i}@example.com")],
        segment,
        attributes,
    }
}

/// The phone number of demo customer `i`.
pub fn demo_phone(i: u32) -> String {
    format!("+86138{:08}", 10_000_000 + i)
}

/// Fill an empty store with the demo company. Does nothing when users exist.
pub async fn seed(store: &store::Store, opts: &DemoOptions) -> ApiResult<bool> {
    if !store.users(None).await?.is_empty() {
        return Ok(false);
    }
    let north = store.create_team("North 华北").await?;
    let south = store.create_team("South 华南").await?;
    let queues: Vec<QueueConfig> = QUEUES.iter().map(|&(id, name, skill)| queue(id, name, skill)).collect();
    let all: Vec<QueueId> = queues.iter().map(|q| q.id).collect();
    let mut agents = Vec::new();
    for (i, (login, name)) in [("agent1", "Ana Li 李安娜"), ("agent2", "Bo Chen 陈波")].iter().enumerate() {
        let mut a = AgentConfig::new(AgentId(i as u32 + 1), *name, &all)
            .with_skill("sales", 8)
            .with_skill("support", 8)
            .with_skill("billing", 8);
        a.team = Some(north.name.clone());
        a.attributes = vec!["experienced".into()];
        agents.push(a);
        let hash = auth::hash_password_async(DEMO_PASSWORD.into()).await?;
        store
            .create_user(&NewUser {
                login: (*login).into(),
                display_name: (*name).into(),
                password_hash: hash,
                role: Role::Agent,
                team_id: Some(north.id),
                agent_id: Some(AgentId(i as u32 + 1)),
            })
            .await?;
    }
    for i in 0..opts.agents {
        let id = SIM_AGENT_BASE + i;
        let mut a = AgentConfig::new(AgentId(id), format!("Sim {:02}", i + 1), &all);
        // Each simulated agent is strong in one skill and fair in another.
        let (strong, fair) = (QUEUES[i as usize % 3].2, QUEUES[(i as usize + 1) % 3].2);
        a = a.with_skill(strong, 6 + (i % 5) as u8).with_skill(fair, 3);
        a.team = Some(if i % 2 == 0 { north.name.clone() } else { south.name.clone() });
        agents.push(a);
    }
    let config = EngineConfig { settings: engine::Settings::default(), queues, agents };
    store.save_engine_config(&config).await?;
    for (login, name, role) in [
        ("admin", "Admin 管理员", Role::Admin),
        ("supervisor", "Sam Supervisor 主管", Role::Supervisor),
        ("planner", "Pat Planner 排班", Role::Planner),
        ("qa", "Quinn QA 质检", Role::Qa),
    ] {
        let hash = auth::hash_password_async(DEMO_PASSWORD.into()).await?;
        let user = NewUser {
            login: login.into(),
            display_name: name.into(),
            password_hash: hash,
            role,
            team_id: Some(north.id),
            agent_id: None,
        };
        store.create_user(&user).await?;
    }
    let rows: Vec<(Option<String>, CustomerData)> =
        (0..opts.customers).map(|i| (Some(format!("cust-{i:04}")), customer(i))).collect();
    store.upsert_customers(&rows).await?;
    Ok(true)
}

/// Start the simulated agents and callers.
pub async fn simulate(app: Arc<AppState>, opts: DemoOptions) {
    let sims: Vec<AgentId> = app
        .live
        .read(|e, _, _| e.agent_views().into_iter().map(|a| a.id).filter(|a| a.0 >= SIM_AGENT_BASE).collect())
        .await
        .unwrap_or_default();
    for (n, agent) in sims.into_iter().enumerate() {
        tokio::spawn(sim_agent(app.clone(), agent, opts.clone(), opts.seed ^ ((n as u64 + 1) * 0x9e37)));
    }
    tokio::spawn(callers(app, opts));
}

async fn sleep_s(s: f64) {
    tokio::time::sleep(Duration::from_millis((s.max(0.0) * 1000.0) as u64)).await;
}

async fn sim_agent(app: Arc<AppState>, agent: AgentId, opts: DemoOptions, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut rx = app.live.hub().subscribe_agent(agent);
    // Whatever the agent was doing before a restart, start clean.
    let _ = app.live.input(Input::Login { agent }).await;
    let _ = app.live.input(Input::Ready { agent }).await;
    let codes = app.desk().wrap_up_codes;
    while let Some(msg) = rx.recv().await {
        let AgentMsg::Offer(offer) = msg else { continue };
        let contact = offer.contact;
        sleep_s(1.0 + rng.next_f64() * 3.0).await;
        if app.live.input(Input::Accept { contact, agent }).await.is_err() {
            continue;
        }
        // Consulted by a colleague: talk until they hand the customer over
        // (then serve the customer as usual) or call it off.
        if offer.consult_from.is_some() && !consultation_completed(&mut rx, contact).await {
            continue;
        }
        sleep_s(rng.exp(opts.talk_seconds).clamp(8.0, 600.0)).await;
        if app.live.input(Input::Hangup { contact, by: Party::Agent }).await.is_err() {
            continue;
        }
        sleep_s(3.0 + rng.next_f64() * 8.0).await;
        let code = codes.get(rng.below(codes.len().max(1) as u64) as usize).cloned().unwrap_or_default();
        let w = WrapUp { disposition: code, need: "demo".into(), ..WrapUp::default() };
        let _ = app.store.set_wrap_up(contact, &w).await;
        let _ = app.live.input(Input::EndWrapUp { contact, agent }).await;
        if rng.next_f64() < 0.05 {
            let _ = app.live.input(Input::NotReady { agent, reason: "break".into() }).await;
            sleep_s(30.0 + rng.next_f64() * 60.0).await;
            let _ = app.live.input(Input::Ready { agent }).await;
        }
        // Drain offers that came while busy (they were withdrawn meanwhile).
        while rx.try_recv().is_ok() {}
    }
}

async fn callers(app: Arc<AppState>, opts: DemoOptions) {
    let mut rng = Rng::new(opts.seed);
    let mean_gap = 60.0 / opts.calls_per_minute.max(0.01);
    loop {
        sleep_s(rng.exp(mean_gap)).await;
        let queue = QueueId(match rng.below(10) {
            0..=3 => 2,
            4..=6 => 1,
            _ => 3,
        });
        let caller = if rng.next_f64() < 0.8 {
            demo_phone(rng.below(u64::from(opts.customers.max(1))) as u32)
        } else {
            format!("+86139{:08}", rng.below(100_000_000))
        };
        let lang = if rng.next_f64() < 0.7 { "zh" } else { "en" };
        let problem = ["order", "invoice", "login", "delivery", "refund"][rng.below(5) as usize];
        match crate::api::contacts::inject(&app, queue, Some(caller), Some(lang.into()), Some(problem.into())).await {
            Ok(id) => {
                let patience = rng.exp(opts.patience_seconds);
                let live = app.live.clone();
                tokio::spawn(async move {
                    sleep_s(patience).await;
                    abandon_if_waiting(&live, id).await;
                });
            }
            Err(e) => tracing::warn!("demo caller: {e}"),
        }
    }
}

async fn abandon_if_waiting(live: &crate::live::Live, id: ContactId) {
    let waiting = live
        .read(move |e, _, _| {
            e.contact_view(id).is_some_and(|c| {
                matches!(c.phase, engine::ContactPhase::Waiting { .. } | engine::ContactPhase::Offered { .. })
            })
        })
        .await
        .unwrap_or(false);
    if waiting {
        let _ = live.input(Input::Abandon { contact: id }).await;
    }
}

/// Wait for the end of the consultation about `contact`: whether the
/// customer was handed over.
async fn consultation_completed(rx: &mut tokio::sync::mpsc::Receiver<AgentMsg>, contact: ContactId) -> bool {
    while let Some(msg) = rx.recv().await {
        if let AgentMsg::Event(rec) = msg
            && let engine::Event::ConsultEnded { contact: c, outcome, .. } = &rec.event
            && *c == contact
        {
            return *outcome == engine::ConsultOutcome::Completed;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_customers_are_valid() {
        for i in 0..300 {
            customer(i).normalised().unwrap();
        }
        assert_ne!(demo_phone(1), demo_phone(2));
    }
}
