//! An OpenBao/Vault KV v2 secret as a target: `{ vault = "secret/baguette/production",
//! field = "SECRET_KEY" }`. The mount is the path's first segment unless `mount` names a
//! longer one; the API path is `MOUNT/data/REST`.
//!
//! KV v2 replaces the whole secret on a write, so a write reads the secret, changes the
//! one field and writes everything back with `cas` = the version read (0 for a path that
//! does not exist yet): other fields survive, and a write that lost a race (the version
//! moved) changes nothing and names the version that won. One write is one new version.

pub mod client;

use super::{Edit, PlannedWrite, TargetRead, Value, kind::TargetKind};
use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::secret::Secret;
use crate::project::manifest::Target;
use client::{Connection, Data};
use serde_json::Value as Json;
use std::ffi::OsString;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a store target's read saw beyond the key: the version and when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remote {
    /// 0 when the path has never been written.
    pub version: u64,
    pub created_time: Option<jiff::Timestamp>,
}

/// `(mount, path below the mount)` of a store path. With `mount`, the path starts with it.
pub fn split<'a>(
    path: &'a str,
    mount: Option<&'a str>,
) -> std::result::Result<(&'a str, &'a str), String> {
    let path = path.trim_matches('/');
    let (m, rest) = match mount.map(|m| m.trim_matches('/')) {
        Some(m) => match path.strip_prefix(m).and_then(|r| r.strip_prefix('/')) {
            Some(rest) => (m, rest),
            None => {
                return Err(format!(
                    "the path `{path}` does not start with its mount `{m}/`"
                ));
            }
        },
        None => match path.split_once('/') {
            Some(parts) => parts,
            None => {
                return Err(format!(
                    "the path `{path}` names only a mount: write MOUNT/PATH, e.g. secret/myapp/production"
                ));
            }
        },
    };
    if rest.is_empty() || m.is_empty() {
        return Err(format!("the path `{path}` has an empty segment"));
    }
    Ok((m, rest))
}

/// The store kind of `target`, if it is a store target.
pub fn of(target: &Target) -> Option<Vault<'_>> {
    match target {
        Target::Vault {
            path,
            field,
            mount,
            namespace,
            token_file,
        } => Some(Vault {
            target,
            path,
            field,
            mount: mount.as_deref(),
            namespace: namespace.as_deref(),
            token_file: token_file.as_deref(),
        }),
        _ => None,
    }
}

/// The store target of the manifest, with its connection read from the environment.
pub struct Vault<'t> {
    pub(super) target: &'t Target,
    pub(super) path: &'t str,
    pub(super) field: &'t str,
    pub(super) mount: Option<&'t str>,
    pub(super) namespace: Option<&'t str>,
    pub(super) token_file: Option<&'t Path>,
}

impl Vault<'_> {
    /// The connection, the mount and the path below it.
    pub fn open(&self, root: &Path) -> Result<(Connection, String, String)> {
        let (mount, rest) = split(self.path, self.mount).map_err(Error::Usage)?;
        let env = crate::context::Env::process();
        let conn = Connection::from_env(env.reader(), root, self.token_file, self.namespace)?;
        Ok((conn, mount.to_string(), rest.to_string()))
    }

    fn value_of(&self, data: &Option<Data>) -> Result<Value> {
        let Some(data) = data else {
            return Ok(Value::FileMissing);
        };
        match data.0.get(self.field) {
            None | Some(Json::Null) => Ok(Value::KeyAbsent),
            Some(Json::String(s)) if s.is_empty() => Ok(Value::KeyAbsent),
            Some(Json::String(s)) => Ok(Value::Present {
                key: Secret::new(s.clone()),
                line: None,
            }),
            Some(_) => Err(Error::Failed(format!(
                "{}: the field {} is not a string (value not shown)",
                self.path, self.field
            ))),
        }
    }
}

