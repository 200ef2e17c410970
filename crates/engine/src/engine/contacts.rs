//! Live contacts by id, without hashing on the hot path.
//!
//! Contacts sit in reused slots. Drivers hand out contact ids in increasing
//! order and contacts end roughly in arrival order, so the slot of an id is
//! found in a window indexed by `id - base`; ids the window does not cover
//! (stragglers that outlived it, ids far ahead of it) are found in a map.
//! Iteration order is unspecified, as with a hash map.

use super::state::{Contact, FastMap};
use crate::ids::ContactId;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// No slot.
const NONE: u32 = u32::MAX;
/// Largest jump ahead of the window that still extends it; a bigger one goes to the map.
const MAX_GAP: u64 = 64;
/// The window may cover this many ids whatever the number of live contacts in it.
const MIN_SPAN: usize = 4096;
/// Beyond `MIN_SPAN`, the window covers at most this many ids per live
/// contact in it; older ones move to the map (bounds memory when a contact
/// lives very long).
const SPAN_PER_LIVE: usize = 16;

/// Live contacts by id.
#[derive(Default, Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Contacts {
    slots: Vec<Option<Contact>>,
    free: Vec<u32>,
    /// Id of `window[0]`.
    base: u64,
    /// Slot of each id from `base` on, or `NONE`.
    window: VecDeque<u32>,
    /// Ids in `window` that have a slot.
    in_window: usize,
    /// Slots of ids outside `base..base + window.len()`.
    far: FastMap<ContactId, u32>,
}

impl Contacts {
    fn find(&self, id: ContactId) -> Option<u32> {
        let i = id.0.wrapping_sub(self.base);
        if i < self.window.len() as u64 {
            let s = self.window[i as usize];
            (s != NONE).then_some(s)
        } else if self.far.is_empty() {
            None
        } else {
            self.far.get(&id).copied()
        }
    }

    pub(crate) fn get(&self, id: &ContactId) -> Option<&Contact> {
        let s = self.find(*id)?;
        self.slots.get(s as usize).and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, id: &ContactId) -> Option<&mut Contact> {
        let s = self.find(*id)?;
        self.slots.get_mut(s as usize).and_then(Option::as_mut)
    }

    pub(crate) fn contains_key(&self, id: &ContactId) -> bool {
        self.find(*id).is_some()
    }

