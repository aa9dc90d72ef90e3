//! The one message type from listener to writer to live subscribers: the bytes a sender
//! framed and when they arrived. Cloning it shares the bytes. Also the work the query socket
//! hands the writer ([`WriterCommand`]).

/// One message as received, before parsing.
#[derive(Debug, Clone)]
pub struct Message {
    /// The message bytes (framing and trailing LF/CR/NUL removed).
    pub bytes: bytes::Bytes,
    /// Receive time, Unix nanoseconds.
    pub received_ns: u64,
    /// The sender's message was longer than `max_message` and was cut there (the event is
    /// flagged: tag `truncated`).
    pub truncated: bool,
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
