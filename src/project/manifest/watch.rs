//! `[watch]`: how `keywarden watch` raises its alerts.
//!
//! ```toml
//! [watch]
//! signature_errors = { count = 20, window_secs = 60 }   # alert at 20 errors within 60 s
//! quiet_secs = 60                                       # the same alert not repeated within
//! webhook = "https://hooks.example.com/keywarden"       # every alert POSTed as JSON
//! ```
//!
//! Every field is optional, with the defaults shown (no webhook).

use super::*;

pub(super) const WATCH_FIELDS: &[&str] = &["signature_errors", "quiet_secs", "webhook"];
const SIGNATURE_FIELDS: &[&str] = &["count", "window_secs"];

/// `[watch]` in the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSettings {
    /// Alert when this many signature-error lines are seen in one environment's logs...
    pub signature_errors_count: u32,
    /// ...within this many seconds (a sliding window).
    pub signature_errors_window_secs: u64,
    /// The same alert kind for the same environment and file or target is not repeated
    /// within this many seconds (0: every occurrence is an alert).
    pub quiet_secs: u64,
    /// `http://` or `https://` URL every alert is POSTed to, as JSON.
    pub webhook: Option<String>,
}

pub const DEFAULT_SIGNATURE_ERRORS_COUNT: u32 = 20;
pub const DEFAULT_SIGNATURE_ERRORS_WINDOW_SECS: u64 = 60;
pub const DEFAULT_QUIET_SECS: u64 = 60;

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            signature_errors_count: DEFAULT_SIGNATURE_ERRORS_COUNT,
            signature_errors_window_secs: DEFAULT_SIGNATURE_ERRORS_WINDOW_SECS,
            quiet_secs: DEFAULT_QUIET_SECS,
            webhook: None,
        }
    }
}

impl Parser<'_> {
    pub(super) fn watch(&self, item: &Item<'_>) -> Result<WatchSettings> {
        let t = self.table(item, "`watch`", "[watch]")?;
        self.check_fields(t, WATCH_FIELDS, "in [watch]")?;
        let mut w = WatchSettings::default();
        if let Some(item) = t.get("signature_errors") {
            let s = self.table(
                item,
                "`signature_errors`",
                "signature_errors = { count = 20, window_secs = 60 }",
            )?;
            self.check_fields(s, SIGNATURE_FIELDS, "in [watch] signature_errors")?;
            if let Some(c) = s.get("count") {
                w.signature_errors_count = self.int(c, "count", 1, 1_000_000)? as u32;
            }
            if let Some(c) = s.get("window_secs") {
                w.signature_errors_window_secs = self.int(c, "window_secs", 1, 86_400)? as u64;
            }
        }
        if let Some(item) = t.get("quiet_secs") {
            w.quiet_secs = self.int(item, "quiet_secs", 0, 86_400)? as u64;
        }
        if let Some((url, pos)) = self.string(t, "webhook")? {
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                return Err(self.err(
                    pos,
                    format!("`webhook` {url:?} is not an http:// or https:// URL"),
                    "write the full URL, e.g. webhook = \"https://hooks.example.com/keywarden\"",
                ));
            }
            w.webhook = Some(url);
        }
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "[[environments]]\nname = \"production\"\ntargets = [{ path = \".env\" }]\n";

    fn parse(watch: &str) -> Result<Manifest> {
        Manifest::parse(
            &format!("version = 1\n{ENV}\n{watch}"),
            Path::new("keywarden.toml"),
        )
    }

    #[test]
    fn every_field_is_optional_with_the_issue_defaults() {
        let m = parse("").unwrap();
        assert_eq!(m.watch, WatchSettings::default());
        assert_eq!(m.watch.signature_errors_count, 20);
        assert_eq!(m.watch.signature_errors_window_secs, 60);
        assert_eq!(m.watch.quiet_secs, 60);
        assert_eq!(m.watch.webhook, None);
        let m = parse(
            "[watch]\nsignature_errors = { count = 5, window_secs = 10 }\nquiet_secs = 0\nwebhook = \"http://127.0.0.1:9/x\"\n",
        )
        .unwrap();
        assert_eq!(m.watch.signature_errors_count, 5);
        assert_eq!(m.watch.signature_errors_window_secs, 10);
        assert_eq!(m.watch.quiet_secs, 0);
        assert_eq!(m.watch.webhook.as_deref(), Some("http://127.0.0.1:9/x"));
        assert_eq!(
            parse("[watch.signature_errors]\ncount = 3\n")
                .unwrap()
                .watch
                .signature_errors_count,
            3
        );
    }

    #[test]
    fn mistakes_name_the_line_and_the_fix() {
        let e = parse("[watch]\nquiet = 5\n").unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(
            e.message.contains("unknown field `quiet` in [watch]"),
            "{e}"
        );
        assert!(e.hint.contains("quiet_secs"), "{e}");
        let e = parse("[watch]\nsignature_errors = { count = 0 }\n").unwrap_err();
        assert!(e.to_string().contains("count"), "{e}");
        let e = parse("[watch]\nwebhook = \"ftp://x\"\n").unwrap_err();
        assert!(e.message.contains("not an http:// or https:// URL"), "{e}");
        assert_eq!(e.line, 7);
        let e = parse("[watch]\nsignature_errors = 20\n").unwrap_err();
        assert!(e.to_string().contains("signature_errors"), "{e}");
    }
}
