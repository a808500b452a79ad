//! The core's one door to the outside of the process: environment variables, the clock,
//! and who is acting. A face builds one [`Context`] ([`Context::process`] for the real
//! world; tests and benchmarks build their own) and the project carries it, so no other
//! core file reads `std::env` or decides on its own who the user is.

use jiff::Timestamp;
use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;

/// Where the system logger listens for datagrams (journald and rsyslog both do).
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";
/// Another socket for `[audit] syslog = true` (tests, a chroot's logger).
pub const SYSLOG_SOCKET_ENV: &str = "KEYWARDEN_SYSLOG_SOCKET";

/// Reads an environment variable (the real environment, or a test's).
pub type EnvVar = dyn Fn(&str) -> Option<OsString> + Send + Sync;

/// The environment variables the core may read.
#[derive(Clone)]
pub struct Env(Arc<EnvVar>);

impl Env {
    /// The process environment.
    pub fn process() -> Env {
        Env(Arc::new(|name| std::env::var_os(name)))
    }

    /// An environment given by a function (tests, benchmarks).
    pub fn from_fn(f: impl Fn(&str) -> Option<OsString> + Send + Sync + 'static) -> Env {
        Env(Arc::new(f))
    }

    /// An environment with no variables.
    pub fn empty() -> Env {
        Env::from_fn(|_| None)
    }

    pub fn var_os(&self, name: &str) -> Option<OsString> {
        (self.0)(name)
    }

    /// The variable as text, if set and valid Unicode.
    pub fn var(&self, name: &str) -> Option<String> {
        self.var_os(name).and_then(|v| v.into_string().ok())
    }

    /// The reader, as the functions that take one want it.
    pub fn reader(&self) -> &EnvVar {
        &*self.0
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The environment may hold keys (`SECRET_KEY`): never print it.
        f.write_str("Env(..)")
    }
}

/// Where "now" comes from for ages and rotation due dates.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    /// Frozen, for snapshots and benchmarks.
    Fixed(Timestamp),
}

impl Clock {
    pub fn now(self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Fixed(t) => t,
        }
    }
}

/// Who is acting, as the audit trail and incident records name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: String,
    pub host: String,
}

/// The outside world as the core sees it.
#[derive(Debug, Clone)]
pub struct Context {
    pub env: Env,
    pub clock: Clock,
}

impl Context {
    /// This process: its environment, the system clock.
    pub fn process() -> Context {
        Context {
            env: Env::process(),
            clock: Clock::System,
        }
    }

    pub fn new(env: Env, clock: Clock) -> Context {
        Context { env, clock }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The acting user: `$USER`, else `$LOGNAME`, else the passwd entry of the real uid,
    /// else `uid:N`. The one answer to "who", for the audit trail and incidents alike.
    pub fn user(&self) -> String {
        for var in ["USER", "LOGNAME"] {
            if let Some(v) = self.env.var(var).filter(|v| !v.is_empty()) {
                return v;
            }
        }
        let uid = crate::sys::uid();
        crate::sys::passwd_name(uid).unwrap_or_else(|| format!("uid:{uid}"))
    }

    /// The system logger's socket: `$KEYWARDEN_SYSLOG_SOCKET`, else `/dev/log`.
    pub fn syslog_socket(&self) -> std::path::PathBuf {
        self.env
            .var_os(SYSLOG_SOCKET_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| DEFAULT_SYSLOG_SOCKET.into(), Into::into)
    }

    /// The user and the host name (`unknown` when the system gives none).
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user(),
            host: crate::sys::hostname().unwrap_or_else(|| "unknown".to_string()),
        }
    }
}

/// Variables of keywarden's own that no command it runs may see: where the backups'
/// passphrase is kept, and the store's token (it opens every secret its policy allows).
pub const INTERNAL_SECRET_VARS: &[&str] = &[
    crate::records::crypt::PASSPHRASE_FILE_ENV,
    crate::targets::vault::client::TOKEN_VARS[0],
    crate::targets::vault::client::TOKEN_VARS[1],
];

/// The names of the variables of this process's environment — the one a child inherits —
/// that hold one of the keys of `needles` in any form it searches (as is, base64, hex,
/// URL- or JSON-encoded, inside a longer value), and keywarden's own secret variables
/// ([`INTERNAL_SECRET_VARS`]): removed from the environment of the commands keywarden
/// runs, so a key exported for one environment reaches no other's commands.
pub fn inherited_vars_holding(needles: &crate::keys::redact::Needles) -> Vec<OsString> {
    std::env::vars_os()
        .filter(|(name, value)| {
            INTERNAL_SECRET_VARS.iter().any(|v| name == v)
                || needles.holds_any(value.as_encoded_bytes())
        })
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_comes_from_user_then_logname_then_the_uid() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            Env::from_fn(move |n| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| OsString::from(v))
            })
        };
        let ctx = |e| Context::new(e, Clock::System);
        assert_eq!(
            ctx(env(&[("USER", "ana"), ("LOGNAME", "bo")])).user(),
            "ana"
        );
        assert_eq!(ctx(env(&[("USER", ""), ("LOGNAME", "bo")])).user(), "bo");
        let fallback = ctx(Env::empty()).user();
        assert!(!fallback.is_empty());
        let uid = crate::sys::uid();
        assert_eq!(
            fallback,
            crate::sys::passwd_name(uid).unwrap_or_else(|| format!("uid:{uid}"))
        );
    }

    #[test]
    fn debug_never_shows_the_environment() {
        let ctx = Context::new(Env::from_fn(|_| Some("s3cr3t-value".into())), Clock::System);
        assert!(!format!("{ctx:?}").contains("s3cr3t"));
    }
}