impl TargetKind for Vault<'_> {
    fn read(
        &self,
        root: &Path,
        _env_var: &dyn Fn(&str) -> Option<OsString>,
        _scope: Option<&fsio::ReadScope>,
    ) -> TargetRead {
        let (value, remote) = match self.open(root).and_then(|(c, m, p)| c.read(&m, &p, None)) {
            Ok(cur) => (
                self.value_of(&cur.data),
                Some(Remote {
                    version: cur.version,
                    created_time: cur.created_time,
                }),
            ),
            Err(e) => (Err(e), None),
        };
        TargetRead {
            target: self.target.clone(),
            path: None,
            meta: None,
            value,
            findings: Vec::new(),
            remote,
        }
    }

    fn plan(&self, root: &Path, edits: &[Edit]) -> Result<Option<PlannedWrite>> {
        let (conn, mount, rest) = self.open(root)?;
        let cur = conn.read(&mount, &rest, None)?;
        let mut new = cur.data.clone().unwrap_or_default();
        for e in edits {
            match e.value {
                Some(k) => {
                    new.0.insert(
                        e.name.to_string(),
                        Json::String(k.expose_secret().to_string()),
                    );
                }
                None => {
                    new.0.remove(e.name);
                }
            }
        }
        Ok(Some(PlannedWrite::vault(
            self.target.label(),
            VaultWrite {
                conn,
                mount,
                rest,
                cas: cur.version,
                old: cur.data,
                new,
                written: AtomicU64::new(0),
            },
        )))
    }

    fn carries(&self, key: &Secret) -> std::result::Result<(), String> {
        // JSON carries any string; a key with a line break or NUL would not survive an
        // environment variable or a shell, so it is refused like the files refuse it.
        if key.expose_secret().chars().any(|c| c.is_control()) {
            return Err("it holds a control character, which an environment variable set from the store would not carry".into());
        }
        Ok(())
    }

    fn key_in(&self, text: &str) -> Option<Secret> {
        let data = Data::from_bytes(text.as_bytes())?;
        match self.value_of(&Some(data)) {
            Ok(Value::Present { key, .. }) => Some(key),
            _ => None,
        }
    }
}

/// A planned check-and-set write of one secret: the data read (version `cas`) and the
/// data to write. Its data holds keys: `Debug` shows field names only.
#[derive(Debug)]
pub struct VaultWrite {
    pub conn: Connection,
    pub mount: String,
    pub rest: String,
    /// The version read; the write lands only if it is still current.
    pub cas: u64,
    pub old: Option<Data>,
    pub new: Data,
    /// The version the commit wrote (0: not written).
    written: AtomicU64,
}

impl VaultWrite {
    pub fn commit(&self) -> Result<()> {
        pause_point("vault:cas");
        let v = self
            .conn
            .write(&self.mount, &self.rest, &self.new, self.cas)?;
        self.written.store(v, Ordering::SeqCst);
        Ok(())
    }

    /// The version written by [`VaultWrite::commit`], if it ran.
    pub fn written(&self) -> Option<u64> {
        Some(self.written.load(Ordering::SeqCst)).filter(|v| *v > 0)
    }

    /// Puts the data read back as one more version, if the version written is still the
    /// current one; a path keywarden created gets its only version deleted.
    pub fn undo(&self) -> Result<()> {
        let Some(v) = self.written() else {
            return Ok(());
        };
        match &self.old {
            Some(old) => self.conn.write(&self.mount, &self.rest, old, v).map(|_| ()),
            None => self.conn.delete_version(&self.mount, &self.rest, v),
        }
    }
}

