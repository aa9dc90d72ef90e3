//! The notice template: a small, logic-less language the operator can edit. `{{name}}` puts a
//! value in; `{{#name}}…{{/name}}` keeps its text only when the value is set (a non-empty
//! text or a true flag); `{{^name}}…{{/name}}` only when it is not. A section tag alone on
//! its line takes the line with it, so sections do not leave blank lines behind. The first
//! line of a template is `Subject: …`, then a blank line, then the body. Names that are not
//! documented are errors, so a typo in an operator's template is caught before a notice goes
//! out with a hole in it.

use std::fmt;

/// The default template, embedded; the operator's `[report] template` replaces it.
pub const DEFAULT_TEMPLATE: &str = include_str!("default_notice.txt");

/// Every placeholder a template may use, with what it holds (docs and `--help` list them).
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("source", "the reported address (or prefix)"),
    (
        "report_id",
        "the report id follow-ups are matched on (PKT-…)",
    ),
    ("what", "what was seen, in words (\"a port scan\")"),
    ("class", "the candidate's class (port-scan, sweep, …)"),
    ("score", "the candidate's score"),
    ("events", "how many events"),
    (
        "ports",
        "distinct destination ports (count, and the list when short)",
    ),
    ("hosts", "distinct destination hosts"),
    ("datasets", "which logs saw it (sshd, iptables, …)"),
    ("first_seen", "start, with the zone"),
    ("last_seen", "end, with the zone"),
    ("zone", "the zone times are given in (UTC, UTC+01:00)"),
    ("signatures", "top signatures, one per line (may be empty)"),
    (
        "evidence",
        "the first and latest raw lines, folded under 998 bytes",
    ),
    ("ordinal", "1 for the first notice, 2 for the second, …"),
    ("ordinal_word", "first, second, third, 4th, …"),
    ("repeat", "set for a second or later notice"),
    (
        "earlier",
        "the earlier notices (date and report id), one per line",
    ),
    ("contact", "the abuse contact written to"),
    (
        "network",
        "the network's name and range from whois (may be empty)",
    ),
    ("signature", "the operator's signature ([report] signature)"),
];

/// A value given to a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text (set when not empty).
    Text(String),
    /// A flag.
    Flag(bool),
}

