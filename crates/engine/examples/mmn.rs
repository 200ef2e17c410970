//! Throughput check: an M/M/n+M queue driven straight through the engine.
use engine::rng::Rng;
use engine::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

fn main() {
    let n_calls: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let agents = 100u32;
    let aht = 180_000.0;
    let lambda_per_ms = 0.95 * agents as f64 / aht;
    let patience = 300_000.0;
    let mut cfg = EngineConfig::default();
    cfg.queues.push(QueueConfig::new(QueueId(0), "q"));
    for i in 0..agents {
        let mut a = AgentConfig::new(AgentId(i), "a", &[QueueId(0)]);
        a.auto_answer = true;
        cfg.agents.push(a);
    }
    let mut e = Engine::new(cfg).expect("valid config");
    let mut out = Vec::new();
    for i in 0..agents {
        e.handle(Time(0), Input::Login { agent: AgentId(i) }, &mut out).expect("login");
    }
    out.clear();
    let mut rng = Rng::new(1);
    // sim events: (time, kind, id) kind 0 arrival, 1 hangup, 2 abandon
    let mut done = vec![false; n_calls as usize + 1];
    let mut heap: BinaryHeap<Reverse<(u64, u8, u64)>> = BinaryHeap::new();
    heap.push(Reverse((0, 0, 0)));
    let mut answered = 0u64;
    let mut abandoned = 0u64;
    let mut events = 0u64;
    let mut arrivals = 0u64;
    let start = std::time::Instant::now();
    loop {
        let next_sim = heap.peek().map(|r| r.0.0);
        let next_eng = e.next_deadline().map(|t| t.0);
        let (t, input) = match (next_sim, next_eng) {
            (None, None) => break,
            (Some(s), Some(g)) if g < s => (g, Input::Tick),
            (None, Some(g)) => (g, Input::Tick),
            (Some(_), _) => {
                let Reverse((t, k, id)) = heap.pop().expect("peeked");
                match k {
                    0 => {
                        arrivals += 1;
                        if arrivals < n_calls {
                            let gap = rng.exp(1.0 / lambda_per_ms) as u64;
                            heap.push(Reverse((t + gap, 0, arrivals)));
                        }
                        heap.push(Reverse((t + rng.exp(patience) as u64, 2, id)));
                        (t, Input::Arrive { contact: ContactSpec::new(ContactId(id), QueueId(0)) })
                    }
                    1 => (t, Input::Hangup { contact: ContactId(id), by: Party::Customer }),
                    _ => {
                        if done[id as usize] {
                            continue;
                        }
                        (t, Input::Abandon { contact: ContactId(id) })
                    }
                }
            }
        };
        let _ = e.handle(Time(t), input, &mut out);
        for o in out.drain(..) {
            events += 1;
            match o {
                Output::Event(EventRecord { event: Event::ContactAnswered { contact, .. }, .. }) => {
                    done[contact.0 as usize] = true;
                    answered += 1;
                    heap.push(Reverse((t + rng.exp(aht) as u64, 1, contact.0)));
                }
                Output::Event(EventRecord { event: Event::ContactAbandoned { .. }, .. }) => abandoned += 1,
                _ => {}
            }
        }
    }
    let el = start.elapsed();
    println!(
        "{n_calls} calls: {:?}, answered {answered}, abandoned {abandoned}, events {events}, {:.0} calls/s",
        el,
        n_calls as f64 / el.as_secs_f64()
    );
}
