//! `cargo bench --bench watch`: how fast `keywarden watch` catches up on a big log, and
//! how long a line written to a followed log takes to become an alert. Prints figures,
//! asserts nothing.
//!
//! `KEYWARDEN_BENCH_WATCH_MB` sets the log's size (default 256 MB; 1024 for the issue's
//! 1 GB).

use keywarden::context::{Clock, Context, Env};
use keywarden::keys::fingerprint::Pepper;
use keywarden::keys::secret::Secret;
use keywarden::ops::watch::follow::{Followed, From, READ_CHUNK, WINDOW};
use keywarden::ops::watch::search::{Needles, Searcher};
use keywarden::ops::watch::{Alert, Face, Options, Watch, metrics};
use keywarden::project::Project;
use keywarden::project::home::Home;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "}%V7%ot+5f9}FGbaJMeRh;Rh.vJy8=7ZQcyeI0q&,]u-$uCtz$QI}1_(7tV]T!>v";

fn write_log(path: &Path, mb: usize) -> (u64, u64) {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let (mut bytes, mut lines) = (0u64, 0u64);
    let target = (mb as u64) << 20;
    let mut i = 0u64;
    while bytes < target {
        let line = if i % 1000 == 999 {
            format!(
                "2026-01-01T10:00:{:02}Z ERROR app itsdangerous.exc.BadSignature: Signature b'abc{i}' does not match\n",
                i % 60
            )
        } else {
            format!(
                "127.0.0.1 - - [01/Jan/2026:10:00:{:02} +0000] \"GET /api/v1/items/{i}?page=2&sort=name HTTP/1.1\" 200 5123 \"-\" \"Mozilla/5.0\"\n",
                i % 60
            )
        };
        f.write_all(line.as_bytes()).unwrap();
        bytes += line.len() as u64;
        lines += 1;
        i += 1;
    }
    f.flush().unwrap();
    (bytes, lines)
}

struct Timed(Mutex<Sender<(Instant, Alert)>>);

impl Face for Timed {
    fn alert(&self, alert: &Alert) {
        let _ = self.0.lock().unwrap().send((Instant::now(), alert.clone()));
    }
    fn note(&self, _: &str) {}
}

