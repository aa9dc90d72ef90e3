//! The normalised event: what the parsers found in one line, borrowed from that line.
//!
//! Every byte-slice field points into the line that was parsed (zero-copy); numbers and
//! addresses are decoded into plain values. Field names follow the Elastic Common Schema,
//! the JSON shape is written by [`crate::json`].

use std::net::IpAddr;

use crate::header::Header;
use crate::time::Timestamp;

/// Which log family claimed a line (ECS `event.dataset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Dataset {
    /// A message no family recognised: only its syslog header is known.
    Syslog = 0,
    /// TCP wrappers (libwrap, tcpd).
    Tcpd = 1,
    /// Snort 1.x/2.x and Suricata alerts, spp_portscan.
    Snort = 2,
    /// PortSentry attack alerts.
    Portsentry = 3,
    /// xinetd service log.
    Xinetd = 4,
    /// FreeBSD `log_in_vain` kernel lines.
    LogInVain = 5,
    /// Cisco IOS, IOS IPv6 and ASA/PIX access-list lines.
    CiscoAcl = 6,
    /// Linux netfilter LOG target lines.
    Iptables = 7,
    /// OpenSSH server.
    Sshd = 8,
    /// pf `filterlog` (OpenBSD, pfSense, OPNsense) CSV records.
    Pf = 9,
    /// FreeBSD/macOS ipfw rule logs.
    Ipfw = 10,
    /// Cisco IOS zone-based firewall drops (`%FW-6-DROP_PKT`).
    CiscoFw = 11,
    /// Cisco IOS IPS signatures (`%IPS-4-SIGNATURE`).
    CiscoIps = 12,
    /// Cisco IOS login success/failure (`%SEC_LOGIN`).
    CiscoLogin = 13,
    /// postfix and dovecot authentication failures.
    MailAuth = 14,
    /// FTP daemons: wu-ftpd/BSD ftpd, vsftpd, proftpd, pure-ftpd.
    Ftpd = 15,
    /// PAM `authentication failure; … rhost=` under any daemon but sshd.
    Pam = 16,
    /// Solaris/illumos inetd connection tracing.
    Inetd = 17,
}

impl Dataset {
    /// Every dataset, in code order.
    pub const ALL: [Dataset; 18] = [
        Dataset::Syslog,
        Dataset::Tcpd,
        Dataset::Snort,
        Dataset::Portsentry,
        Dataset::Xinetd,
        Dataset::LogInVain,
        Dataset::CiscoAcl,
        Dataset::Iptables,
        Dataset::Sshd,
        Dataset::Pf,
        Dataset::Ipfw,
        Dataset::CiscoFw,
        Dataset::CiscoIps,
        Dataset::CiscoLogin,
        Dataset::MailAuth,
        Dataset::Ftpd,
        Dataset::Pam,
        Dataset::Inetd,
    ];

    /// The ECS `event.dataset` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dataset::Syslog => "syslog",
            Dataset::Tcpd => "tcpd",
            Dataset::Snort => "snort",
            Dataset::Portsentry => "portsentry",
            Dataset::Xinetd => "xinetd",
            Dataset::LogInVain => "log_in_vain",
            Dataset::CiscoAcl => "cisco_acl",
            Dataset::Iptables => "iptables",
            Dataset::Sshd => "sshd",
            Dataset::Pf => "pf",
            Dataset::Ipfw => "ipfw",
            Dataset::CiscoFw => "cisco_fw",
            Dataset::CiscoIps => "cisco_ips",
            Dataset::CiscoLogin => "cisco_login",
            Dataset::MailAuth => "mail_auth",
            Dataset::Ftpd => "ftpd",
            Dataset::Pam => "pam",
            Dataset::Inetd => "inetd",
        }
    }

    /// Looks a dataset up by its ECS name.
    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// Looks a dataset up by its numeric code (the `repr(u8)` value, used by the store).
    pub fn from_code(code: u8) -> Option<Dataset> {
        Dataset::ALL.get(usize::from(code)).copied()
    }
}

/// What the line says happened (ECS `event.action`), from the fixed list in DESIGN.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Action {
    /// A connection was refused by policy (tcpd, xinetd libwrap).
    ConnectionRefused = 1,
    /// A connection was accepted and logged (tcpd `connect from`).
    ConnectionAccepted = 2,
    /// An IDS signature fired.
    IdsAlert = 3,
    /// A scan detector reported a port scan.
    PortScan = 4,
    /// A tool blocked the peer (PortSentry).
    HostBlocked = 5,
    /// A router or firewall rule denied a packet.
    AclDenied = 6,
    /// A router or firewall rule permitted and logged a packet.
    AclPermitted = 7,
    /// A connection to a closed or trap port (log_in_vain, PortSentry connect).
    ConnectionAttempt = 8,
    /// A super-server started a service for the peer.
    ServiceStart = 9,
    /// A service process exited.
    ServiceExit = 10,
    /// A super-server refused to start a service.
    ServiceFail = 11,
    /// An authentication attempt failed.
    LoginFailed = 12,
    /// An authentication attempt succeeded.
    LoginSucceeded = 13,
}

