//! The one message type from listener to writer to live subscribers: the bytes a sender
//! framed and when they arrived, and for a RELP message whom to tell once it is durable.
//! Cloning it shares the bytes.

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
