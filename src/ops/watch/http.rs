//! The webhook's one request: a JSON POST to an `http://` or `https://` receiver (a chat
//! bridge, an alert manager), over the same client as the secret store (ureq; rustls with
//! the system's root certificates, which `SSL_CERT_FILE` and `SSL_CERT_DIR` can point
//! elsewhere). No redirect is followed: an alert goes where the manifest says or fails.

use std::time::Duration;

/// The URL without any user:password part, for messages.
pub fn shown(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = auth.rsplit('@').next().unwrap_or(auth);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

/// POSTs `body` (JSON) to `url`; `Ok` on a 2xx answer. The error names the receiver
/// without its credentials.
pub fn post_json(url: &str, body: &str, timeout: Duration) -> Result<(), String> {
    let https = url.starts_with("https://");
    if !https && !url.starts_with("http://") {
        return Err("not an http:// or https:// URL".to_string());
    }
    let where_ = shown(url);
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .user_agent(concat!("keywarden/", env!("CARGO_PKG_VERSION")));
    if https {
        let tls = crate::targets::vault::client::tls_config(&None)
            .map_err(|e| format!("cannot load the system's root certificates: {e}"))?;
        config = config.tls_config(tls);
    }
    let agent: ureq::Agent = config.build().into();
    let answer = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body)
        .map_err(|e| format!("cannot POST to {where_}: {}", plain(&e)))?;
    let code = answer.status().as_u16();
    if (200..300).contains(&code) {
        Ok(())
    } else {
        Err(format!("{where_} answered HTTP {code}"))
    }
}

/// ureq's error in words, with any URL in it (which may carry credentials) left out.
fn plain(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(_) => "no answer in time".to_string(),
        ureq::Error::HostNotFound => "the host name does not resolve".to_string(),
        ureq::Error::ConnectionFailed => "the connection was refused or failed".to_string(),
        ureq::Error::Tls(why) => format!("TLS: {why}"),
        ureq::Error::Rustls(why) => format!("TLS: {why}"),
        other => {
            let text = other.to_string();
            if text.contains("://") {
                "the request failed".to_string()
            } else {
                text
            }
        }
    }
}
