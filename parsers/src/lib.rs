//! picket-parsers: zero-copy parsers for syslog headers and the security log families picket
//! reads (TCP wrappers, Snort/Suricata, PortSentry, xinetd, FreeBSD log_in_vain, Cisco ACLs,
//! netfilter LOG, sshd, pf filterlog, ipfw, Cisco zone firewall/IPS/login, mail and FTP
//! authentication, PAM under any daemon, inetd).
//!
//! Input is `&[u8]`, never `&str`: senders emit Latin-1 and garbage, and no input panics.
//! A parsed [`Event`] borrows from the line; the success path allocates nothing.
//! This crate does no I/O and knows nothing of tokio or sled.
//!
//! ```
//! use picket_parsers::{parse_line, ParseContext, Dataset, Action};
//! let ev = parse_line(b"<38>Nov  8 15:26:31 linux in.telnetd[812]: refused connect from 198.51.100.7",
//!                     &ParseContext::new(1_005_000_000));
//! assert_eq!(ev.dataset, Dataset::Tcpd);
//! assert_eq!(ev.details.action, Some(Action::ConnectionRefused));
//! assert_eq!(ev.details.source.ip, Some("198.51.100.7".parse().unwrap()));
//! ```

mod context;
mod event;
mod families;
mod header;
mod json;
mod lex;
mod line;
mod time;

#[cfg(test)]
mod testing;

// The public API: every module is private, so what is not named here is the crate's own, and
// an item nobody uses warns as dead code.
pub use context::ParseContext;
pub use event::{Action, Dataset, Details, Endpoint, Event, Rule, SLICE_FIELDS, Transport};
pub use families::{FAMILIES, Family};
pub use header::Header;
pub use header::parse as parse_header;
#[doc(hidden)]
pub use header::parse_general as parse_header_general;
pub use header::timestamp::iso as iso_timestamp;
pub use json::write_event;
pub use lex::{find, to_ipv6};
pub use line::{parse_line, parse_line_into};
pub use time::{CivilTime, Timestamp, civil_from_days, days_from_civil};