/// Waits at `name` when `KEYWARDEN_PAUSE=NAME@DIR` says so: creates `DIR/NAME.reached`,
/// then waits (60 s at most) until `DIR/NAME.go` exists. How the race tests hold one
/// process between its read and its check-and-set write. Compiled out of release builds.
pub fn pause_point(name: &str) {
    #[cfg(debug_assertions)]
    {
        let env = crate::context::Env::process();
        if let Some(spec) = env.var("KEYWARDEN_PAUSE")
            && let Some((at, dir)) = spec.rsplit_once('@')
            && at == name
        {
            let file = name.replace(':', "-");
            let dir = Path::new(dir);
            let _ = std::fs::write(dir.join(format!("{file}.reached")), b"");
            for _ in 0..600 {
                if dir.join(format!("{file}.go")).exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// Destroys the versions of the store target that hold one of `keys` (a revocation: the
/// compromised key's data is gone for good, the metadata and the other versions stay).
/// Returns the versions destroyed.
pub fn destroy_holding(
    root: &Path,
    target: &Target,
    holds: &dyn Fn(&Secret) -> bool,
) -> Result<Vec<u64>> {
    let Some(v) = of(target) else {
        return Ok(Vec::new());
    };
    let (conn, mount, rest) = v.open(root)?;
    let mut doomed = Vec::new();
    for (n, alive) in conn.versions(&mount, &rest)? {
        if !alive {
            continue;
        }
        let cur = conn.read(&mount, &rest, Some(n))?;
        if let Ok(Value::Present { key, .. }) = v.value_of(&cur.data)
            && holds(&key)
        {
            doomed.push(n);
        }
    }
    if !doomed.is_empty() {
        conn.destroy(&mount, &rest, &doomed)?;
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mount_is_the_first_segment_or_the_one_named() {
        assert_eq!(
            split("secret/baguette/production", None).unwrap(),
            ("secret", "baguette/production")
        );
        assert_eq!(
            split("team/kv/app", Some("team/kv")).unwrap(),
            ("team/kv", "app")
        );
        assert!(split("secret", None).is_err());
        assert!(split("other/app", Some("team/kv")).is_err());
    }

    #[test]
    fn data_and_connections_hide_their_secrets_in_debug() {
        let mut m = serde_json::Map::new();
        m.insert("SECRET_KEY".into(), Json::String("s3cr3t-value".into()));
        let d = Data(m);
        let shown = format!("{d:?}");
        assert!(
            shown.contains("SECRET_KEY") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        let env = |n: &str| match n {
            "BAO_ADDR" => Some("http://127.0.0.1:1".into()),
            "BAO_TOKEN" => Some("hvs.tok3n-value".into()),
            _ => None,
        };
        let c = Connection::from_env(&env, Path::new("/"), None, None).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok3n"), "{shown}");
        assert_eq!(c.host_port, "127.0.0.1:1");
        // Unreachable: named by host and port, never with the token.
        let e = c.read("secret", "app", None).unwrap_err().to_string();
        assert!(e.contains("127.0.0.1:1") && !e.contains("tok3n"), "{e}");
    }

    #[test]
    fn a_planned_store_write_shows_no_key_in_debug() {
        let env = |n: &str| match n {
            "BAO_ADDR" => Some("http://127.0.0.1:1".into()),
            "BAO_TOKEN" => Some("hvs.tok3n-value".into()),
            _ => None,
        };
        let conn = Connection::from_env(&env, Path::new("/"), None, None).unwrap();
        let mut m = serde_json::Map::new();
        m.insert("SECRET_KEY".into(), Json::String("n3w-s3cr3t".into()));
        let w = VaultWrite {
            conn,
            mount: "secret".into(),
            rest: "app".into(),
            cas: 3,
            old: None,
            new: Data(m),
            written: AtomicU64::new(0),
        };
        let plan = PlannedWrite::vault("vault:secret/app#SECRET_KEY".into(), w);
        let shown = format!("{plan:?} {:?}", plan.store_write());
        assert!(
            !shown.contains("n3w-s3cr3t") && !shown.contains("tok3n"),
            "{shown}"
        );
        assert!(plan.changes_anything());
        // Undoing a write that never happened changes nothing and reaches no server.
        plan.undo().unwrap();
    }

    #[test]
    fn redirects_that_would_carry_the_token_elsewhere_are_refused() {
        let refused = |from: &str, to: &str| client::refuse_redirect(from, to).is_err();
        // A standby on the same host, another port; any host over TLS.
        assert!(!refused(
            "http://127.0.0.1:8200/v1/a",
            "http://127.0.0.1:8202/v1/a"
        ));
        assert!(!refused(
            "https://bao-1.example/v1/a",
            "https://bao-2.example:8200/v1/a"
        ));
        assert!(!refused(
            "http://bao-1.example/v1/a",
            "https://bao-2.example/v1/a"
        ));
        // TLS dropped, another host in the clear, an address with a user name.
        assert!(refused(
            "https://bao.example/v1/a",
            "http://bao.example/v1/a"
        ));
        assert!(refused(
            "HTTPS://bao.example/v1/a",
            "http://bao.example/v1/a"
        ));
        assert!(refused(
            "http://127.0.0.1:8200/v1/a",
            "http://localhost:8200/v1/a"
        ));
        assert!(refused(
            "http://127.0.0.1:8200/v1/a",
            "http://127.0.0.1@evil.example:8200/v1/a"
        ));
        assert!(refused(
            "https://bao.example/v1/a",
            "https://bao.example@evil.example/v1/a"
        ));
    }

    #[test]
    fn bao_addr_comes_before_vault_addr_and_a_token_is_required() {
        let env = |n: &str| match n {
            "BAO_ADDR" => Some("https://bao.example".into()),
            "VAULT_ADDR" => Some("http://vault.example:8200".into()),
            "VAULT_TOKEN" => Some("t".into()),
            _ => None,
        };
        let c = Connection::from_env(&env, Path::new("/"), None, None).unwrap();
        assert_eq!(c.host_port, "bao.example:443");
        assert_eq!(c.token_source, "VAULT_TOKEN");
        let none = |n: &str| (n == "BAO_ADDR").then(|| "http://h:1".into());
        let e = Connection::from_env(&none, Path::new("/"), None, None).unwrap_err();
        assert!(e.to_string().contains("BAO_TOKEN"), "{e}");
    }
}
