//! What a connection may do (message size, idle time) and how many may be open: one budget
//! for every stream listener, kept below the process's descriptor limit, which serve raises
//! to its hard limit at start.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// The settings a stream connection runs with (instead of the whole server configuration).
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Longest message kept; longer ones are cut and counted.
    pub max_message: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
}

/// Descriptors kept back from the connection budget: the store's files, UDP sockets,
/// listeners, query connections, the TLS files on reload.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// Raises the soft descriptor limit to the hard one; returns the soft limit now in force.
pub fn raise_descriptor_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}

/// The connection budget: what was configured, but never so many that the open connections
/// could use up the descriptors (then `accept` fails and the listeners would spin).
pub fn connection_budget(configured: usize, descriptors: u64) -> usize {
    let room = descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(1);
    configured
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(1)
}

/// Slots shared by every TCP and TLS listener.
pub type ConnectionSlots = Arc<Semaphore>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stays_below_the_descriptor_limit() {
        assert_eq!(connection_budget(10_000, 1024), 768);
        assert_eq!(connection_budget(100, 1024), 100);
        assert_eq!(connection_budget(10_000, 100), 1);
        assert!(raise_descriptor_limit() >= 1);
    }
}
