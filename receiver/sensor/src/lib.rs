//! picket-sensor: the incident book. Pure code (no sockets, no disk, no clock): it folds
//! parsed events into one [`Candidate`] per attacking source, decides class and score over
//! sliding windows on the events' own time, applies the noise policy, keeps the lifecycle,
//! bounds its memory, and reports every [`Change`] the receiver must persist or publish.
//!
//! How the receiver drives it:
//! 1. For each parsed event: `book.key_for(&event)`; if the key is not in memory but in the
//!    store's `incidents` tree, decode it ([`decode_candidate`]) and [`IncidentBook::restore`]
//!    it; then [`IncidentBook::fold`] with the receive time and the event's store key.
//! 2. After each batch: for every key of [`IncidentBook::take_touched`], encode the candidate
//!    ([`encode_candidate`]) into the same sled batch as the events; write each
//!    [`Change::Evicted`] candidate too, and publish the published changes to `watch`.
//! 3. `picket mark`: [`IncidentBook::mark`] (restore first if evicted). Block expiry:
//!    [`IncidentBook::expire`] with the wall clock now and then, and at each new event time.
//! 4. At the end of an import or rebuild: [`IncidentBook::settle`].
//! 5. Sources known only by host name (`refused connect from 7dyn94.ztm.casema.net`): such
//!    events get a name key ([`SourceKey::is_name`], shown and stored as the name). After a
//!    batch, [`IncidentBook::names_to_resolve`] gives the names to look up (each once); when
//!    an answer comes, restore the stored candidates of the name and of the address (if in
//!    the store), then [`IncidentBook::resolved`]: the name's candidate merges into the
//!    address's ([`Change::Merged`], published) and the name's stored record goes
//!    ([`Change::Removed`]: delete it). Later events under the name get the address's key.
//!
//! ```
//! use picket_parsers::{parse_line, ParseContext};
//! use picket_sensor::{IncidentBook, SensorConfig, EventRef, Class};
//! let mut book = IncidentBook::new(SensorConfig::default());
//! let mut changes = Vec::new();
//! let ctx = ParseContext::new(1_700_000_000);
//! for line in [
//!     "Jul 20 14:42:11 gw sshd[1]: Failed password for root from 203.0.113.5 port 4242 ssh2",
//!     "Jul 20 14:42:12 gw sshd[1]: Failed password for root from 203.0.113.5 port 4243 ssh2",
//!     "Jul 20 14:42:13 gw sshd[1]: Failed password for root from 203.0.113.5 port 4244 ssh2",
//!     "Jul 20 14:42:14 gw sshd[1]: Failed password for root from 203.0.113.5 port 4245 ssh2",
//!     "Jul 20 14:42:15 gw sshd[1]: Failed password for root from 203.0.113.5 port 4246 ssh2",
//! ] {
//!     let event = parse_line(line.as_bytes(), &ctx);
//!     book.fold(&event, 0, EventRef::default(), &mut changes);
//! }
//! book.settle(&mut changes);
//! let c = book.candidates().next().unwrap();
//! assert_eq!(c.class(), Class::RepeatedAttempts);
//! ```

mod book;
mod candidate;
mod codec;
mod config;
mod distinct;
mod entries;
mod evidence;
mod lifecycle;
mod noise;
mod prefetch;
mod settle;
mod small;
mod source;
mod state;
mod targets;
mod watch;

pub use book::{
    BookStats, IncidentBook, NAMES_REMEMBERED, NotInBook, RESOLVE_RETRY_NS, SETTLE_PERIOD_NS,
    event_time,
};
pub use candidate::{Candidate, Class, NAMES_KEPT, NoiseTally, REPORTERS_KEPT, TOP_SIGNATURES};
pub use codec::{
    CandidateSummary, DecodeError, decode_candidate, decode_summary, encode_candidate,
};
pub use config::{ConfigError, MAX_WINDOW_THRESHOLD, SensorConfig};
pub use distinct::{DistinctCounter, EXACT_BOUND};
pub use evidence::{EventRef, Evidence, EvidenceSample};
pub use noise::{NoisePolicy, NoiseRule, default_noise_rules};
pub use source::{Cidr, CidrError, Ignored, KeyError, NAME_MAX_LEN, SourceKey};
pub use state::{AUTOMATIC, Block, HistoryEntry, State};
pub use targets::{TargetHit, TargetHost, TargetView};
pub use watch::Change;
