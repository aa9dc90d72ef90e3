//! `[report]`: who notices come from, how they are sent, and which are due. Read by the
//! clients (`picket report`, `followup`, `stats --reports`), not by `serve`.

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::Error;

/// `[report]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSection {
    /// `From:` of notices (required to draft).
    pub from: Option<String>,
    /// `Cc:` of every notice.
    pub cc: Option<Vec<String>>,
    /// The SMTP relay, `host:port` (required to send).
    pub smtp: Option<String>,
    /// STARTTLS before anything else is said (default true).
    pub starttls: Option<bool>,
    /// PEM file of the CA(s) that sign the relay's certificate (default: the system's).
    pub smtp_ca: Option<PathBuf>,
    /// SMTP AUTH user (PLAIN or LOGIN, only over TLS).
    pub user: Option<String>,
    /// SMTP AUTH password.
    pub password: Option<String>,
    /// The signature under each notice.
    pub signature: Option<String>,
    /// A template file replacing the embedded one.
    pub template: Option<PathBuf>,
    /// Zone the notice body writes times in (`Z`, `+01:00`).
    pub time_zone: Option<String>,
    /// `--due` drafts notices for candidates scoring at least this.
    pub min_score: Option<u32>,
    /// At most this many notices to one contact within an hour.
    pub per_contact_per_hour: Option<u32>,
}

/// What the report commands run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportConfig {
    /// `From:`.
    pub from: Option<String>,
    /// `Cc:`.
    pub cc: Vec<String>,
    /// The relay.
    pub smtp: Option<String>,
    /// STARTTLS.
    pub starttls: bool,
    /// CA file for the relay.
    pub smtp_ca: Option<PathBuf>,
    /// AUTH user and password.
    pub auth: Option<(String, String)>,
    /// Signature.
    pub signature: String,
    /// The template's text (the file's, or the embedded default).
    pub template: String,
    /// Body zone, seconds east of UTC.
    pub offset_secs: i32,
    /// `--due` threshold.
    pub min_score: u32,
    /// Rate limit per contact and hour.
    pub per_contact_per_hour: u32,
}

/// The default `min_score`: a candidate that crossed one class threshold scores 30 or more
/// (5 failed logins in 10 minutes give 34; 15 ports give 69), a single probe under 10.
pub const DEFAULT_MIN_SCORE: u32 = 30;

/// The default `per_contact_per_hour`: an abuse desk that gets more than 10 notices an hour
/// from one sender starts to filter them.
pub const DEFAULT_PER_CONTACT_PER_HOUR: u32 = 10;

impl ReportConfig {
    /// The settings from `[report]` (absent: the defaults).
    pub fn from_section(s: Option<&ReportSection>) -> Result<ReportConfig, Error> {
        let empty = ReportSection::default();
        let s = s.unwrap_or(&empty);
        let template = match &s.template {
            Some(p) => std::fs::read_to_string(p).map_err(|source| Error::File {
                op: "read the notice template",
                path: p.clone(),
                source,
            })?,
            None => picket_notice::DEFAULT_TEMPLATE.to_string(),
        };
        picket_notice::Template::parse(&template).map_err(|e| {
            Error::Usage(format!(
                "[report] template {}: {e}",
                s.template
                    .as_ref()
                    .map_or("(embedded)".into(), |p| p.display().to_string())
            ))
        })?;
        let offset_secs = match &s.time_zone {
            Some(z) => crate::values::parse_offset(z)
                .map_err(|e| Error::Usage(format!("[report] time_zone: {e}")))?,
            None => 0,
        };
        let auth = match (&s.user, &s.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            (None, None) => None,
            _ => {
                return Err(Error::Usage(
                    "[report] user and password go together".into(),
                ));
            }
        };
        if let Some(smtp) = &s.smtp
            && smtp
                .rsplit_once(':')
                .is_none_or(|(_, p)| p.parse::<u16>().is_err())
        {
            return Err(Error::Usage(format!(
                "[report] smtp = {smtp:?}: give host:port (e.g. \"mail.example.org:587\")"
            )));
        }
        Ok(ReportConfig {
            from: s.from.clone(),
            cc: s.cc.clone().unwrap_or_default(),
            smtp: s.smtp.clone(),
            starttls: s.starttls.unwrap_or(true),
            smtp_ca: s.smtp_ca.clone(),
            auth,
            signature: s.signature.clone().unwrap_or_default(),
            template,
            offset_secs,
            min_score: s.min_score.unwrap_or(DEFAULT_MIN_SCORE),
            per_contact_per_hour: s
                .per_contact_per_hour
                .unwrap_or(DEFAULT_PER_CONTACT_PER_HOUR),
        })
    }

