//! The one message type from listener to writer to live subscribers: the bytes a sender
//! framed and when they arrived, and for a RELP message whom to tell once it is durable.
//! Cloning it shares the bytes. Also the work the query socket hands the writer
//! ([`WriterCommand`]).

use std::sync::Arc;

use tokio::sync::watch;

/// One message as received, before parsing.
#[derive(Debug, Clone)]
pub struct Message {
    /// The message bytes (framing and trailing LF/CR/NUL removed).
    pub bytes: bytes::Bytes,
    /// Receive time, Unix nanoseconds.
    pub received_ns: u64,
    /// The connection waiting to acknowledge it (RELP), told once its batch is flushed.
    pub ack: Option<Ack>,
    /// The sender's message was longer than `max_message` and was cut there (the event is
    /// flagged: tag `truncated`).
    pub truncated: bool,
}

/// Where the writer reports a RELP message durable: its connection's channel, which carries
/// the highest sequence number (per connection, from 1) stored and flushed so far.
#[derive(Debug, Clone)]
pub struct Ack {
    /// The connection's channel.
    pub to: Arc<watch::Sender<u64>>,
    /// This message's number on its connection.
    pub seq: u64,
}

impl Ack {
    /// Tells the connection that this message and every earlier one of it is durable.
    pub fn durable(&self) {
        self.to.send_if_modified(|d| {
            let newer = self.seq > *d;
            if newer {
                *d = self.seq;
            }
            newer
        });
    }
}

/// Work from the query socket that must go through the single writer, beside the sensor's
/// requests (`mark`): it is served even when the sensor is off.
pub enum WriterCommand {
    /// Store these lines (one chunk of an import streamed over the socket), parsed with
    /// `ctx` (the file's year and zone), with the sensor folding them as live traffic.
    Import {
        /// The lines, without their line ends.
        lines: Vec<bytes::Bytes>,
        /// How year-less and zone-less stamps are read.
        ctx: picket_parsers::ParseContext,
        /// The import's last chunk: the sensor decides its candidates now, as it does when
        /// ingest goes quiet, so that `picket incidents` shows them at once.
        last: bool,
        /// How many were stored, or why none were.
        reply: tokio::sync::oneshot::Sender<Result<u64, String>>,
    },
}
