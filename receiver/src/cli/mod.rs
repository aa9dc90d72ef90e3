//! The command line: one binary, one subcommand per job (see DESIGN.md, "The command line").

mod blocklist;
mod client;
mod evidence;
mod import;
mod incidents;
mod input;
mod logbook;
mod mark;
mod parse;
mod vacuum;
mod verify;
mod whois;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// picket: a syslog receiver and security sensor.
///
/// It reads the log lines that matter for intrusion handling (TCP wrappers, Snort/Suricata,
/// PortSentry, xinetd, FreeBSD log_in_vain, Cisco ACLs, netfilter, sshd) and turns each into
/// one normalised event with Elastic Common Schema field names.
#[derive(Debug, Parser)]
#[command(name = "picket", version, about, long_about)]
pub struct Cli {
    /// Data directory (store, query socket) [default: picket-data, or `data` in the config file].
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Configuration file (TOML; see deploy/picket.toml.example). Flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive syslog over UDP and TCP, parse every message and store it.
    ///
    /// With no flags: UDP and TCP on 0.0.0.0:5514, data in ./picket-data. Every message is
    /// stored, parsed or not. SIGTERM or SIGINT stops the listeners, stores everything
    /// already read, and exits 0; SIGHUP reloads the TLS certificate. A full disk pauses the
    /// senders until space returns (see `picket stats`); an unusable store exits non-zero.
    /// The query socket (DATA/picket.sock) serves `picket query`, `tail` and `stats`.
    Serve(crate::serve::ServeArgs),
    /// Parse log lines and print one JSON event per input line, in input order.
    ///
    /// Reads the FILEs in turn, or standard input without FILE. Every line gives one event:
    /// a line no family recognises comes out with dataset "syslog", its header fields and
    /// event.original. Bytes that are not UTF-8 appear in strings as the text \xNN.
    /// Exits 0 however many lines were unparsable; non-zero only on an I/O error.
    Parse(parse::ParseArgs),
    /// Load old log files (plain or gzip) into the store, with a summary per dataset.
    ///
    /// Each line is parsed like `picket parse` does and stored with the import time as its
    /// receive time; the sender's stamp is kept as @timestamp. Shows progress on a terminal.
    Import(import::ImportArgs),
    /// Re-check the evidence chain and the logbook of the whole store, or one bundle.
    ///
    /// Recomputes every batch hash and names the first batch that was altered, removed or
    /// reordered (with its time range), and the first logbook entry that was changed or
    /// removed (its number and how it reads now); then prints both heads
    /// (`heads events:N:HEX,logbook:N:HEX`) to record elsewhere, and checks the heads given
    /// with --expect-head. With --bundle FILE it checks an evidence bundle alone. Exits 1
    /// if anything does not verify. Run it while `picket serve` is stopped: the store is
    /// locked by the process that has it open.
    #[command(after_help = verify::EXAMPLES)]
    Verify(verify::VerifyArgs),
    /// Ask the running server for stored events.
    Query {
        /// What to ask for.
        #[command(subcommand)]
        what: client::QueryCommand,
        /// Where the server is.
        #[command(flatten)]
        socket: client::SocketArgs,
    },
    /// Follow live events as the running server stores them (Ctrl-C to stop).
    Tail {
        /// Which events.
        #[command(flatten)]
        filters: client::Filters,
        /// Where the server is.
        #[command(flatten)]
        socket: client::SocketArgs,
    },
    /// The running server's counters: received, stored, dropped, connections, store size.
    Stats {
        /// Where the server is.
        #[command(flatten)]
        socket: client::SocketArgs,
    },
    /// Apply retention now: remove the oldest events by age and/or size.
    ///
    /// Whole write batches are removed from every tree at once, and the evidence chain keeps
    /// an anchor, so `picket verify` still passes afterwards.
    Vacuum(vacuum::VacuumArgs),
    /// The incident candidates: one per attacking source, highest score first.
    ///
    /// Asks the running server (its query socket, op `incidents`), or with --offline reads the
    /// store in --data directly while serve is stopped. On a terminal: a table (address,
    /// class, score, state, events, ports, hosts, first and last seen, top signature); piped
    /// or with --json: one JSON object per candidate as the op sends it, then the end line
    /// (with a cursor when --limit cut the list). --show IP prints one candidate with its
    /// history and evidence lines. Text from the network is escaped.
    #[command(after_help = incidents::EXAMPLES)]
    Incidents(incidents::IncidentsArgs),
    /// Set a candidate's state: new, reported, repeated, blocked or closed.
    ///
    /// Goes through the running server (op `mark`), which writes who (your OS user), when and
    /// the note into the candidate's history. `blocked` starts a block that ends by itself
    /// (longer each time the source comes back after a block). Exits 1 when there is no
    /// candidate for IP.
    #[command(after_help = mark::EXAMPLES)]
    Mark(mark::MarkArgs),
    /// Print the blocked sources for a firewall: nft, ipset, hosts.deny, plain or JSON.
    ///
    /// The sources are the candidates in state `blocked` whose block has not ended; each
    /// nft and ipset entry times out when its block ends. With --min-score and/or --class,
    /// the candidates that pass those filters instead, without a timeout. nft and ipset
    /// output replaces the whole set atomically when loaded.
    #[command(after_help = blocklist::EXAMPLES)]
    Blocklist(blocklist::BlocklistArgs),
    /// The abuse contact of an address, its network, and the whois referral chain followed.
    ///
    /// Starts at [whois] root (whois.iana.org), follows the registries' referrals (ARIN,
    /// RIPE, APNIC and its national registries, LACNIC, AFRINIC) and reads the abuse mailbox
    /// of the last one; registry placeholders are never used, and an RFC 2142 `abuse@domain`
    /// guess is marked as one. Asks the running server (op `contact`), which caches answers
    /// for [whois] cache_ttl; --offline uses the store in --data while serve is stopped.
    #[command(after_help = whois::EXAMPLES)]
    Whois(whois::WhoisArgs),
    /// The logbook: every action on incidents (marks, blocks, expiry, lookups, notices).
    ///
    /// Each entry has its number, time, who (OS user, or `picket` for the sensor itself),
    /// the incident, the action and its detail, chained by hash so that `picket verify`
    /// names any entry changed or removed. Asks the running server (op `logbook`), or with
    /// --offline reads the store in --data. Text is escaped on a terminal.
    #[command(after_help = logbook::EXAMPLES)]
    Logbook(logbook::LogbookArgs),
    /// Write an incident's evidence bundle: one file a third party checks without the store.
    ///
    /// The candidate, its stored lines exactly as received (receive times, sending hosts),
    /// each with the Merkle inclusion proof that its batch's chain entry commits to it, those
    /// chain entries, the incident's logbook entries and the heads
    /// (docs/evidence-bundle.md). Reads the store in --data: run it while `picket serve` is
    /// stopped. `picket verify --bundle FILE` checks the file anywhere.
    #[command(after_help = evidence::EXAMPLES)]
    Evidence(evidence::EvidenceArgs),
}

