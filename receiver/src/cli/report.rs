//! `picket report IP [--format mail|text|xarf] [--send]` and `picket report --due [--send]`:
//! drafts abuse notices from the incident candidates (picket-notice does the writing), and
//! with `--send` sends them through the `[report] smtp` relay. Dry-run unless `--send`.
//! Every notice is recorded in the store before its DATA and confirmed after the relay's 250
//! (ops `notice`, through the running server; with `--offline`, in the store directly), so a
//! notice is never sent twice, across crashes included (see `reports`). A sent notice moves
//! the candidate to `reported` through `mark`, so its history says who and which notice.

use std::io::Write;
use std::path::Path;

use clap::Args;
use picket_notice::{Draft, Earlier, Incident, Request as NoticeRequest, Template};
use serde_json::{Map, Value, json};

use super::client::text;
use super::incidents::{Origin, Reply, fetch, report_error};
use crate::error::Error;
use crate::reports::config::ReportConfig;
use crate::reports::smtp::{SmtpConfig, SmtpError};

/// Examples for `picket report --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket report 203.0.113.50                        the draft to the abuse address whois gives
  picket report 203.0.113.50 --to abuse@isp.example --format xarf
  picket report 203.0.113.50 --send                 send it through [report] smtp
  picket report --due                               every notice that is due (dry run)
  picket report --due --send                        send them (a guessed contact is not used)
  picket report --due --no-lookup                   contacts only from the whois cache
Template placeholders ([report] template): see `picket report --placeholders`.
Exit status: 0 when every notice was drafted (or sent and confirmed, or was sent before),
1 when one was refused, unconfirmed or could not be sent, or on an error.";

/// Options of `picket report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The candidate: its address, or the prefix it is grouped under.
    #[arg(value_name = "IP", required_unless_present_any = ["due", "placeholders"])]
    pub source: Option<String>,
    /// Every notice that is due: new candidates scoring at least [report] min_score, second
    /// notices for `repeated` ones; never `stale`, noise-only or own-network sources.
    #[arg(long, conflicts_with = "source")]
    pub due: bool,
    /// The draft's form: an RFC 5322 message, its plain body, or an X-ARF v4 JSON report.
    #[arg(long, default_value = "mail", value_parser = ["mail", "text", "xarf"])]
    pub format: String,
    /// The abuse contact (To:) [default: the source's abuse address from whois].
    #[arg(long, value_name = "ADDR")]
    pub to: Option<String>,
    /// Send through the [report] smtp relay (without it: print the drafts only).
    #[arg(long)]
    pub send: bool,
    /// Send again a notice whose earlier sending is unconfirmed or was refused (never one the
    /// relay accepted). Only with IP.
    #[arg(long, requires = "send", conflicts_with = "due")]
    pub resend: bool,
    /// Take the contact only from the cache of earlier whois lookups; never ask whois.
    #[arg(long, conflicts_with = "to")]
    pub no_lookup: bool,
    /// List the template's placeholders and exit.
    #[arg(long)]
    pub placeholders: bool,
    /// Where the candidates are.
    #[command(flatten)]
    pub origin: Origin,
}

/// The server, or the store opened here while serve is stopped.
pub enum Backend {
    /// Through the query socket.
    Online(std::path::PathBuf, Origin),
    /// The store itself.
    Offline(Box<Offline>),
}

/// What answers requests offline: the store, the sensor's settings (for marks), whois's.
pub struct Offline {
    store: picket_store::Store,
    sensor: Option<picket_sensor::SensorConfig>,
    whois: crate::contact::WhoisSettings,
}

impl Backend {
    /// The backend `origin` names.
    pub fn open(
        data: &Path,
        origin: &Origin,
        sensor: Option<picket_sensor::SensorConfig>,
        whois: crate::contact::WhoisSettings,
    ) -> Result<Backend, Error> {
        if origin.offline {
            Ok(Backend::Offline(Box::new(Offline {
                store: super::incidents::open_store(data)?,
                sensor,
                whois,
            })))
        } else {
            Ok(Backend::Online(data.to_path_buf(), origin.clone()))
        }
    }

    /// Asks one request and reads the whole answer.
    pub fn ask(&self, req: &Map<String, Value>) -> Result<Reply, Error> {
        match self {
            Backend::Online(data, origin) => fetch(data, origin, req),
            Backend::Offline(b) => Ok(offline(b, req)),
        }
    }

