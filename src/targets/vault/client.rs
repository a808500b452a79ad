//! The KV v2 HTTP API of OpenBao (and Vault, the same API), over ureq and rustls: read a
//! secret, write it with check-and-set, soft-delete a version, destroy versions, read the
//! metadata. Small enough that no SDK is needed.
//!
//! The address, token and CA are read from the process environment on every run
//! (`BAO_ADDR` before `VAULT_ADDR`, `BAO_TOKEN`/`VAULT_TOKEN`, a `token_file` named in the
//! manifest, `~/.vault-token`; `BAO_CACERT`/`VAULT_CACERT` added to the system roots). The
//! token is sent in a header and never appears in an error, a log or `Debug` output.

use crate::error::{Error, Result};
use serde_json::{Map, Value as Json};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The variables a store token is read from, in that order. The token opens every secret
/// its policy allows, not one environment's key: `run` does not pass them down.
pub const TOKEN_VARS: [&str; 2] = ["BAO_TOKEN", "VAULT_TOKEN"];

/// Where a secret is: the server, the mount and the path below it.
#[derive(Clone)]
pub struct Connection {
    /// `https://bao.example:8200`, without a trailing slash.
    pub addr: String,
    /// `host:port`, for errors.
    pub host_port: String,
    token: Zeroizing<String>,
    /// Where the token came from (`BAO_TOKEN`, `~/.vault-token`, …), for errors.
    pub token_source: String,
    pub namespace: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .field("token", &"<hidden>")
            .field("token_source", &self.token_source)
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// The data of one KV v2 version: field name → value. Its values are secrets: `Debug`
/// shows the field names only.
#[derive(Clone, Default, PartialEq)]
pub struct Data(pub Map<String, Json>);

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Data {
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(serde_json::to_vec(&self.0).unwrap_or_default())
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Data> {
        serde_json::from_slice(bytes).ok().map(Data)
    }
}

/// What a path holds now.
#[derive(Debug, Clone)]
pub struct Current {
    /// The current version; 0 when the path has never been written.
    pub version: u64,
    /// `None` when the path does not exist, or its current version is deleted or destroyed.
    pub data: Option<Data>,
    pub created_time: Option<jiff::Timestamp>,
}

/// A check-and-set write that lost: the version moved between the read and the write.
pub const CAS_LOST: &str = "check-and-set";

impl Connection {
    /// The connection the process environment describes (read now, on every run).
    /// `token_file` is the manifest's, relative to `root` when not absolute.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<OsString>,
        root: &Path,
        token_file: Option<&Path>,
        namespace: Option<&str>,
    ) -> Result<Connection> {
        let var = |n: &str| {
            env(n)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty())
        };
        let (addr, addr_var) = match (var("BAO_ADDR"), var("VAULT_ADDR")) {
            (Some(a), _) => (a, "BAO_ADDR"),
            (None, Some(a)) => (a, "VAULT_ADDR"),
            (None, None) => {
                return Err(Error::Usage(
                    "no OpenBao/Vault address: set BAO_ADDR (or VAULT_ADDR), e.g. export BAO_ADDR=https://bao.example:8200".into(),
                ));
            }
        };
        let addr = addr.trim_end_matches('/').to_string();
        let (scheme, rest) = addr.split_once("://").ok_or_else(|| {
            Error::Usage(format!(
                "{addr_var}={addr} is not an http:// or https:// address; set it like https://bao.example:8200"
            ))
        })?;
        if scheme != "http" && scheme != "https" {
            return Err(Error::Usage(format!(
                "{addr_var}={addr}: only http:// and https:// are supported"
            )));
        }
        let hostport = rest.split('/').next().unwrap_or(rest);
        let host_port = if hostport
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            hostport.to_string()
        } else {
            format!("{hostport}:{}", if scheme == "https" { 443 } else { 80 })
        };

        let (token, token_source) = if let Some(t) = var(TOKEN_VARS[0]) {
            (t, TOKEN_VARS[0].to_string())
        } else if let Some(t) = var(TOKEN_VARS[1]) {
            (t, TOKEN_VARS[1].to_string())
        } else {
            let from_file = |p: &Path| -> Result<Option<(String, String)>> {
                // A token others can read is theirs too: a regular file must be the
                // user's alone (`bao login` writes ~/.vault-token 0600).
                if let Ok(meta) = std::fs::metadata(p) {
                    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
                    if meta.is_file() && mode & 0o077 != 0 {
                        return Err(Error::input(
                            p,
                            None,
                            None,
                            format!(
                                "the OpenBao/Vault token file is readable by others (mode {:04o}): a token must be yours alone; keywarden did not use it",
                                mode & 0o7777
                            ),
                            Some(format!("chmod 600 {}", p.display())),
                        ));
                    }
                }
                match std::fs::read_to_string(p) {
                    Ok(t) if !t.trim().is_empty() => {
                        Ok(Some((t.trim().to_string(), p.display().to_string())))
                    }
                    Ok(_) => Err(Error::Usage(format!(
                        "{}: the token file is empty",
                        p.display()
                    ))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::Usage(format!(
                        "{}: cannot read the token file: {e}",
                        p.display()
                    ))),
                }
            };
            let manifest_file = token_file.map(|p| root.join(p));
            let home_file = var("HOME").map(|h| PathBuf::from(h).join(".vault-token"));
            let mut found = None;
            if let Some(p) = &manifest_file {
                found = from_file(p)?;
                if found.is_none() {
                    return Err(Error::Usage(format!(
                        "{}: the token file named by the manifest's `token_file` does not exist",
                        p.display()
                    )));
                }
            }
            if found.is_none()
                && let Some(p) = &home_file
            {
                found = from_file(p)?;
            }
            found.ok_or_else(|| {
                Error::Usage(format!(
                    "no token for OpenBao at {host_port}: set BAO_TOKEN (or VAULT_TOKEN), name a `token_file` in the target, or log in (`bao login` writes ~/.vault-token)"
                ))
            })?
        };
        let token = Zeroizing::new(token);

        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .timeout_connect(Some(Duration::from_secs(5)))
            .max_redirects(0)
            .user_agent(concat!("keywarden/", env!("CARGO_PKG_VERSION")));
        if scheme == "https" {
            config = config.tls_config(tls_config(&var("BAO_CACERT").or(var("VAULT_CACERT")))?);
        }
        let agent: ureq::Agent = config.build().into();
        Ok(Connection {
            addr,
            host_port,
            token,
            token_source,
            namespace: namespace.map(str::to_string),
            agent,
        })
    }

    fn url(&self, mount: &str, kind: &str, path: &str) -> String {
        format!("{}/v1/{mount}/{kind}/{path}", self.addr)
    }

    /// Sends a request; the status and the JSON body (`Null` when empty).
    fn send(&self, method: &str, url: &str, body: Option<&Json>) -> Result<(u16, Json)> {
        let bytes = Zeroizing::new(
            body.map(|b| serde_json::to_vec(b).unwrap_or_default())
                .unwrap_or_default(),
        );
        let mut url = url.to_string();
        // A standby node answers 307 with the active node's address: followed here (a
        // few hops at most), the body and the token sent again, as the `bao` CLI does.
        let mut via: Option<String> = None;
        for _ in 0..4 {
            let unreachable = |e: ureq::Error| {
                let at = host_port_of(&url).unwrap_or_else(|| self.host_port.clone());
                let said = e.to_string();
                let hint = if said.contains("certificate") {
                    "the server's TLS certificate is not trusted: set BAO_CACERT (or VAULT_CACERT) to the PEM file of the CA that signed it, or add that CA to the system's store"
                } else {
                    "check BAO_ADDR/VAULT_ADDR and that the server runs and is reachable from here"
                };
                Error::Failed(format!(
                    "cannot reach OpenBao/Vault at {at} ({}{}): {said}\n  hint: {hint}; nothing was changed",
                    self.addr,
                    via.as_ref().map_or(String::new(), |v| format!(
                        ", redirected by {v} to its active node"
                    ))
                ))
            };
            let token = self.token.as_str();
            let ns = self.namespace.as_deref();
            macro_rules! headers {
                ($req:expr) => {{
                    let r = $req.header("X-Vault-Token", token);
                    match ns {
                        Some(ns) => r.header("X-Vault-Namespace", ns),
                        None => r,
                    }
                }};
            }
            let mut response = match method {
                "GET" => headers!(self.agent.get(&url)).call(),
                "DELETE" => headers!(self.agent.delete(&url)).call(),
                "PUT" => headers!(self.agent.put(&url))
                    .content_type("application/json")
                    .send(&bytes[..]),
                _ => headers!(self.agent.post(&url))
                    .content_type("application/json")
                    .send(&bytes[..]),
            }
            .map_err(unreachable)?;
            let status = response.status().as_u16();
            if matches!(status, 301 | 302 | 307 | 308)
                && let Some(next) = response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
            {
                // The token goes with the request: a redirect that would send it in the
                // clear (https to http) or, over plain http, to another host than the one
                // named is refused, never followed.
                refuse_redirect(&url, next).map_err(|why| {
                    Error::Failed(format!(
                        "OpenBao/Vault at {} ({}) redirected keywarden to {}: {why}; keywarden did not follow it and did not send the token there\n  hint: check the cluster's api_addr (it must use the scheme and host clients reach), or point BAO_ADDR at the active node; nothing was changed",
                        host_port_of(&url).unwrap_or_else(|| self.host_port.clone()),
                        self.addr,
                        next.split('?').next().unwrap_or(next)
                    ))
                })?;
                via = host_port_of(&url);
                url = next.to_string();
                continue;
            }
            let text = Zeroizing::new(
                response
                    .body_mut()
                    .with_config()
                    .limit(4 << 20)
                    .read_to_string()
                    .map_err(unreachable)?,
            );
            let json = if text.trim().is_empty() {
                Json::Null
            } else {
                match serde_json::from_str(&text) {
                    Ok(json) => json,
                    // A success that is not JSON (a proxy's or portal's HTML page) is not
                    // OpenBao's answer; an error status keeps its status for the hint.
                    Err(_) if (200..300).contains(&status) => {
                        return Err(Error::Failed(format!(
                            "{} ({}) answered HTTP {status} with a body that is not JSON: that is not OpenBao/Vault's API (a proxy or a login page in between?)\n  hint: check BAO_ADDR/VAULT_ADDR and any proxy between here and the server; nothing was changed",
                            host_port_of(&url).unwrap_or_else(|| self.host_port.clone()),
                            self.addr
                        )));
                    }
                    Err(_) => Json::Null,
                }
            };
            return Ok((status, json));
        }
        Err(Error::Failed(format!(
            "OpenBao/Vault at {} ({}) redirected keywarden too many times; check the cluster's api_addr settings",
            self.host_port, self.addr
        )))
    }

    /// The server's own words for a failed request (never the data).
    fn server_errors(json: &Json) -> String {
        json.get("errors")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(|s| {
                        // `1 error occurred:\n\t* permission denied\n\n` → the causes.
                        s.lines()
                            .map(|l| l.trim().trim_start_matches("* "))
                            .filter(|l| !l.is_empty() && !l.ends_with("occurred:"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    /// The error for a status that is not a success, naming the address, the path and
    /// what to do.
    fn failure(&self, status: u16, json: &Json, mount: &str, path: &str, doing: &str) -> Error {
        self.failure_hiding(status, json, mount, path, doing, None)
    }

    /// [`Connection::failure`], with the server's words scrubbed of the token and of every
    /// value of `sent` (a server or proxy that echoes the request must not put the key,
    /// or the other fields' secrets, in an error).
    fn failure_hiding(
        &self,
        status: u16,
        json: &Json,
        mount: &str,
        path: &str,
        doing: &str,
        sent: Option<&Data>,
    ) -> Error {
        let mut said = Self::server_errors(json);
        let mut hide: Vec<&str> = vec![self.token.as_str()];
        if let Some(sent) = sent {
            hide.extend(sent.0.values().filter_map(Json::as_str));
        }
        for h in hide {
            // A short value would hide ordinary words; a key or a token is long. The
            // JSON-escaped form too: a server echoing the request body as text.
            let escaped = Zeroizing::new(serde_json::to_string(h).unwrap_or_default());
            let escaped = escaped
                .get(1..escaped.len().saturating_sub(1))
                .unwrap_or("");
            for form in [h, escaped] {
                if form.len() >= 8 && said.contains(form) {
                    said = said.replace(form, "[hidden]");
                }
            }
        }
        let at = format!("{mount}/{path} on {} ({})", self.addr, self.host_port);
        let hint = match status {
            403 => format!(
                "permission denied: the token from {} may not {doing} {mount}/data/{path}; check its policy (`bao token capabilities {mount}/data/{path}`) or that it has not expired",
                self.token_source
            ),
            503 if said.to_lowercase().contains("sealed") => {
                "the server is sealed: unseal it (`bao operator unseal`) and retry".to_string()
            }
            404 | 400
                if said.contains("no handler for route") || said.contains("unsupported path") =>
            {
                format!(
                    "no KV v2 secrets engine is mounted at `{mount}/`: check the target's mount (`bao secrets list`), or enable one (`bao secrets enable -path={mount} kv-v2`)"
                )
            }
            _ if said.contains("check-and-set parameter required") => {
                "the mount requires check-and-set and the write had none".to_string()
            }
            _ => "check the server's state and retry".to_string(),
        };
        Error::Failed(format!(
            "OpenBao/Vault refused to {doing} {at}: HTTP {status}{}\n  hint: {hint}; nothing else was changed",
            if said.is_empty() {
                String::new()
            } else {
                format!(" ({said})")
            }
        ))
    }

    /// The current version of `mount`/`path` (or `version`).
    pub fn read(&self, mount: &str, path: &str, version: Option<u64>) -> Result<Current> {
        let mut url = self.url(mount, "data", path);
        if let Some(v) = version {
            url.push_str(&format!("?version={v}"));
        }
        let (status, json) = self.send("GET", &url, None)?;
        let meta = json.pointer("/data/metadata");
        let version_of = |m: Option<&Json>| m.and_then(|m| m.get("version")).and_then(Json::as_u64);
        let created = meta
            .and_then(|m| m.get("created_time"))
            .and_then(Json::as_str)
            .and_then(|s| s.parse::<jiff::Timestamp>().ok());
        match status {
            200 if version_of(meta).is_none() => Err(Error::Failed(format!(
                "OpenBao/Vault at {} ({}) answered the read of {mount}/{path} with no version in its metadata: that is not a KV v2 answer\n  hint: check that `{mount}/` is a KV v2 mount (`bao secrets list -detailed`) and that nothing between here and the server rewrites answers; nothing was changed",
                self.host_port, self.addr
            ))),
            200 => {
                let data = json
                    .pointer("/data/data")
                    .and_then(Json::as_object)
                    .cloned()
                    .map(Data);
                Ok(Current {
                    version: version_of(meta).unwrap_or(0),
                    data,
                    created_time: created,
                })
            }
            // Never written, or the version is deleted or destroyed (then the metadata
            // still names it).
            404 if Self::server_errors(&json).is_empty() => {
                let version = match version_of(meta) {
                    Some(v) => v,
                    None => self.current_version(mount, path)?,
                };
                Ok(Current {
                    version,
                    data: None,
                    created_time: created,
                })
            }
            _ => Err(self.failure(status, &json, mount, path, "read")),
        }
    }

    /// The path's current version from its metadata (0: never written).
    pub fn current_version(&self, mount: &str, path: &str) -> Result<u64> {
        let (status, json) = self.send("GET", &self.url(mount, "metadata", path), None)?;
        match status {
            200 => Ok(json
                .pointer("/data/current_version")
                .and_then(Json::as_u64)
                .unwrap_or(0)),
            404 if Self::server_errors(&json).is_empty() => Ok(0),
            _ => Err(self.failure(status, &json, mount, path, "read the metadata of")),
        }
    }

    /// The versions the metadata lists, oldest first, with whether each still has data.
    pub fn versions(&self, mount: &str, path: &str) -> Result<Vec<(u64, bool)>> {
        let (status, json) = self.send("GET", &self.url(mount, "metadata", path), None)?;
        match status {
            200 => {
                let mut out: Vec<(u64, bool)> = json
                    .pointer("/data/versions")
                    .and_then(Json::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| {
                                let n = k.parse::<u64>().ok()?;
                                let destroyed =
                                    v.get("destroyed").and_then(Json::as_bool).unwrap_or(false);
                                let deleted = v
                                    .get("deletion_time")
                                    .and_then(Json::as_str)
                                    .is_some_and(|s| !s.is_empty());
                                Some((n, !destroyed && !deleted))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.sort();
                Ok(out)
            }
            404 if Self::server_errors(&json).is_empty() => Ok(Vec::new()),
            _ => Err(self.failure(status, &json, mount, path, "read the metadata of")),
        }
    }

    /// Writes `data` as the next version, only if the current version is still `cas`
    /// (0: the path does not exist yet). Returns the new version. A lost race is an
    /// error naming the version that won.
    pub fn write(&self, mount: &str, path: &str, data: &Data, cas: u64) -> Result<u64> {
        let body =
            serde_json::json!({ "options": { "cas": cas }, "data": Json::Object(data.0.clone()) });
        let (status, json) = self.send("POST", &self.url(mount, "data", path), Some(&body))?;
        drop(body);
        match status {
            200 | 204 => match json.pointer("/data/version").and_then(Json::as_u64) {
                Some(v) if v > cas => Ok(v),
                // A success that names no new version is not counted as a write until
                // the store shows it: the current version after `cas`, holding `data`.
                said => self.confirm(mount, path, data, cas, said),
            },
            400 if Self::server_errors(&json).contains("did not match the current version") => {
                let won = self.current_version(mount, path).unwrap_or(0);
                Err(Error::Failed(format!(
                    "{CAS_LOST} write to {mount}/{path} on {} lost a race: version {won} was written by someone else after keywarden read version {cas}; this step was aborted and nothing else was changed\n  hint: check who wrote version {won} and what it holds (`bao kv metadata get {mount}/{path}`); the key keywarden drew is kept in its backups",
                    self.addr
                )))
            }
            _ => Err(self.failure_hiding(status, &json, mount, path, "write", Some(data))),
        }
    }

    /// The version a write answered without a usable version landed as, read back: the
    /// current version must be after `cas` and hold exactly `data`; otherwise the write
    /// is not counted (an error naming what the server said).
    fn confirm(
        &self,
        mount: &str,
        path: &str,
        data: &Data,
        cas: u64,
        said: Option<u64>,
    ) -> Result<u64> {
        let now = self.read(mount, path, None)?;
        if now.version > cas && now.data.as_ref() == Some(data) {
            return Ok(now.version);
        }
        Err(Error::Failed(format!(
            "OpenBao/Vault at {} ({}) answered the write of {mount}/{path} (check-and-set on version {cas}) with success but {}, and the store's current version is {}{}: keywarden does not count it as written\n  hint: check the server (or a proxy in front of it) and `bao kv metadata get {mount}/{path}`, then retry",
            self.host_port,
            self.addr,
            match said {
                Some(v) => format!("named version {v}, not one after {cas}"),
                None => "named no new version".to_string(),
            },
            now.version,
            if now.version > cas {
                " with other data than keywarden wrote"
            } else {
                ""
            }
        )))
    }

    /// Soft-deletes `version` (its data can be undeleted; the metadata stays).
    pub fn delete_version(&self, mount: &str, path: &str, version: u64) -> Result<()> {
        let body = serde_json::json!({ "versions": [version] });
        let (status, json) = self.send("POST", &self.url(mount, "delete", path), Some(&body))?;
        match status {
            200 | 204 => Ok(()),
            _ => Err(self.failure(status, &json, mount, path, "delete a version of")),
        }
    }

    /// Destroys `versions` for good (their data is gone; the metadata stays).
    pub fn destroy(&self, mount: &str, path: &str, versions: &[u64]) -> Result<()> {
        let body = serde_json::json!({ "versions": versions });
        let (status, json) = self.send("PUT", &self.url(mount, "destroy", path), Some(&body))?;
        match status {
            200 | 204 => Ok(()),
            _ => Err(self.failure(status, &json, mount, path, "destroy versions of")),
        }
    }
}

/// Why a redirect from `from` to `to` must not be followed with the token, if it must
/// not: https to http would send the token in the clear; over plain http, another host
/// than the one keywarden was pointed at would get it (a standby on the same host, on
/// another port, is followed). Over https any host is followed: its certificate must be
/// one keywarden trusts.
pub(super) fn refuse_redirect(from: &str, to: &str) -> std::result::Result<(), String> {
    let scheme = |u: &str| u.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let host = |u: &str| {
        host_port_of(u).map(|hp| {
            hp.rsplit_once(':')
                .map_or(hp.clone(), |(h, _)| h.to_string())
                .to_ascii_lowercase()
        })
    };
    let authority = to.split_once("://").map_or(to, |(_, r)| r);
    if authority
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .contains('@')
    {
        return Err("that address carries a user name".into());
    }
    match (scheme(from).as_deref(), scheme(to).as_deref()) {
        (Some("https"), Some("https")) => Ok(()),
        (Some("https"), _) => Err("that drops TLS (https to http)".into()),
        (_, Some("http")) if host(from) != host(to) => {
            Err("that is another host, over plain http".into())
        }
        _ => Ok(()),
    }
}

/// `host:port` of an `http(s)://host:port/…` URL.
fn host_port_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let hp = rest.split('/').next()?;
    Some(
        if hp
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            hp.to_string()
        } else {
            format!("{hp}:{}", if scheme == "https" { 443 } else { 80 })
        },
    )
}

/// The system roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` name others), plus the PEM file
/// `cacert` names (BAO_CACERT/VAULT_CACERT). The webhook of `watch` trusts the same roots.
pub fn tls_config(cacert: &Option<String>) -> Result<ureq::tls::TlsConfig> {
    use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
    let mut roots: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(file) = cacert {
        let pem = std::fs::read(file).map_err(|e| {
            Error::Usage(format!(
                "{file}: cannot read the CA certificate that BAO_CACERT/VAULT_CACERT names: {e}"
            ))
        })?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(PemItem::Certificate(c)) = item {
                roots.push(c.to_owned());
            }
        }
        if roots.len() == before {
            return Err(Error::Usage(format!(
                "{file}: no PEM certificate in the file BAO_CACERT/VAULT_CACERT names"
            )));
        }
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .build())
}
