//! The OpenBao/Vault target against answers a real server does not give: redirects that
//! would carry the token elsewhere, a success to a write that did not happen. A small
//! HTTP server on loopback plays the hostile or misconfigured server (real sockets, real
//! requests); every normal behaviour is tested against a real OpenBao in vault.rs.

use crate::support::{Sandbox, stderr, stdout};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "hvs.hostile-test-t0ken";

/// One request as the server saw it: the request line, the headers, the body.
type Seen = Arc<Mutex<Vec<String>>>;

/// An HTTP/1.1 server on a free 127.0.0.1 port answering every request with
/// `answer(method, path)` = (status line, extra headers, body), recording each request.
fn serve(
    answer: impl Fn(&str, &str) -> (String, String, String) + Send + Sync + 'static,
) -> (u16, Seen) {
    serve_body(move |m, p, _| answer(m, p))
}

/// [`serve`], the answer also given the request's body.
fn serve_body(
    answer: impl Fn(&str, &str, &str) -> (String, String, String) + Send + Sync + 'static,
) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            let answer = answer.clone();
            std::thread::spawn(move || handle(stream, &log, &*answer));
        }
    });
    (port, seen)
}

type Answer = dyn Fn(&str, &str, &str) -> (String, String, String);

fn handle(stream: TcpStream, log: &Seen, answer: &Answer) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut head = String::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let request_line = line.trim().to_string();
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            head.push_str(&line);
        }
        let mut body = vec![0u8; length];
        let _ = reader.read_exact(&mut body);
        log.lock().unwrap().push(format!(
            "{request_line}\n{head}\n{}",
            String::from_utf8_lossy(&body)
        ));
        let mut parts = request_line.split(' ');
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (status, headers, text) = answer(method, path, &String::from_utf8_lossy(&body));
        let _ = write!(
            out,
            "HTTP/1.1 {status}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        let _ = out.flush();
    }
}

fn kw(sb: &Sandbox, port: u16) -> assert_cmd::Command {
    let mut cmd = sb.kw();
    cmd.env("BAO_ADDR", format!("http://127.0.0.1:{port}"))
        .env("BAO_TOKEN", TOKEN)
        .env("HOME", sb.home.path())
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
        .env_remove("BAO_CACERT")
        .env_remove("VAULT_CACERT")
        .env_remove("KEYWARDEN_PAUSE");
    cmd
}

fn project(sb: &Sandbox) {
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ vault = \"secret/app/production\" }, { path = \"prod.env\" }]\n",
    );
}

#[test]
fn a_redirect_to_another_host_over_plain_http_is_refused_and_gets_no_token() {
    // The place the token must never reach: another host name (localhost, not the
    // 127.0.0.1 keywarden was pointed at), over plain http.
    let (elsewhere, stolen) = serve(|_, _| {
        (
            "404 Not Found".into(),
            String::new(),
            "{\"errors\":[]}".into(),
        )
    });
    let (port, seen) = serve(move |_, path| {
        (
            "307 Temporary Redirect".into(),
            format!("Location: http://localhost:{elsewhere}{path}\r\n"),
            String::new(),
        )
    });
    let sb = Sandbox::new();
    project(&sb);
    for args in [
        &["status", "--json"][..],
        &["set", "production", "--generate", "--yes"][..],
    ] {
        let out = kw(&sb, port).args(args).output().unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            all.contains("redirected keywarden to http://localhost:")
                && all.contains("another host")
                && all.contains("did not send the token"),
            "{args:?}: {all}"
        );
        assert!(!all.contains(TOKEN), "{all}");
    }
    assert!(!seen.lock().unwrap().is_empty(), "keywarden never asked");
    let stolen = stolen.lock().unwrap();
    assert!(
        stolen.is_empty(),
        "a request reached the other host: {stolen:?}"
    );
    // Nothing was written locally either.
    assert!(!sb.root().join("prod.env").exists());
}