    /// Asks and turns an error reply into an error.
    pub fn ask_ok(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Error> {
        match self.ask(req)? {
            Reply::Lines(items, _) => Ok(items),
            Reply::Error(code, message) => Err(Error::Usage(format!("{message} ({code})"))),
        }
    }
}

/// The OS user running this command (for records written with `--offline`).
pub fn local_user() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

/// Answers a request from the store, as the server would.
fn offline(b: &Offline, req: &Map<String, Value>) -> Reply {
    let (store, sensor) = (&b.store, b.sensor.as_ref());
    use crate::query::incidents as ops;
    use crate::query::protocol::{self, Request};
    let line = serde_json::to_vec(req).unwrap_or_default();
    let err = |e: protocol::ReplyError| Reply::Error(e.code.into(), e.message);
    let request = match protocol::parse(&line, crate::clock::now_ns()) {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let one = |v: Value| Reply::Lines(vec![v], json!({"end": true, "count": 1}));
    match request {
        Request::Incidents(f) => match ops::list(store, &f) {
            Ok((list, _)) => {
                let items: Vec<Value> = list.iter().map(|c| ops::to_json(c, false)).collect();
                let n = items.len();
                Reply::Lines(items, json!({"end": true, "count": n}))
            }
            Err(e) => err(e),
        },
        Request::Incident(source) => match ops::one(store, &source) {
            Ok(Some(c)) => {
                let mut v = ops::to_json(&c, true);
                crate::reports::attach(store, &mut v);
                one(json!({"incident": v}))
            }
            Ok(None) => Reply::Error(
                "not_found".into(),
                format!(
                    "no candidate for {}",
                    crate::text::safe_text(source.as_bytes())
                ),
            ),
            Err(e) => err(e),
        },
        Request::Contact { ip, lookup } => {
            let now = crate::clock::now_ns();
            match crate::contact::find(Some(store), ip, &b.whois, lookup, now) {
                Ok(answer) => {
                    let v = answer.to_json(ip);
                    match v.get("error") {
                        Some(e) => Reply::Error(text(&e["code"]), text(&e["message"])),
                        None => one(v),
                    }
                }
                Err(e) => Reply::Error("unavailable".into(), e.to_string()),
            }
        }
        Request::Notices(source) => match crate::reports::list(store, source) {
            Ok(items) => {
                let n = items.len();
                Reply::Lines(items, json!({"end": true, "count": n}))
            }
            Err(e) => err(e),
        },
        Request::Notice(r) => {
            match crate::sense::NoticeWrite::Notice(r).apply(store, &local_user()) {
                Ok(v) => one(v),
                Err(e) => err(e),
            }
        }
        Request::Followup(r) => {
            match crate::sense::NoticeWrite::Followup(r).apply(store, &local_user()) {
                Ok(v) => one(v),
                Err(e) => err(e),
            }
        }
        Request::Mark {
            source,
            state,
            note,
        } => {
            let Some(cfg) = sensor else {
                return Reply::Error("not_available".into(), "the sensor is off".into());
            };
            let key = match ops::one(store, &source) {
                Ok(Some(c)) => c.key(),
                Ok(None) => return Reply::Error("not_found".into(), "no candidate".into()),
                Err(e) => return err(e),
            };
            let mut sensor = crate::sense::Sensor::new(cfg.clone());
            let (tx, _rx) = tokio::sync::oneshot::channel();
            let who = local_user();
            let req = crate::sense::MarkRequest {
                source: key,
                state,
                note,
                who: who.clone(),
                reply: tx,
            };
            let mut writes = picket_store::IncidentWrites::default();
            let at = i64::try_from(crate::clock::now_ns()).unwrap_or(i64::MAX);
            if !sensor.mark(store, &req, at, &mut writes) {
                return Reply::Error("not_found".into(), "no candidate".into());
            }
            match store.write_incidents(&writes).and_then(|_| store.flush()) {
                Ok(_) => one(
                    json!({"marked": {"source": key.to_string(), "state": state.as_str(), "who": who}}),
                ),
                Err(e) => Reply::Error("unavailable".into(), e.to_string()),
            }
        }
        _ => Reply::Error(
            "not_available".into(),
            "this request cannot be answered offline".into(),
        ),
    }
}

/// A member of a JSON object (null when absent).
fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn request(op: &str, pairs: &[(&str, Value)]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("op".into(), op.into());
    for (k, v) in pairs {
        m.insert((*k).into(), v.clone());
    }
    m
}

fn ns(v: &Value) -> i64 {
    crate::values::parse_time(&text(v), 0)
        .ok()
        .and_then(|t| i64::try_from(t).ok())
        .unwrap_or(0)
}

/// The candidate's JSON (from `incident`) as the drafting crate wants it.
pub fn incident_of(c: &Value) -> Incident {
    let u = |v: &Value| v.as_u64().unwrap_or(0);
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    Incident {
        source: text(&c["source"]),
        class: text(&c["class"]),
        score: u(&c["score"]),
        events: u(&c["events"]),
        ports: u(&c["ports"]),
        port_list: list(&c["port_list"])
            .iter()
            .filter_map(|p| p.as_u64().and_then(|p| u16::try_from(p).ok()))
            .collect(),
        hosts: u(&c["hosts"]),
        datasets: list(&c["datasets"]).iter().map(text).collect(),
        signatures: list(&c["signatures"])
            .iter()
            .map(|s| (text(&s["name"]), u(&s["count"])))
            .collect(),
        first_seen: ns(&c["first_seen"]),
        last_seen: ns(&c["last_seen"]),
        evidence: list(&c["evidence"])
            .iter()
            .map(|e| (ns(&e["at"]), text(&e["line"])))
            .collect(),
    }
}

/// The abuse contact of `source` from whois (op `contact`: the cache, or a lookup unless
/// `no_lookup`): the address, the network's name and range, and whether it is only an RFC
/// 2142 guess.
fn contact_of(
    backend: &Backend,
    source: &str,
    no_lookup: bool,
) -> Result<(String, String, bool), String> {
    let addr = source.split('/').next().unwrap_or(source);
    let ip: std::net::IpAddr = addr.parse().map_err(|_| {
        format!(
            "{} is known only by name",
            crate::text::safe_text(source.as_bytes())
        )
    })?;
    let req = request(
        "contact",
        &[
            ("ip", ip.to_string().into()),
            ("lookup", (!no_lookup).into()),
        ],
    );
    match backend.ask(&req).map_err(|e| e.to_string())? {
        Reply::Lines(items, _) => {
            let c = items
                .first()
                .map(|v| at(v, "contact"))
                .unwrap_or(&Value::Null);
            let abuse = text(at(c, "abuse"));
            if abuse.is_empty() {
                return Err(format!("whois names no abuse address for {ip}"));
            }
            let net = [text(at(c, "netname")), text(at(c, "range"))]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>();
            let network = match net.as_slice() {
                [name, range] => format!("{name}, {range}"),
                [one] => one.clone(),
                _ => String::new(),
            };
            Ok((abuse, network, at(c, "fallback") == true))
        }
        Reply::Error(code, m) => Err(format!("{m} ({code})")),
    }
}

/// One notice to act on.
struct Due {
    candidate: Value,
    incident: Incident,
    ordinal: u32,
    report_id: String,
    earlier: Vec<Earlier>,
    /// The record of this very notice, if one exists.
    existing: Option<Value>,
}

fn due_of(candidate: Value, notices: &[Value]) -> Due {
    let incident = incident_of(&candidate);
    let ordinal = u32::try_from(at(&candidate, "notices").as_u64().unwrap_or(0))
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let report_id = picket_notice::report_id(&incident.source, ordinal, incident.first_seen);
    let mine: Vec<&Value> = notices
        .iter()
        .filter(|n| text(&n["source"]) == incident.source)
        .collect();
    let earlier = mine
        .iter()
        .filter(|n| n["state"] == "sent" && text(&n["report_id"]) != report_id)
        .map(|n| Earlier {
            at: i64::try_from(n["done_ns"].as_u64().unwrap_or(0)).unwrap_or(0),
            report_id: text(&n["report_id"]),
            contact: text(&n["contact"]),
        })
        .collect();
    let existing = mine
        .iter()
        .find(|n| text(&n["report_id"]) == report_id)
        .map(|v| (*v).clone());
    Due {
        candidate,
        incident,
        ordinal,
        report_id,
        earlier,
        existing,
    }
}

/// A notice recorded for a contact: (contact, when its intent was recorded, report id).
type Sent = (String, i64, String);

/// What happened to one notice.
enum Outcome {
    Drafted,
    Sent,
    Skipped,
    Problem,
}

/// Runs `picket report`.
pub fn run(
    data: &Path,
    args: &ReportArgs,
    cfg: &ReportConfig,
    sensor: Option<picket_sensor::SensorConfig>,
    whois: crate::contact::WhoisSettings,
) -> Result<bool, Error> {
    if args.placeholders {
        let mut out = std::io::stdout().lock();
        for (n, what) in picket_notice::PLACEHOLDERS {
            let _ = writeln!(out, "{{{{{n}}}}}  {what}");
        }
        let _ = writeln!(
            out,
            "{{{{#name}}}}…{{{{/name}}}} keeps its text when the value is set, {{{{^name}}}}…{{{{/name}}}} when it is not."
        );
        return Ok(true);
    }
    let template = Template::parse(&cfg.template)
        .map_err(|e| Error::Usage(format!("[report] template: {e}")))?;
    let sender = cfg.sender()?;
    let smtp = if args.send {
        let relay = cfg.smtp.clone().ok_or_else(|| {
            Error::Usage("--send needs [report] smtp = \"host:port\" (the relay)".into())
        })?;
        Some(SmtpConfig {
            relay,
            starttls: cfg.starttls,
            ca: cfg.smtp_ca.clone(),
            auth: cfg.auth.clone(),
            helo: picket_notice::domain_of(&sender.from).to_string(),
            timeout: std::time::Duration::from_secs(30),
        })
    } else {
        None
    };
    let backend = Backend::open(data, &args.origin, sensor, whois)?;
    let notices = backend.ask_ok(&request("notices", &[]))?;
    let candidates: Vec<Value> = match &args.source {
        Some(source) => {
            let r = backend.ask(&request("incident", &[("source", source.clone().into())]))?;
            match r {
                Reply::Lines(items, _) => items.iter().map(|v| at(v, "incident").clone()).collect(),
                Reply::Error(code, message) => {
                    report_error(&code, &message);
                    return Ok(false);
                }
            }
        }
        None => {
            let list = backend.ask_ok(&request(
                "incidents",
                &[("min_score", cfg.min_score.into())],
            ))?;
            let mut full = Vec::new();
            for c in list {
                let state = text(at(&c, "state"));
                if at(&c, "stale") == true || !(state == "new" || state == "repeated") {
                    continue;
                }
                if let Some(v) = backend
                    .ask_ok(&request(
                        "incident",
                        &[("source", at(&c, "source").clone())],
                    ))?
                    .into_iter()
                    .next()
                {
                    full.push(at(&v, "incident").clone());
                }
            }
            full
        }
    };
    let now = i64::try_from(crate::clock::now_ns()).unwrap_or(i64::MAX);
    let mut sent_to: Vec<Sent> = notices
        .iter()
        .map(|n| {
            (
                text(&n["contact"]).to_ascii_lowercase(),
                i64::try_from(n["intent_ns"].as_u64().unwrap_or(0)).unwrap_or(0),
                text(&n["report_id"]),
            )
        })
        .collect();
    let mut all_ok = true;
    let mut counts = [0u32; 4];
    let total = candidates.len();
    let stdout = std::io::stdout();
    for (n, c) in candidates.into_iter().enumerate() {
        let due = due_of(c, &notices);
        let outcome = one(
            &backend,
            args,
            cfg,
            &template,
            &sender,
            smtp.as_ref(),
            &due,
            now,
            &mut sent_to,
            (n + 1, total),
            &mut stdout.lock(),
        )?;
        let i = match outcome {
            Outcome::Drafted => 0,
            Outcome::Sent => 1,
            Outcome::Skipped => 2,
            Outcome::Problem => {
                all_ok = false;
                3
            }
        };
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
    }
    if args.due {
        let [drafted, sent, skipped, problems] = counts;
        if args.send {
            eprintln!(
                "picket: {sent} notices sent, {skipped} skipped, {problems} not sent or unconfirmed"
            );
        } else {
            eprintln!(
                "picket: {drafted} notices due (dry run: add --send to send them), {skipped} skipped, {problems} with problems"
            );
        }
    }
    Ok(all_ok)
}

/// Drafts, and with `--send` sends, one notice.
#[allow(clippy::too_many_arguments)]
fn one(
    backend: &Backend,
    args: &ReportArgs,
    cfg: &ReportConfig,
    template: &Template,
    sender: &picket_notice::Sender,
    smtp: Option<&SmtpConfig>,
    due: &Due,
    now: i64,
    sent_to: &mut Vec<Sent>,
    (n, total): (usize, usize),
    out: &mut impl Write,
) -> Result<Outcome, Error> {
    let source = &due.incident.source;
    let say = |m: String| eprintln!("picket: {}: {m}", crate::text::safe_text(source.as_bytes()));
    if let Some(e) = &due.existing {
        let state = text(&e["state"]);
        if state == "sent" {
            // Sent, but the mark did not follow (a crash between the two): mark now.
            if text(at(&due.candidate, "state")) != "reported" && args.send {
                mark_reported(backend, source, &due.report_id, &text(&e["contact"]))?;
                say(format!(
                    "notice {} was sent already ({}); candidate marked reported",
                    due.report_id,
                    text(&e["done_at"])
                ));
            } else {
                say(format!(
                    "notice {} was sent already ({}); nothing to do",
                    due.report_id,
                    text(&e["done_at"])
                ));
            }
            return Ok(Outcome::Skipped);
        }
        if !args.resend {
            say(format!(
                "notice {} to {} is {} since {}: {}; not sent again (picket report {} --send --resend, after checking the relay's log)",
                due.report_id,
                text(&e["contact"]),
                if state == "intent" {
                    "unconfirmed".to_string()
                } else {
                    state.clone()
                },
                text(&e["intent_at"]),
                if state == "intent" {
                    "its sending was interrupted after the message may have reached the relay"
                } else {
                    "the relay refused it"
                },
                crate::text::safe_text(source.as_bytes())
            ));
            return Ok(Outcome::Problem);
        }
    }
    let (contact, network) = match &args.to {
        Some(t) => (t.clone(), String::new()),
        None => match contact_of(backend, source, args.no_lookup) {
            Ok((c, net, guess)) => {
                if guess && args.send && args.due {
                    say(format!(
                        "whois names no abuse mailbox, only the guess {c} (RFC 2142): not sent by --due; send it with `picket report {} --send` (or --to) if it is right",
                        crate::text::safe_text(source.as_bytes())
                    ));
                    return Ok(Outcome::Problem);
                }
                if guess {
                    say(format!(
                        "{c} is a guess (RFC 2142): whois names no abuse mailbox"
                    ));
                }
                (c, net)
            }
            Err(why) => {
                say(format!("no abuse contact: {why}; give --to ADDR"));
                return Ok(Outcome::Problem);
            }
        },
    };
    let limit = i64::from(cfg.per_contact_per_hour);
    let hour_ago = now.saturating_sub(3_600_000_000_000);
    // A resend replaces its own record: that one does not count against it.
    let recent = sent_to
        .iter()
        .filter(|(c, t, id)| {
            *c == contact.to_ascii_lowercase() && *t >= hour_ago && *id != due.report_id
        })
        .count();
    if args.send && i64::try_from(recent).unwrap_or(i64::MAX) >= limit {
        say(format!(
            "{contact} got {recent} notices in the last hour ([report] per_contact_per_hour = {limit}); {} waits for the next run",
            due.report_id
        ));
        return Ok(Outcome::Skipped);
    }
    let req = NoticeRequest {
        incident: &due.incident,
        contact: &contact,
        network: &network,
        ordinal: due.ordinal,
        earlier: &due.earlier,
        now,
    };
    let draft = picket_notice::draft(&req, sender, template)
        .map_err(|e| Error::Usage(format!("[report] template: {e}")))?;
    let Some(smtp) = smtp else {
        // The draft goes in the logbook (who drafted which notice, when).
        let logged = record(&draft, due, "draft", now, None, false);
        if let Err(e) = backend.ask_ok(&request("notice", &[("record", logged)])) {
            say(format!("the draft was not logged: {e}"));
        }
        let r = (|| {
            // X-ARF stays one JSON object per line.
            if total > 1 && args.format != "xarf" {
                writeln!(
                    out,
                    "### notice {n} of {total}: {} to {} about {}",
                    draft.report_id, draft.to, source
                )?;
            }
            match args.format.as_str() {
                "xarf" => writeln!(out, "{}", picket_notice::xarf(&req, sender)),
                "text" => write!(out, "{}", draft.body),
                _ => write!(out, "{}", draft.message("\n")),
            }
        })();
        finish_write(r)?;
        return Ok(Outcome::Drafted);
    };
    send(
        backend, args, smtp, &draft, due, &contact, now, sent_to, out,
    )
}

fn finish_write(r: std::io::Result<()>) -> Result<(), Error> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Stdout(e)),
    }
}

