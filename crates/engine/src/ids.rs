//! Identifiers and time. Every id is chosen by the driver (the server uses
//! database ids, the simulator counters), so events can be joined with
//! stored records without a mapping table.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// An agent (a person who handles contacts). Ids should be small and
    /// dense: the engine stores agents in a vector indexed by id.
    AgentId,
    u32,
    "agent#"
);
id_type!(
    /// A queue. Ids should be small and dense, like agent ids.
    QueueId,
    u32,
    "queue#"
);
id_type!(
    /// A contact (a call, callback, chat or e-mail). Keeps its id through
    /// transfers, overflows and callback conversion.
    ContactId,
    u64,
    "contact#"
);

/// A point in time in milliseconds. The live driver uses milliseconds since
/// the Unix epoch; the simulator uses milliseconds since the start of the
/// simulated day. The engine never reads a clock: every input carries `now`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    /// Milliseconds elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Time) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This time plus `ms` milliseconds (saturating).
    pub fn plus(self, ms: u64) -> Time {
        Time(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}