#[test]
fn a_success_to_a_write_that_did_not_happen_is_not_counted_as_a_write() {
    // The path does not exist; the write is answered 200 with no version, and the store
    // still holds nothing (a proxy that swallows writes, a hostile server).
    let (port, seen) = serve(|method, _| match method {
        "POST" => ("200 OK".into(), String::new(), "{}".into()),
        _ => (
            "404 Not Found".into(),
            String::new(),
            "{\"errors\":[]}".into(),
        ),
    });
    let sb = Sandbox::new();
    project(&sb);
    let out = kw(&sb, port)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}{err}", stdout(&out));
    assert!(
        err.contains("named no new version") && err.contains("does not count it as written"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
    assert!(
        seen.lock().unwrap().iter().any(|r| r.starts_with("POST")),
        "keywarden never wrote"
    );
    // The local file was not given a key the store does not hold.
    let local = std::fs::read_to_string(sb.root().join("prod.env")).unwrap_or_default();
    assert!(!local.contains("SECRET_KEY="), "{local}");
}

#[test]
fn a_write_answered_with_a_version_that_goes_backwards_is_not_counted() {
    // The secret is at version 5; the write (cas 5) is answered "version 3".
    let (port, _seen) = serve(|method, path| {
        match (method, path.contains("/metadata/")) {
        ("POST", _) => (
            "200 OK".into(),
            String::new(),
            "{\"data\":{\"version\":3}}".into(),
        ),
        (_, true) => (
            "200 OK".into(),
            String::new(),
            "{\"data\":{\"current_version\":5,\"versions\":{}}}".into(),
        ),
        _ => (
            "200 OK".into(),
            String::new(),
            "{\"data\":{\"data\":{\"OTHER\":\"x\"},\"metadata\":{\"version\":5,\"created_time\":\"2026-01-01T00:00:00Z\"}}}".into(),
        ),
    }
    });
    let sb = Sandbox::new();
    project(&sb);
    let out = kw(&sb, port)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}{err}", stdout(&out));
    assert!(err.contains("named version 3, not one after 5"), "{err}");
    let local = std::fs::read_to_string(sb.root().join("prod.env")).unwrap_or_default();
    assert!(!local.contains("SECRET_KEY="), "{local}");
}

