//! The webhook's one request: an HTTP/1.1 POST of a JSON body over a plain TCP
//! connection, for `http://` receivers (a chat bridge, an alert manager on the same
//! network). `https://` webhooks are refused with a clear reason: this build carries no TLS
//! stack (see the README, "keywarden watch").

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
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

/// POSTs `body` (JSON) to `url`; `Ok` on a 2xx answer.
pub fn post_json(url: &str, body: &str, timeout: Duration) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(if url.starts_with("https://") {
            "https:// webhooks need TLS, which this build of keywarden does not include; use an http:// receiver on a trusted network, or a notify command (e.g. curl)".to_string()
        } else {
            "not an http:// URL".to_string()
        });
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let addr_text = if hostport.contains(':') && !hostport.ends_with(']') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let addrs: Vec<_> = addr_text
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {hostport}: {e}"))?
        .collect();
    let addr = addrs
        .first()
        .ok_or_else(|| format!("{hostport} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(addr, timeout)
        .map_err(|e| format!("cannot connect to {hostport}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nUser-Agent: keywarden/{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send to {hostport}: {e}"))?;
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match stream.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("no answer from {hostport}: {e}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..got]);
    let code = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("{hostport} did not answer with HTTP"))?;
    if (200..300).contains(&code) {
        Ok(())
    } else {
        Err(format!("{hostport} answered HTTP {code}"))
    }
}
