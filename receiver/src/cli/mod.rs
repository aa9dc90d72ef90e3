//! The command line: one binary, one subcommand per job (see DESIGN.md, "The command line").

mod bench;
mod blocklist;
mod client;
mod evidence;
mod followup;
mod import;
mod incidents;
mod input;
mod logbook;
mod maint;
mod mark;
mod parse;
mod report;
mod report_stats;
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
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub data: Option<PathBuf>,
    /// Configuration file (TOML; see deploy/picket.toml.example). Flags override it.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive syslog over UDP, TCP, TLS and RELP, parse every message and store it.
    ///
    /// With no flags: UDP and TCP on 0.0.0.0:5514, data in ./picket-data. Every message is
    /// stored, parsed or not. With --relp ADDR (rsyslog's omrelp), a message is acknowledged
    /// only once it is stored and flushed, so a crash loses nothing a sender was told is
    /// stored: the sender sends again what it did not hear acknowledged. SIGTERM or SIGINT stops the listeners, stores everything
    /// already read, and exits 0; SIGHUP reloads the TLS certificate. A full disk pauses the
    /// senders until space returns (see `picket stats`); an unusable store exits non-zero.
    /// The query socket (DATA/picket.sock, or `socket` in the config) serves every other
    /// command: query, tail, stats, incidents, mark, blocklist, verify, import, vacuum.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(crate::serve::ServeArgs),
    /// Parse log lines and print one JSON event per input line, in input order.
    ///
    /// Reads the FILEs in turn, or standard input without FILE. Every line gives one event:
    /// a line no family recognises comes out with dataset "syslog", its header fields and
    /// event.original. Bytes that are not UTF-8 appear in strings as the text \xNN.
    /// Exits 0 however many lines were unparsable; non-zero only on an I/O error.
    #[command(after_help = PARSE_EXAMPLES)]
    Parse(parse::ParseArgs),
    /// Measure parser throughput on your own log lines, with the share no family claimed.
    ///
    /// Reads the FILEs (plain or gzip, or standard input) into memory, then reports lines per
    /// second parsed on one core and on every core (--jobs), the rate of parsing and writing
    /// JSON as `picket parse` does, and how many lines each dataset got ("unclaimed": no family
    /// read the line). Each figure comes from passes repeated for at least half a second.
    /// Shows a progress bar on a terminal; --json prints one object for scripts.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(bench::BenchArgs),
    /// Load old log files (plain or gzip) into the store, with a summary per dataset.
    ///
    /// Each line is parsed like `picket parse` does and stored with the import time as its
    /// receive time; the sender's stamp is kept as @timestamp. Shows progress on a terminal.
    /// While `picket serve` runs, the lines go to it over its query socket and its single
    /// writer stores them beside live traffic; otherwise they go into the store directly.
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(import::ImportArgs),
    /// Re-check the evidence chain and the logbook of the whole store, or one bundle.
    ///
    /// Recomputes every batch hash and names the first batch that was altered, removed or
    /// reordered (with its time range), and the first logbook entry that was changed or
    /// removed (its number and how it reads now); then prints both heads
    /// (`heads events:N:HEX,logbook:N:HEX`) to record elsewhere, and checks the heads given
    /// with --expect-head. With --bundle FILE it checks an evidence bundle alone. Exits 1
    /// if anything does not verify. While `picket serve` runs it asks the server (its query
    /// socket), which checks the store as of that moment while it goes on storing; otherwise
    /// it reads the store itself.
    #[command(after_help = verify::EXAMPLES)]
    Verify(verify::VerifyArgs),
    /// Ask the running server for stored events.
    #[command(after_help = client::QUERY_EXAMPLES)]
    Query {
        /// What to ask for.
        #[command(subcommand)]
        what: client::QueryCommand,
        /// Where the server is.
        #[command(flatten)]
        socket: client::SocketArgs,
    },
    /// Follow live events as the running server stores them (Ctrl-C to stop).
    #[command(after_help = client::TAIL_EXAMPLES)]
    Tail {
        /// Which events.
        #[command(flatten)]
        filters: client::Filters,
        /// Stop after this many events (default: follow until Ctrl-C).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Where the server is.
        #[command(flatten)]
        socket: client::SocketArgs,
    },
    /// The running server's counters: received, stored, dropped, connections, store size.
    ///
    /// With --reports: the notices per month (sent, repeat notices, automated and personal
    /// answers, bounces, no answer) and the contacts that never answered; --offline reads
    /// the store in --data while serve is stopped.
    #[command(after_help = client::STATS_EXAMPLES)]
    Stats {
        /// The notices' monthly table instead of the counters.
        #[arg(long)]
        reports: bool,
        /// Read the store in --data directly (with --reports, while serve is stopped).
        #[arg(long, requires = "reports")]
        offline: bool,
        /// Where the server is.
        #[command(flatten)]
        socket: client::SocketArgs,
    },
    /// Apply retention now: remove the oldest events by age and/or size.
    ///
    /// Whole write batches are removed from every tree at once, and the evidence chain keeps
    /// an anchor, so `picket verify` still passes afterwards. Through the running server when
    /// one answers on the query socket, else on the store itself.
    #[command(after_help = vacuum::EXAMPLES)]
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
    /// Draft an abuse notice about a candidate, or every notice that is due; --send sends.
    ///
    /// A notice is an RFC 5322 message to the abuse contact (Cc and signature from
    /// [report]): what was seen (class, ports, hosts, counts), when it started and ended
    /// with the zone stated, the first and latest log lines, a polite request, and a report
    /// id in the subject that replies are matched on. A `repeated` candidate gets a second
    /// (third, …) notice quoting the earlier ones. --format xarf gives an X-ARF v4 report,
    /// --format text the plain body. Nothing is sent without --send; a notice is recorded
    /// before it is sent and never sent twice, across crashes included. A sent notice marks
    /// the candidate `reported`.
    #[command(after_help = report::EXAMPLES)]
    Report(report::ReportArgs),
    /// File a reply to a notice (a message on standard input) under its incident.
    ///
    /// Matched by In-Reply-To/References (the Message-ID of the notice) or the report id in
    /// the subject, and classified: a bounce (delivery status notification), an automated
    /// answer (Auto-Submitted, X-Autoreply, Precedence, ticket systems) or a person's. It
    /// shows in `picket incidents --show IP` and counts in `picket stats --reports`.
    #[command(after_help = followup::EXAMPLES)]
    Followup(followup::FollowupArgs),
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
    /// Print a shell completion script, made from these very definitions.
    ///
    /// Load it in the running shell, or install it where the shell looks for completions.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell.
        #[arg(value_name = "SHELL", value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Print the manual page (roff), made from these very definitions.
    #[command(after_help = MAN_EXAMPLES)]
    Man,
}