/// Starts logging (to stderr) and the server.
fn serve(
    data: PathBuf,
    file: &crate::config::FileConfig,
    args: &crate::serve::ServeArgs,
) -> Result<(), crate::error::Error> {
    let cfg = crate::serve::ServeConfig::build(data, file, args)?;
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    crate::serve::run_until_signal(cfg)
}

/// Runs the command line and turns errors into a message and an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let file = match &cli.config {
        Some(path) => match crate::config::FileConfig::load(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("picket: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => crate::config::FileConfig::default(),
    };
    let data = file.data_dir(cli.data.as_deref());
    let result = match cli.command {
        Command::Serve(args) => serve(data, &file, &args).map(|()| true),
        Command::Parse(args) => parse::run(&args).map(|()| true),
        Command::Import(args) => file
            .sensor_config()
            .and_then(|sensor| import::run(&data, &args, sensor))
            .map(|()| true),
        Command::Verify(args) => verify::run(&data, &args),
        Command::Query { what, socket } => client::query(&data, &socket, &what),
        Command::Tail { filters, socket } => client::tail(&data, &socket, &filters),
        Command::Stats { socket } => client::stats(&data, &socket),
        Command::Vacuum(args) => vacuum::run(&data, &args).map(|()| true),
        Command::Incidents(args) => file
            .sensor_config()
            .and_then(|sensor| incidents::run(&data, &args, sensor)),
        Command::Mark(args) => mark::run(&data, &args),
        Command::Blocklist(args) => blocklist::run(&data, &args),
        Command::Whois(args) => whois::run(&data, &file, &args),
        Command::Logbook(args) => logbook::run(&data, &args),
        Command::Evidence(args) => evidence::run(&data, &args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("picket: {e}");
            ExitCode::FAILURE
        }
    }
}