    /// `From:`, or a clear error.
    pub fn sender_address(&self) -> Result<&str, Error> {
        self.from.as_deref().ok_or_else(|| {
            Error::Usage(
                "[report] from is not set: notices need a From: address (see deploy/picket.toml.example)"
                    .into(),
            )
        })
    }

    /// The drafting side of these settings.
    pub fn sender(&self) -> Result<picket_notice::Sender, Error> {
        Ok(picket_notice::Sender {
            from: self.sender_address()?.to_string(),
            cc: self.cc.clone(),
            signature: self.signature.clone(),
            organisation: None,
            offset_secs: self.offset_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `[report]` keys deploy/picket.toml.example documents.
    fn documented() -> std::collections::BTreeSet<String> {
        let example = include_str!("../../../deploy/picket.toml.example");
        let mut inside = false;
        let mut keys = std::collections::BTreeSet::new();
        for line in example.lines() {
            let l = line.trim_start_matches('#').trim();
            if l.starts_with('[') {
                inside = l == "[report]";
            } else if inside
                && let Some((k, _)) = l.split_once(" = ")
                && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                keys.insert(k.to_string());
            }
        }
        keys
    }

    fn effective(text: &str) -> ReportConfig {
        let f: crate::config::FileConfig = toml::from_str(text).unwrap();
        ReportConfig::from_section(f.report.as_ref()).unwrap()
    }

    #[test]
    fn every_documented_report_key_changes_what_report_runs_with() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.txt");
        std::fs::write(&t, "Subject: {{source}}\n\nHi\n").unwrap();
        let cases: Vec<(&str, String)> = vec![
            ("from", "from = \"a@b.example\"".into()),
            ("cc", "cc = [\"c@b.example\"]".into()),
            ("smtp", "smtp = \"127.0.0.1:2525\"".into()),
            ("starttls", "starttls = false".into()),
            ("smtp_ca", "smtp_ca = \"/etc/ca.pem\"".into()),
            ("user", "user = \"u\"\npassword = \"p\"".into()),
            ("password", "user = \"u\"\npassword = \"p\"".into()),
            ("signature", "signature = \"-- \\nme\"".into()),
            (
                "template",
                format!("template = {:?}", t.display().to_string()),
            ),
            ("time_zone", "time_zone = \"+01:00\"".into()),
            ("min_score", "min_score = 7".into()),
            ("per_contact_per_hour", "per_contact_per_hour = 7".into()),
        ];
        let tested: std::collections::BTreeSet<String> =
            cases.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(tested, documented(), "every [report] key needs a case here");
        let base = effective("");
        for (k, v) in &cases {
            assert_ne!(
                effective(&format!("[report]\n{v}\n")),
                base,
                "[report] {k} changes nothing"
            );
        }
        let example: crate::config::FileConfig =
            toml::from_str(include_str!("../../../deploy/picket.toml.example")).unwrap();
        assert_eq!(
            ReportConfig::from_section(example.report.as_ref())
                .unwrap()
                .min_score,
            DEFAULT_MIN_SCORE
        );
    }

    #[test]
    fn a_bad_template_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.txt");
        std::fs::write(&t, "Subject: {{sorce}}\n\nHi\n").unwrap();
        let f: crate::config::FileConfig = toml::from_str(&format!(
            "[report]\ntemplate = {:?}\n",
            t.display().to_string()
        ))
        .unwrap();
        let e = ReportConfig::from_section(f.report.as_ref()).unwrap_err();
        assert!(e.to_string().contains("sorce"), "{e}");
    }
}