const SERVE_EXAMPLES: &str = "\
Examples:
  picket serve                                   UDP and TCP on 0.0.0.0:5514, data in ./picket-data
  picket --config /etc/picket/picket.toml serve  every key: deploy/picket.toml.example
  picket --data /var/lib/picket serve --udp 0.0.0.0:514 --tcp 0.0.0.0:514 --allow 192.0.2.0/24
  picket serve --no-udp --tls 0.0.0.0:6514 --cert server.pem --key server.key --client-ca ca.pem";

const PARSE_EXAMPLES: &str = "\
Examples:
  picket parse /var/log/auth.log                 one JSON event per line
  zcat secure.2.gz | picket parse --year 2025 --tz +01:00
  journalctl -o short -t sshd | picket parse | jq -r 'select(.event.action==\"login-failed\") | .source.ip'";

const BENCH_EXAMPLES: &str = "\
Examples:
  picket bench secure secure.1 messages.2.gz   rates and datasets of your logs
  picket bench --jobs 2 --json messages | jq .parse_all_cores_lines_per_s";

const IMPORT_EXAMPLES: &str = "\
Examples:
  picket import /var/log/auth.log /var/log/auth.log.1 /var/log/auth.log.2.gz
  journalctl -o short -t sshd > sshd.log && picket import sshd.log
  picket --data /var/lib/picket import --year 2025 old/messages.*";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  picket completions bash > /etc/bash_completion.d/picket
  source <(picket completions bash)              this shell, now
  picket completions zsh > \"${fpath[1]}/_picket\"
  picket completions fish > ~/.config/fish/completions/picket.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  picket man | man -l -
  picket man > /usr/local/share/man/man1/picket.1";

/// Writes the completion script for `shell` (bash, zsh or fish) to stdout.
fn completions(shell: &str) -> Result<bool, crate::error::Error> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        _ => Shell::Fish,
    };
    let mut cmd = Cli::command();
    // Into memory first: clap_complete panics on a write error (a closed pipe).
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "picket", &mut out);
    write_out(&out)
}