#[test]
fn run_passes_down_neither_the_backups_passphrase_file_nor_the_store_token() {
    let sb = Sandbox::new();
    sb.write(
        "keywarden.toml",
        "version = 1\n[[environments]]\nname = \"production\"\ntargets = [{ path = \"prod.env\" }]\n",
    );
    let out = sb
        .kw()
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let script = "echo \"pass=${KEYWARDEN_PASSPHRASE_FILE-unset} bao=${BAO_TOKEN-unset} vault=${VAULT_TOKEN-unset} addr=${BAO_ADDR-unset} key=${#SECRET_KEY}\"";
    let run = |extra: &[&str]| {
        let out = sb
            .kw()
            .env("BAO_TOKEN", "s.bao-token-of-the-shell")
            .env("VAULT_TOKEN", "s.vault-token-of-the-shell")
            .env("BAO_ADDR", "http://127.0.0.1:1")
            .arg("run")
            .args(extra)
            .args(["production", "--", "sh", "-c", script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    // The passphrase file and both token variables are gone; the address (no secret) and
    // the key are there.
    let said = run(&[]);
    assert!(
        said.starts_with("pass=unset bao=unset vault=unset addr=http://127.0.0.1:1 key="),
        "{said}"
    );
    assert!(!said.contains("key=0\n"), "{said}");
    // `--var BAO_TOKEN`: the key takes the token's place, the token is not what it gets.
    let out = sb
        .kw()
        .env("BAO_TOKEN", "s.bao-token-of-the-shell")
        .args([
            "run",
            "production",
            "--var",
            "BAO_TOKEN",
            "--",
            "sh",
            "-c",
            "echo \"${#BAO_TOKEN} ${BAO_TOKEN%%-token-of-the-shell}\"",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got = stdout(&out);
    let len: usize = got.split_whitespace().next().unwrap().parse().unwrap();
    assert!(len >= 32, "the child's BAO_TOKEN is not the key: {got}");
    assert!(!got.contains("s.bao"), "{got}");
    // A name no shell could export is refused before anything runs.
    for bad in [
        "",
        "X=Y",
        "1KEY",
        "SECRET KEY",
        "LD_PRELOAD",
        "PATH",
        "BASH_ENV",
    ] {
        let out = sb
            .kw()
            .args([
                "run",
                "production",
                "--var",
                bad,
                "--",
                "sh",
                "-c",
                "echo ran",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "--var {bad:?}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(
            err.contains("is not a variable name") || err.contains("how to start or run programs"),
            "{err}"
        );
        assert!(!stdout(&out).contains("ran"));
    }
    // Asked for, the tokens are passed down as they are; the passphrase file never is.
    let said = run(&["--keep-store-token"]);
    assert!(
        said.starts_with(
            "pass=unset bao=s.bao-token-of-the-shell vault=s.vault-token-of-the-shell addr="
        ),
        "{said}"
    );
}

#[test]
fn a_server_that_echoes_the_request_in_its_error_does_not_put_the_key_or_token_in_ours() {
    // A write refused with a 400 whose error quotes the request body and the token, as
    // a buggy server or proxy might; the other field holds a secret of its own.
    let (port, seen) = serve_body(|method, path, body| {
        match (method, path.contains("/metadata/")) {
        ("POST", _) => (
            "400 Bad Request".into(),
            String::new(),
            serde_json::json!({ "errors": [format!("invalid request {body} from token {TOKEN}")] })
                .to_string(),
        ),
        (_, true) => (
            "200 OK".into(),
            String::new(),
            "{\"data\":{\"current_version\":1,\"versions\":{}}}".into(),
        ),
        _ => (
            "200 OK".into(),
            String::new(),
            "{\"data\":{\"data\":{\"DATABASE_URL\":\"postgres://u:db-pa55word@db/app\"},\"metadata\":{\"version\":1}}}".into(),
        ),
    }
    });
    let sb = Sandbox::new();
    project(&sb);
    let out = kw(&sb, port)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("HTTP 400") && all.contains("[hidden]"),
        "{all}"
    );
    let sent = seen
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.starts_with("POST"))
        .cloned()
        .expect("keywarden never wrote");
    let body: serde_json::Value =
        serde_json::from_str(sent.rsplit("\n\n").next().unwrap()).unwrap();
    let key = body["data"]["SECRET_KEY"].as_str().unwrap().to_string();
    assert!(key.len() >= 32, "{sent}");
    crate::support::assert_no_key("the error", all.as_bytes(), &key);
    assert!(!all.contains(TOKEN), "{all}");
    assert!(!all.contains("db-pa55word"), "{all}");
}

#[test]
fn a_proxy_page_answering_200_is_an_error_not_a_missing_secret() {
    // A captive portal or proxy login page: every request answered 200 with HTML.
    let (port, _seen) = serve(|_, _| {
        (
            "200 OK".into(),
            String::new(),
            "<html><body>Please log in to the proxy</body></html>".into(),
        )
    });
    let sb = Sandbox::new();
    project(&sb);
    let out = kw(&sb, port).args(["status", "--json"]).output().unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        all.contains("a body that is not JSON") && all.contains(&format!("127.0.0.1:{port}")),
        "{all}"
    );
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(
        st["environments"][0]["targets"][0]["state"], "missing",
        "{st}"
    );
    let out = kw(&sb, port)
        .args(["set", "production", "--generate", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not JSON"), "{}", stderr(&out));
    assert!(!sb.root().join("prod.env").exists());
}