impl Action {
    /// Every action, in code order.
    pub const ALL: [Action; 13] = [
        Action::ConnectionRefused,
        Action::ConnectionAccepted,
        Action::IdsAlert,
        Action::PortScan,
        Action::HostBlocked,
        Action::AclDenied,
        Action::AclPermitted,
        Action::ConnectionAttempt,
        Action::ServiceStart,
        Action::ServiceExit,
        Action::ServiceFail,
        Action::LoginFailed,
        Action::LoginSucceeded,
    ];

    /// The ECS `event.action` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::ConnectionRefused => "connection-refused",
            Action::ConnectionAccepted => "connection-accepted",
            Action::IdsAlert => "ids-alert",
            Action::PortScan => "port-scan",
            Action::HostBlocked => "host-blocked",
            Action::AclDenied => "acl-denied",
            Action::AclPermitted => "acl-permitted",
            Action::ConnectionAttempt => "connection-attempt",
            Action::ServiceStart => "service-start",
            Action::ServiceExit => "service-exit",
            Action::ServiceFail => "service-fail",
            Action::LoginFailed => "login-failed",
            Action::LoginSucceeded => "login-succeeded",
        }
    }

    /// Looks an action up by its ECS name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Looks an action up by its numeric code (the `repr(u8)` value, used by the store).
    pub fn from_code(code: u8) -> Option<Action> {
        Action::ALL.into_iter().find(|a| *a as u8 == code)
    }

    /// ECS `event.outcome` implied by the action, where it implies one.
    pub const fn outcome(self) -> Option<&'static str> {
        match self {
            Action::ConnectionRefused
            | Action::AclDenied
            | Action::ServiceFail
            | Action::LoginFailed => Some("failure"),
            Action::ConnectionAccepted
            | Action::AclPermitted
            | Action::ServiceStart
            | Action::LoginSucceeded => Some("success"),
            _ => None,
        }
    }
}

/// Transport protocol named by the line (ECS `network.transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP for IPv4.
    Icmp,
    /// ICMP for IPv6.
    Ipv6Icmp,
    /// IGMP.
    Igmp,
    /// GRE.
    Gre,
    /// IPsec ESP.
    Esp,
    /// IPsec AH.
    Ah,
    /// SCTP.
    Sctp,
    /// A protocol by another name or number, as the line spells it.
    Other(&'a [u8]),
}

impl<'a> Transport<'a> {
    /// Reads a protocol name or IANA number as logs spell it (`TCP`, `tcp`, `6`, `ICMPv6`).
    pub fn from_token(token: &'a [u8]) -> Option<Transport<'a>> {
        // The spellings most lines use, answered before the digit test and the lower-casing
        // below: 19 instructions a call against 76 (callgrind, log_in_vain and PortSentry lines).
        match token {
            b"TCP" | b"tcp" => return Some(Transport::Tcp),
            b"UDP" | b"udp" => return Some(Transport::Udp),
            [] => return None,
            _ => {}
        }
        if token.iter().all(u8::is_ascii_digit) {
            return Some(match token {
                b"1" => Transport::Icmp,
                b"2" => Transport::Igmp,
                b"6" => Transport::Tcp,
                b"17" => Transport::Udp,
                b"47" => Transport::Gre,
                b"50" => Transport::Esp,
                b"51" => Transport::Ah,
                b"58" => Transport::Ipv6Icmp,
                b"132" => Transport::Sctp,
                _ => Transport::Other(token),
            });
        }
        // Lower-cased into a small buffer and matched once: cheaper than eleven
        // case-insensitive comparisons, on every line with a protocol.
        let mut lower = [0u8; 9];
        let Some(buf) = lower.get_mut(..token.len()) else {
            return Some(Transport::Other(token));
        };
        for (d, s) in buf.iter_mut().zip(token) {
            *d = s.to_ascii_lowercase();
        }
        Some(match &*buf {
            b"tcp" => Transport::Tcp,
            b"udp" => Transport::Udp,
            b"icmp" => Transport::Icmp,
            b"icmpv6" | b"icmp6" | b"ipv6-icmp" => Transport::Ipv6Icmp,
            b"igmp" => Transport::Igmp,
            b"gre" => Transport::Gre,
            b"esp" => Transport::Esp,
            b"ah" => Transport::Ah,
            b"sctp" => Transport::Sctp,
            _ => Transport::Other(token),
        })
    }

    /// The ECS spelling (lower-case IANA keyword); `Other` keeps the line's bytes.
    pub fn name(&self) -> &'a [u8] {
        match self {
            Transport::Tcp => b"tcp",
            Transport::Udp => b"udp",
            Transport::Icmp => b"icmp",
            Transport::Ipv6Icmp => b"ipv6-icmp",
            Transport::Igmp => b"igmp",
            Transport::Gre => b"gre",
            Transport::Esp => b"esp",
            Transport::Ah => b"ah",
            Transport::Sctp => b"sctp",
            Transport::Other(t) => t,
        }
    }
}