fn main() {
    let mb: usize = std::env::var("KEYWARDEN_BENCH_WATCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("logs")).unwrap();
    let big = root.join("big.log");
    let (bytes, lines) = write_log(&big, mb);

    // Catch-up: one key (every encoding) and the signature patterns, from the start.
    let key = Secret::new(KEY.to_string());
    let needles = Needles::new(&[&key]);
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let mut searcher = Searcher::new(&needles, WINDOW);
        let mut read = vec![0u8; READ_CHUNK];
        let mut out = Vec::new();
        let t = Instant::now();
        let mut f = Followed::open(big.clone(), "big.log".into(), From::Start).unwrap();
        f.poll(&mut searcher, &mut read, &mut out).unwrap();
        best = best.min(t.elapsed());
        assert_eq!(f.lines, lines);
        assert_eq!(out.len() as u64, lines / 1000);
    }
    let s = best.as_secs_f64();
    println!(
        "catch-up: {mb} MB, {lines} lines in {:.2} s: {:.0} lines/s, {:.0} MB/s (best of 3)",
        s,
        lines as f64 / s,
        bytes as f64 / s / 1e6
    );
    let t = Instant::now();
    let scan =
        keywarden::scanning::logscan::scan(&root, &["big.log".to_string()], &[&key]).unwrap();
    let s2 = t.elapsed().as_secs_f64();
    println!(
        "the log audit (logscan::scan) on the same file: {:.2} s, {:.0} MB/s ({} signature errors)",
        s2,
        bytes as f64 / s2 / 1e6,
        scan.signature_errors()
    );
    rg_floor(&root, &big, &key, bytes);
    std::fs::remove_file(&big).unwrap();

    // Write -> alert: a watch on a project whose threshold is one signature error.
    std::fs::write(
        root.join("keywarden.toml"),
        "version = 1\n[[environments]]\nname = \"production\"\nlogs = [\"logs/*.log\"]\ntargets = [{ path = \".env\" }]\n[watch]\nsignature_errors = { count = 1, window_secs = 60 }\nquiet_secs = 0\n",
    )
    .unwrap();
    std::fs::write(root.join(".env"), format!("SECRET_KEY={KEY}\n")).unwrap();
    let log = root.join("logs/app.log");
    std::fs::write(&log, "start\n").unwrap();
    let home = tempfile::tempdir().unwrap();
    let pepper = Pepper::load_or_create(&Home::at(home.path().to_path_buf())).unwrap();
    let project = Project::open(
        Some(&root),
        Home::at(home.path().to_path_buf()),
        Context::new(Env::empty(), Clock::System),
    )
    .unwrap();
    let (tx, rx) = channel();
    let face = Arc::new(Timed(Mutex::new(tx)));
    let options = Options {
        environments: vec![],
        once: false,
        interval: Duration::from_secs(5),
        interval_only: false,
        textfile: None,
        report_opens: true,
    };
    let shared: metrics::Shared = Arc::new(Mutex::new(metrics::Metrics::default()));
    let watch = Watch::new(project, pepper, options, face, shared).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let handle = std::thread::spawn(move || watch.run(&stop2).unwrap());
    std::thread::sleep(Duration::from_millis(500));
    while rx.try_recv().is_ok() {}
    let mut delays = Vec::new();
    for i in 0..30 {
        let t = Instant::now();
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(f, "ERROR invalid signature on request {i}").unwrap();
        drop(f);
        let (at, _) = rx.recv_timeout(Duration::from_secs(10)).expect("an alert");
        delays.push(at - t);
        std::thread::sleep(Duration::from_millis(50));
    }
    delays.sort();
    println!(
        "write -> alert (inotify): median {:.2} ms, max {:.2} ms over {} lines",
        delays[delays.len() / 2].as_secs_f64() * 1e3,
        delays[delays.len() - 1].as_secs_f64() * 1e3,
        delays.len()
    );
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
}

/// The floor: ripgrep searching the same file for the same key forms (as is, JSON-escaped,
/// base64 and base64url at each alignment, the common percent-encodings) and the
/// signature patterns, in one pass (`-i`, as the patterns are matched; the key forms are
/// then matched case-insensitively too, a little more work than the log audit does).
fn rg_floor(root: &Path, big: &Path, key: &Secret, bytes: u64) {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use keywarden::keys::encodings::{JsonStyle, base64_needles, json_escape, percent_forms};
    let k = key.expose_secret();
    let mut forms: Vec<Vec<u8>> = vec![k.as_bytes().to_vec()];
    for style in [JsonStyle::Serde, JsonStyle::Python, JsonStyle::Go] {
        forms.push(json_escape(k, style).to_vec());
    }
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        forms.extend(
            base64_needles(k.as_bytes(), engine)
                .iter()
                .map(|n| n.to_vec()),
        );
    }
    forms.extend(percent_forms(k.as_bytes()).iter().map(|n| n.to_vec()));
    for p in keywarden::scanning::logscan::SIGNATURE_PATTERNS {
        forms.push(p.needle.as_bytes().to_vec());
    }
    forms.sort();
    forms.dedup();
    let list = root.join("patterns");
    std::fs::write(&list, forms.join(&b'\n')).unwrap();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let out = std::process::Command::new("rg")
            .args(["-a", "-c", "-i", "-F", "-j1", "-f"])
            .arg(&list)
            .arg(big)
            .output();
        match out {
            Ok(o) if o.status.success() || o.status.code() == Some(1) => {
                best = best.min(t.elapsed().as_secs_f64());
            }
            _ => {
                println!("rg -F -f: ripgrep is not installed (or failed): no floor row");
                return;
            }
        }
    }
    println!(
        "floor: rg -a -c -i -F -f ({} patterns) on the same file: {best:.2} s, {:.0} MB/s (best of 3)",
        forms.len(),
        bytes as f64 / best / 1e6
    );
}
