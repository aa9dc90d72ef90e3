//! picket-notice: the pure half of abuse notices. It drafts a notice about an incident
//! candidate as an RFC 5322 message, a plain body or an X-ARF v4 report, from a template the
//! operator may replace, and reads the replies (header fields, MIME parts, delivery status
//! notifications) to file them under their notice and say what they are. No sockets, no
//! files, no clock: the receiver gives it the candidate, the contact, the time and the bytes.
//!
//! ```
//! use picket_notice::{draft, Incident, Request, Sender, Template, DEFAULT_TEMPLATE};
//! let incident = Incident { source: "203.0.113.50".into(), class: "port-scan".into(),
//!     ..Incident::default() };
//! let req = Request { incident: &incident, contact: "abuse@isp.example", network: "",
//!     ordinal: 1, earlier: &[], now: 0 };
//! let sender = Sender { from: "abuse@example.org".into(), ..Sender::default() };
//! let d = draft(&req, &sender, &Template::parse(DEFAULT_TEMPLATE).unwrap()).unwrap();
//! assert!(d.subject.contains("203.0.113.50") && d.subject.contains(&d.report_id));
//! ```

mod draft;
mod email;
mod sha256;
mod template;
mod time;

pub use draft::{
    Draft, Earlier, FOLD_AT, Incident, MAX_EVIDENCE, MAX_LINE, Request, Sender, address_of,
    class_words, domain_of, draft, fold_evidence, printable, report_id, xarf, xarf_type,
};
pub use email::{
    ContentType, Field, Kind, MAX_DEPTH, MAX_FIELDS, MAX_PARTS, Part, Reply, decode_words,
    find_report_id, message_ids, read_reply, walk,
};
pub use sha256::{base64, hex, sha256};
pub use template::{DEFAULT_TEMPLATE, PLACEHOLDERS, Template, TemplateError, Value};
pub use time::{local as local_time, month, parse_rfc5322, rfc3339, rfc5322, zone_name};