/// `println!` for the commands' reports, except that a closed pipe (`picket verify | head -1`)
/// is not a panic: what no one reads is dropped, and the command ends with its own status.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
    }};
}
pub(crate) use say;

/// Writes `out` to stdout; a closed pipe is not an error.
fn write_out(out: &[u8]) -> Result<bool, crate::error::Error> {
    use std::io::Write;
    match std::io::stdout().write_all(out) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(crate::error::Error::Stdout(e)),
        _ => Ok(true),
    }
}

/// Writes the manual page, with a section per subcommand, to stdout.
fn man() -> Result<bool, crate::error::Error> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut out = Vec::new();
    let err = |e: std::io::Error| crate::error::Error::Stdout(e);
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .map_err(err)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        out.extend_from_slice(b".SH \"PICKET ");
        out.extend_from_slice(sub.get_name().to_uppercase().as_bytes());
        out.extend_from_slice(b"\"\n");
        let page = clap_mangen::Man::new(sub.clone());
        page.render_synopsis_section(&mut out).map_err(err)?;
        page.render_description_section(&mut out).map_err(err)?;
        page.render_options_section(&mut out).map_err(err)?;
        if sub.get_subcommands().next().is_some() {
            page.render_subcommands_section(&mut out).map_err(err)?;
        }
        page.render_extra_section(&mut out).map_err(err)?;
    }
    write_out(&out)
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
    // Every client finds the server the same way: --socket, else `socket` in the config
    // file, else DATA/picket.sock.
    let socket =
        |flag: &Option<PathBuf>| maint::socket_path(&data, flag.as_deref(), file.socket.as_deref());
    let mut command = cli.command;
    match &mut command {
        Command::Query { socket: s, .. }
        | Command::Tail { socket: s, .. }
        | Command::Stats { socket: s, .. } => s.socket = Some(socket(&s.socket)),
        Command::Incidents(a) if !a.origin.offline => {
            a.origin.socket = Some(socket(&a.origin.socket));
        }
        Command::Mark(a) => a.socket.socket = Some(socket(&a.socket.socket)),
        Command::Blocklist(a) if !a.origin.offline => {
            a.origin.socket = Some(socket(&a.origin.socket));
        }
        Command::Logbook(a) if !a.origin.offline => {
            a.origin.socket = Some(socket(&a.origin.socket));
        }
        Command::Whois(a) if !a.offline => a.socket = Some(socket(&a.socket)),
        _ => {}
    }
    let result = match command {
        Command::Serve(args) => serve(data, &file, &args).map(|()| true),
        Command::Parse(args) => parse::run(&args).map(|()| true),
        Command::Bench(args) => bench::run(&args).map(|()| true),
        Command::Import(args) => file
            .sensor_config()
            .and_then(|sensor| import::run(&data, &socket(&args.socket), &args, sensor))
            .map(|()| true),
        Command::Verify(args) => verify::run(&data, &socket(&args.socket), &args),
        Command::Query { what, socket } => client::query(&data, &socket, &what),
        Command::Tail {
            filters,
            limit,
            socket,
        } => client::tail(&data, &socket, &filters, limit),
        Command::Stats {
            reports: true,
            offline,
            socket,
        } => report_stats::run(
            &data,
            &incidents::Origin {
                socket: socket.socket.clone(),
                offline,
                json: socket.json,
            },
        ),
        Command::Stats { socket, .. } => client::stats(&data, &socket),
        Command::Vacuum(args) => vacuum::run(&data, &socket(&args.socket), &args).map(|()| true),
        Command::Incidents(args) => file
            .sensor_config()
            .and_then(|sensor| incidents::run(&data, &args, sensor)),
        Command::Mark(args) => mark::run(&data, &args),
        Command::Blocklist(args) => blocklist::run(&data, &args),
        Command::Followup(args) => file
            .sensor_config()
            .and_then(|sensor| followup::run(&data, &args, sensor)),
        Command::Report(args) => file.report_config().and_then(|cfg| {
            file.sensor_config().and_then(|sensor| {
                file.whois_settings()
                    .and_then(|whois| report::run(&data, &args, &cfg, sensor, whois))
            })
        }),
        Command::Whois(args) => whois::run(&data, &file, &args),
        Command::Logbook(args) => logbook::run(&data, &args),
        Command::Evidence(args) => evidence::run(&data, &args),
        Command::Completions { shell } => completions(&shell),
        Command::Man => man(),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            let e = file.locate_error(e);
            eprintln!("picket: {e}");
            ExitCode::FAILURE
        }
    }
}