/// One end of a flow: an address, a port, a host name, each only if the line gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// ECS `*.ip`.
    pub ip: Option<IpAddr>,
    /// ECS `*.port`.
    pub port: Option<u16>,
    /// ECS `*.domain`: a host name the line gives instead of (or beside) the address.
    pub domain: Option<&'a [u8]>,
}

impl Endpoint<'_> {
    /// True when the line gave nothing for this end.
    pub fn is_empty(&self) -> bool {
        self.ip.is_none() && self.port.is_none() && self.domain.is_none()
    }
}

/// The rule or signature that produced the line (ECS `rule.*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rule<'a> {
    /// Signature id (`1:2001219:20`).
    pub id: Option<&'a [u8]>,
    /// Signature message, ACL name or firewall log prefix.
    pub name: Option<&'a [u8]>,
    /// IDS classification.
    pub category: Option<&'a [u8]>,
}

/// What a family parser found in a message: everything beyond the syslog header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Details<'a> {
    /// ECS `event.action`.
    pub action: Option<Action>,
    /// The peer that caused the event (the attacker, the client).
    pub source: Endpoint<'a>,
    /// The address and port that were targeted.
    pub destination: Endpoint<'a>,
    /// ECS `network.transport`.
    pub transport: Option<Transport<'a>>,
    /// ECS `rule.*`.
    pub rule: Rule<'a>,
    /// IDS priority (Snort `[Priority: N]`), 1 being the most severe.
    pub priority: Option<u8>,
    /// ECS `user.name`: the account tried, or the ident user.
    pub user: Option<&'a [u8]>,
    /// ECS `service.name`: the service a super-server ran (xinetd).
    pub service: Option<&'a [u8]>,
    /// ECS `event.code`: the device's message id (`106023`, `IPACCESSLOGP`).
    pub code: Option<&'a [u8]>,
}

/// One parsed line: its header, the family that claimed it, and what that family found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The line exactly as given (ECS `event.original`).
    pub original: &'a [u8],
    /// The syslog header fields.
    pub header: Header<'a>,
    /// Which family claimed the line.
    pub dataset: Dataset,
    /// What that family found.
    pub details: Details<'a>,
    /// When picket received the line, if it came from the network.
    pub received: Option<Timestamp>,
    /// The sender's message was longer than picket keeps (`max_message`) and was cut there:
    /// `original` is its start only. Set by the receiver, never by the parsers; shown as
    /// the ECS tag `truncated`.
    pub truncated: bool,
}

/// Number of byte-slice fields of an event (see [`Event::slice_fields`]).
pub const SLICE_FIELDS: usize = 15;

impl<'a> Event<'a> {
    /// Every byte-slice field, absent ones as `None`, in a fixed order (the store's record
    /// format numbers the fields by this order, so it must not change).
    pub fn slice_fields(&self) -> [Option<&'a [u8]>; SLICE_FIELDS] {
        let h = &self.header;
        let d = &self.details;
        let other = match d.transport {
            Some(Transport::Other(t)) => Some(t),
            _ => None,
        };
        [
            h.hostname,
            h.appname,
            h.procid,
            h.msgid,
            h.structured_data,
            Some(h.message),
            d.source.domain,
            d.destination.domain,
            d.rule.id,
            d.rule.name,
            d.rule.category,
            d.user,
            d.service,
            d.code,
            other,
        ]
    }

    /// Every borrowed byte-slice field, for checks that they all lie inside `original`.
    pub fn borrowed_fields(&self) -> impl Iterator<Item = &'a [u8]> {
        self.slice_fields().into_iter().flatten()
    }
}