impl Value {
    fn is_set(&self) -> bool {
        match self {
            Value::Text(t) => !t.is_empty(),
            Value::Flag(f) => *f,
        }
    }
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{{name}}` that is not documented.
    Unknown(String),
    /// A `{{#name}}` or `{{^name}}` without its `{{/name}}`.
    Unclosed(String),
    /// A `{{` without `}}`.
    Unterminated,
    /// The first line is not `Subject: …` followed by a blank line.
    NoSubject,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unknown(n) => write!(
                f,
                "unknown placeholder {{{{{n}}}}} (known: {})",
                PLACEHOLDERS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TemplateError::Unclosed(n) => write!(f, "section {{{{#{n}}}}} has no {{{{/{n}}}}}"),
            TemplateError::Unterminated => f.write_str("a \"{{\" without \"}}\""),
            TemplateError::NoSubject => f.write_str(
                "the first line must be \"Subject: …\", followed by a blank line and the body",
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// A checked template: its subject line and body.
#[derive(Debug, Clone)]
pub struct Template {
    subject: String,
    body: String,
}

impl Template {
    /// Checks `text` (every placeholder known, every section closed).
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let text = text.replace("\r\n", "\n");
        let (first, rest) = text.split_once('\n').ok_or(TemplateError::NoSubject)?;
        let subject = first
            .strip_prefix("Subject:")
            .ok_or(TemplateError::NoSubject)?
            .trim()
            .to_string();
        let body = rest.strip_prefix('\n').ok_or(TemplateError::NoSubject)?;
        let t = Template {
            subject,
            body: body.to_string(),
        };
        let probe = |_: &str| Some(Value::Flag(true));
        render(&t.subject, &probe)?;
        render(&t.body, &probe)?;
        Ok(t)
    }

    /// The subject and body with the values of `vars` (a name it lacks renders empty).
    pub fn render(&self, vars: &[(&str, Value)]) -> Result<(String, String), TemplateError> {
        let get = |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
        let subject = render(&self.subject, &get)?;
        // A subject is one line.
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok((subject, render(&self.body, &get)?))
    }
}

fn known(name: &str) -> bool {
    PLACEHOLDERS.iter().any(|(n, _)| *n == name)
}

/// Renders `t`; `get` gives a value by name.
fn render(t: &str, get: &dyn Fn(&str) -> Option<Value>) -> Result<String, TemplateError> {
    let t = strip_standalone(t);
    let mut out = String::with_capacity(t.len());
    render_into(&t, get, &mut out)?;
    Ok(out)
}

/// A section tag alone on its line loses the line around it (indentation and line end), so
/// that sections leave no blank lines behind.
fn strip_standalone(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut lines = t.split('\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        let l = line.trim();
        let is_tag = l.starts_with("{{")
            && l.ends_with("}}")
            && matches!(l.get(2..3), Some("#" | "^" | "/"))
            && l.matches("{{").count() == 1;
        if is_tag {
            out.push_str(l);
        } else {
            out.push_str(line);
            if !last {
                out.push('\n');
            }
        }
    }
    out
}

fn render_into(
    mut t: &str,
    get: &dyn Fn(&str) -> Option<Value>,
    out: &mut String,
) -> Result<(), TemplateError> {
    while let Some(open) = t.find("{{") {
        let (before, after) = t.split_at(open);
        out.push_str(before);
        let after = after.get(2..).unwrap_or_default();
        let close = after.find("}}").ok_or(TemplateError::Unterminated)?;
        let tag = after.get(..close).unwrap_or_default().trim();
        let rest = after.get(close + 2..).unwrap_or_default();
        let kind = tag.chars().next();
        if matches!(kind, Some('#' | '^')) {
            let name = tag.get(1..).unwrap_or_default().trim();
            if !known(name) {
                return Err(TemplateError::Unknown(name.into()));
            }
            let end_tag = format!("{{{{/{name}}}}}");
            let end = rest
                .find(&end_tag)
                .ok_or_else(|| TemplateError::Unclosed(name.into()))?;
            let inner = rest.get(..end).unwrap_or_default();
            let set = get(name).is_some_and(|v| v.is_set());
            if set == (kind == Some('#')) {
                render_into(inner, get, out)?;
            } else {
                // Still check what is inside.
                render_into(inner, get, &mut String::new())?;
            }
            t = rest.get(end + end_tag.len()..).unwrap_or_default();
        } else {
            if !known(tag) {
                return Err(TemplateError::Unknown(tag.into()));
            }
            if let Some(Value::Text(v)) = get(tag) {
                out.push_str(&v);
            }
            t = rest;
        }
    }
    out.push_str(t);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_values() {
        let t = Template::parse(
            "Subject: {{#repeat}}[{{ordinal_word}} notice] {{/repeat}}abuse from {{source}}\n\nHello,\n{{#repeat}}\nagain:\n{{earlier}}\n{{/repeat}}\n{{^repeat}}\nfirst time.\n{{/repeat}}\nbye\n",
        )
        .unwrap();
        let (s, b) = t
            .render(&[
                ("source", Value::Text("192.0.2.1".into())),
                ("repeat", Value::Flag(false)),
            ])
            .unwrap();
        assert_eq!(s, "abuse from 192.0.2.1");
        assert_eq!(b, "Hello,\nfirst time.\nbye\n");
        let (s, b) = t
            .render(&[
                ("source", Value::Text("192.0.2.1".into())),
                ("repeat", Value::Flag(true)),
                ("ordinal_word", Value::Text("second".into())),
                ("earlier", Value::Text("  - one".into())),
            ])
            .unwrap();
        assert_eq!(s, "[second notice] abuse from 192.0.2.1");
        assert_eq!(b, "Hello,\nagain:\n  - one\nbye\n");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            Template::parse("Subject: x\n\n{{sourc}}").unwrap_err(),
            TemplateError::Unknown("sourc".into())
        );
        assert_eq!(
            Template::parse("Subject: x\n\n{{#repeat}} open").unwrap_err(),
            TemplateError::Unclosed("repeat".into())
        );
        assert_eq!(
            Template::parse("Hello\n\nbody").unwrap_err(),
            TemplateError::NoSubject
        );
        assert_eq!(
            Template::parse("Subject: x\n\n{{source").unwrap_err(),
            TemplateError::Unterminated
        );
        assert!(Template::parse(DEFAULT_TEMPLATE).is_ok());
    }
}
