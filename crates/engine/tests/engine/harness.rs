//! A small driver for scenario tests: feeds inputs, keeps every output,
//! checks the engine's invariants after every step and, at the end, that
//! replaying the event log rebuilds the same state.

#![allow(dead_code)]

use engine::*;

pub struct World {
    pub engine: Engine,
    pub now: Time,
    pub log: Vec<EventRecord>,
    pub commands: Vec<Command>,
    settings: Settings,
}

pub fn q(id: u32) -> QueueId {
    QueueId(id)
}
pub fn a(id: u32) -> AgentId {
    AgentId(id)
}
pub fn c(id: u64) -> ContactId {
    ContactId(id)
}

impl World {
    pub fn new(config: EngineConfig) -> World {
        let settings = config.settings.clone();
        let mut out = Vec::new();
        let engine = Engine::start(config, Time(0), &mut out).expect("valid config");
        let mut w = World { engine, now: Time(0), log: Vec::new(), commands: Vec::new(), settings };
        w.absorb(out);
        w
    }

    fn absorb(&mut self, out: Vec<Output>) {
        for o in out {
            match o {
                Output::Event(e) => self.log.push(e),
                Output::Command(c) => self.commands.push(c),
            }
        }
    }

    /// Advance the clock to `t` milliseconds, firing timers on the way.
    pub fn at(&mut self, t: u64) -> &mut Self {
        assert!(t >= self.now.0, "time goes forward");
        while let Some(d) = self.engine.next_deadline() {
            if d.0 > t {
                break;
            }
            self.step(d, Input::Tick).expect("tick");
        }
        self.now = Time(t);
        self
    }

    pub fn step(&mut self, now: Time, input: Input) -> Result<(), EngineError> {
        let mut out = Vec::new();
        let r = self.engine.handle(now, input, &mut out);
        self.absorb(out);
        if let Err(e) = self.engine.check_invariants(now) {
            let tail: Vec<String> = self.log[self.log.len().saturating_sub(16)..]
                .iter()
                .map(|r| format!("{} {} {:?}", r.seq, r.at, r.event))
                .collect();
            panic!("invariant broken at {now}: {e}\nlast events:\n{}", tail.join("\n"));
        }
        r
    }

    pub fn input(&mut self, input: Input) -> Result<(), EngineError> {
        let now = self.now;
        self.step(now, input)
    }

    pub fn ok(&mut self, input: Input) -> &mut Self {
        let dbg = format!("{input:?}");
        if let Err(e) = self.input(input) {
            panic!("{dbg} refused: {e}");
        }
        self
    }

    pub fn login(&mut self, agents: &[u32]) -> &mut Self {
        for id in agents {
            self.ok(Input::Login { agent: a(*id) });
        }
        self
    }

    pub fn arrive(&mut self, id: u64, queue: u32) -> &mut Self {
        self.ok(Input::Arrive { contact: ContactSpec::new(c(id), q(queue)) })
    }

    pub fn arrive_spec(&mut self, spec: ContactSpec) -> &mut Self {
        self.ok(Input::Arrive { contact: spec })
    }

    pub fn accept(&mut self, contact: u64, agent: u32) -> &mut Self {
        self.ok(Input::Accept { contact: c(contact), agent: a(agent) })
    }

    pub fn hangup(&mut self, contact: u64) -> &mut Self {
        self.ok(Input::Hangup { contact: c(contact), by: Party::Customer })
    }

    /// The agent the contact is currently offered to (single offer).
    pub fn offered_to(&self, contact: u64) -> Option<u32> {
        match self.engine.contact_view(c(contact))?.phase {
            ContactPhase::Offered { agents } if agents.len() == 1 => Some(agents[0].0),
            _ => None,
        }
    }

    pub fn offered_agents(&self, contact: u64) -> Vec<u32> {
        match self.engine.contact_view(c(contact)).map(|v| v.phase) {
            Some(ContactPhase::Offered { agents }) => agents.iter().map(|a| a.0).collect(),
            _ => Vec::new(),
        }
    }

    pub fn state(&self, agent: u32) -> AgentState {
        self.engine.agent_view(a(agent)).expect("agent").state
    }

    pub fn is_waiting(&self, contact: u64) -> bool {
        matches!(self.engine.contact_view(c(contact)).map(|v| v.phase), Some(ContactPhase::Waiting { .. }))
    }

    pub fn events_named(&self, name: &str) -> Vec<&Event> {
        self.log.iter().map(|r| &r.event).filter(|e| e.name() == name).collect()
    }

    /// Offer + accept in one go; panics if the contact is not offered to `agent`.
    pub fn answer(&mut self, contact: u64, agent: u32) -> &mut Self {
        assert_eq!(self.offered_to(contact), Some(agent), "contact {contact} should be offered to agent {agent}");
        self.accept(contact, agent)
    }

    /// A copy of this world (log, commands, clock) driving `engine` instead
    /// (an engine restored from a snapshot of this one).
    pub fn with_engine(&self, engine: Engine) -> World {
        World {
            engine,
            now: self.now,
            log: self.log.clone(),
            commands: self.commands.clone(),
            settings: self.settings.clone(),
        }
    }

    /// The settings the world's engine runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The replayed engine equals the live one.
    pub fn check_replay(&self) {
        let replayed = Engine::replay(self.settings.clone(), &self.log);
        assert_eq!(replayed.snapshot(self.now), self.engine.snapshot(self.now), "replay differs");
        // The log survives a JSON round trip unchanged.
        let json = serde_json::to_string(&self.log).expect("serialise");
        let back: Vec<EventRecord> = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, self.log);
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check_replay();
        }
    }
}

/// A queue with defaults and a given strategy.
pub fn queue(id: u32, name: &str) -> QueueConfig {
    QueueConfig::new(q(id), name)
}

/// An agent serving the given queues.
pub fn agent(id: u32, queues: &[u32]) -> AgentConfig {
    let qs: Vec<QueueId> = queues.iter().map(|x| q(*x)).collect();
    AgentConfig::new(a(id), format!("agent{id}"), &qs)
}

pub fn config(queues: Vec<QueueConfig>, agents: Vec<AgentConfig>) -> EngineConfig {
    EngineConfig { settings: Settings::default(), queues, agents }
}