    pub(crate) fn insert(&mut self, id: ContactId, c: Contact) {
        if let Some(s) = self.find(id) {
            self.slots[s as usize] = Some(c);
            return;
        }
        let s = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(c);
                s
            }
            None => {
                self.slots.push(Some(c));
                (self.slots.len() - 1) as u32
            }
        };
        let i = id.0.wrapping_sub(self.base);
        if i < self.window.len() as u64 {
            self.window[i as usize] = s;
            self.in_window += 1;
            return;
        }
        if self.in_window == 0 {
            // The window is empty: start it here.
            self.window.clear();
            self.base = id.0;
        }
        let gap = id.0.wrapping_sub(self.base).wrapping_sub(self.window.len() as u64);
        if id.0 < self.base || gap >= MAX_GAP {
            self.far.insert(id, s);
            return;
        }
        // Extend the window up to `id`; ids it now covers leave the map.
        for _ in 0..gap {
            let next = ContactId(self.base + self.window.len() as u64);
            let moved = if self.far.is_empty() { None } else { self.far.remove(&next) };
            self.in_window += usize::from(moved.is_some());
            self.window.push_back(moved.unwrap_or(NONE));
        }
        self.window.push_back(s);
        self.in_window += 1;
        self.shrink();
    }

    /// Remove (and drop) a contact; false if there was none.
    pub(crate) fn remove(&mut self, id: &ContactId) -> bool {
        let i = id.0.wrapping_sub(self.base);
        let s = if i < self.window.len() as u64 {
            let s = std::mem::replace(&mut self.window[i as usize], NONE);
            if s == NONE {
                return false;
            }
            self.in_window -= 1;
            self.trim_front();
            s
        } else {
            match self.far.remove(id) {
                Some(s) => s,
                None => return false,
            }
        };
        self.slots[s as usize] = None;
        self.free.push(s);
        true
    }

    /// Drop empty ids at the front.
    fn trim_front(&mut self) {
        while self.window.front() == Some(&NONE) {
            self.window.pop_front();
            self.base += 1;
        }
    }

    /// Move the oldest ids to the map while the window is sparse.
    fn shrink(&mut self) {
        while self.window.len() > MIN_SPAN && self.window.len() > SPAN_PER_LIVE * self.in_window {
            if let Some(s) = self.window.pop_front()
                && s != NONE
            {
                self.in_window -= 1;
                self.far.insert(ContactId(self.base), s);
            }
            self.base += 1;
            self.trim_front();
        }
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Contact> {
        self.slots.iter().flatten()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &ContactId> {
        self.values().map(|c| &c.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Channel;
    use crate::contact::Segment;
    use crate::engine::state::{Phase, Plan};
    use crate::ids::{QueueId, Time};

    fn contact(id: u64) -> Contact {
        Contact {
            id: ContactId(id),
            channel: Channel::Voice,
            queue: QueueId(0),
            base_priority: 0,
            priority: 0,
            segment: Segment::Unknown,
            preferred: None,
            req: None,
            callback_number: None,
            waiting_since: Time(0),
            entered_at: Time(0),
            step: 0,
            step_entered: Time(0),
            plan: Plan::Unset,
            phase: Phase::Transit,
            epoch: 0,
            callback: None,
            overflow_hops: 0,
            talk_start: Time(0),
            hold_ms: 0,
            consult: None,
            only_agent: None,
        }
    }

    /// Same answers as a map under inserts and removes in any id order.
    #[test]
    fn behaves_like_a_map() {
        let mut t = Contacts::default();
        let mut m = std::collections::BTreeMap::new();
        let mut x: u64 = 12345;
        for step in 0..30_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly increasing ids, some far jumps, some old ones.
            let id = match x % 16 {
                0 => x >> 40,
                1 => step.saturating_sub(x % 5000),
                2..=8 => step,
                _ => step.saturating_sub(x % 300),
            };
            if x.is_multiple_of(3) || m.contains_key(&id) {
                assert_eq!(t.remove(&ContactId(id)), m.remove(&id).is_some());
            } else {
                t.insert(ContactId(id), contact(id));
                m.insert(id, id);
                assert!(t.window.len() <= MIN_SPAN.max(SPAN_PER_LIVE * t.in_window));
            }
            assert_eq!(t.get(&ContactId(id)).is_some(), m.contains_key(&id));
            assert!(t.in_window > 0 || t.window.is_empty());
            if step.is_multiple_of(64) {
                assert_eq!(t.in_window, t.window.iter().filter(|s| **s != NONE).count());
                assert_eq!(t.slots.iter().flatten().count(), m.len());
            }
        }
        let mut keys: Vec<u64> = t.keys().map(|k| k.0).collect();
        keys.sort_unstable();
        assert_eq!(keys, m.keys().copied().collect::<Vec<_>>());
        for k in m.keys() {
            assert_eq!(t.get(&ContactId(*k)).map(|c| c.id.0), Some(*k));
        }
    }

    /// A contact that outlives many others moves to the map; the window stays small.
    #[test]
    fn long_lived_contact_moves_out_of_the_window() {
        let mut t = Contacts::default();
        t.insert(ContactId(0), contact(0));
        for id in 1..100_000 {
            t.insert(ContactId(id), contact(id));
            assert!(t.remove(&ContactId(id)));
            assert!(t.window.len() <= MIN_SPAN + 1);
        }
        assert_eq!(t.get(&ContactId(0)).map(|c| c.id), Some(ContactId(0)));
        assert_eq!(t.slots.len(), 2);
        // Ids far ahead go to the map and come back into the window as it reaches them.
        t.insert(ContactId(200_000), contact(200_000));
        t.insert(ContactId(100_000), contact(100_000));
        for id in 100_001..200_000 {
            t.insert(ContactId(id), contact(id));
            assert!(t.remove(&ContactId(id)));
        }
        assert_eq!(t.get(&ContactId(200_000)).map(|c| c.id), Some(ContactId(200_000)));
        assert!(t.remove(&ContactId(0)) && t.remove(&ContactId(100_000)) && t.remove(&ContactId(200_000)));
        assert!(t.far.is_empty() && t.window.is_empty() && t.values().next().is_none());
    }
}