/// The record of `draft` in `state`.
fn record(
    draft: &Draft,
    due: &Due,
    state: &str,
    now: i64,
    reply: Option<String>,
    resend: bool,
) -> Value {
    let now = u64::try_from(now).unwrap_or(0);
    json!({
        "report_id": draft.report_id,
        "message_id": draft.message_id,
        "source": due.incident.source,
        "contact": draft.to,
        "ordinal": due.ordinal,
        "state": state,
        "intent_ns": now,
        "done_ns": if state == "intent" { None } else { Some(crate::clock::now_ns()) },
        "smtp_reply": reply,
        "subject": draft.subject,
        "resend": resend,
    })
}

#[allow(clippy::too_many_arguments)]
fn send(
    backend: &Backend,
    args: &ReportArgs,
    smtp: &SmtpConfig,
    draft: &Draft,
    due: &Due,
    contact: &str,
    now: i64,
    sent_to: &mut Vec<Sent>,
    out: &mut impl Write,
) -> Result<Outcome, Error> {
    let source = &due.incident.source;
    let message = draft.message("\r\n");
    let mut rcpt = vec![picket_notice::address_of(&draft.to).to_string()];
    rcpt.extend(
        draft
            .cc
            .iter()
            .map(|c| picket_notice::address_of(c).to_string()),
    );
    let from = picket_notice::address_of(&draft.from).to_string();
    let intent = record(draft, due, "intent", now, None, args.resend);
    let result = crate::reports::smtp::send(smtp, &from, &rcpt, &message, || {
        match backend.ask(&request("notice", &[("record", intent.clone())])) {
            Ok(Reply::Lines(..)) => Ok(()),
            Ok(Reply::Error(code, m)) => Err(format!(
                "the notice was not recorded, so not sent: {m} ({code})"
            )),
            Err(e) => Err(format!("the notice was not recorded, so not sent: {e}")),
        }
    });
    sent_to.push((contact.to_ascii_lowercase(), now, draft.report_id.clone()));
    let finish = |state: &str, reply: String| {
        backend.ask_ok(&request(
            "notice",
            &[("record", record(draft, due, state, now, Some(reply), false))],
        ))
    };
    match result {
        Ok(reply) => {
            finish("sent", reply.clone())?;
            mark_reported(backend, source, &draft.report_id, contact)?;
            finish_write(writeln!(
                out,
                "sent {} to {} about {} ({})",
                draft.report_id,
                draft.to,
                crate::text::safe_text(source.as_bytes()),
                reply
            ))?;
            Ok(Outcome::Sent)
        }
        Err(SmtpError::Refused(m)) => {
            finish("failed", m.clone())?;
            eprintln!(
                "picket: notice {} to {contact}: refused by the relay: {m}",
                draft.report_id
            );
            Ok(Outcome::Problem)
        }
        Err(e @ SmtpError::Unknown(_)) => {
            eprintln!(
                "picket: notice {} to {contact}: {e}; it stays unconfirmed and is not sent again by itself",
                draft.report_id
            );
            Ok(Outcome::Problem)
        }
        Err(e @ SmtpError::NotSent(_)) => {
            eprintln!("picket: notice {} to {contact}: {e}", draft.report_id);
            Ok(Outcome::Problem)
        }
    }
}

/// Moves the candidate to `reported` (the history names the notice).
fn mark_reported(
    backend: &Backend,
    source: &str,
    report_id: &str,
    contact: &str,
) -> Result<(), Error> {
    backend
        .ask_ok(&request(
            "mark",
            &[
                ("source", source.into()),
                ("state", "reported".into()),
                ("note", format!("notice {report_id} to {contact}").into()),
            ],
        ))
        .map(|_| ())
}
