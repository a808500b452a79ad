//! `keywarden watch`: the continuous monitor, a thin face over [`crate::ops::watch`].

use super::common;
use crate::error::{Error, Result, exit};
use crate::ops::watch::{Alert, Face, Options, Watch, metrics};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Follow the environments' logs and watch their targets; raise alerts.
///
/// Alerts: signature_errors, key_exposed, rotation_due, target_changed, target_opened,
/// notifier_failed. Each goes to stdout, the audit trail, the environment's `notify`
/// command (on stdin) and `[watch] webhook`. Runs until stopped (Ctrl-C, SIGTERM: it then
/// delivers the alerts still queued, waiting at most 10 s, and exits 0), or one pass with
/// --once (for cron).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environments to watch (default: every one).
    #[arg(value_name = "ENV")]
    environments: Vec<String>,
    /// One pass, then exit: logs from where the last --once stopped, targets compared
    /// with what it saw.
    #[arg(long)]
    once: bool,
    /// Print each alert as one line of JSON.
    #[arg(long)]
    json: bool,
    /// Serve the Prometheus metrics on GET /metrics at this address (e.g. 127.0.0.1:9477;
    /// port 0 picks a free one, printed on stderr).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Also write the metrics, atomically, to this file (node_exporter's textfile
    /// collector wants a name ending in .prom).
    #[arg(long, value_name = "PATH")]
    textfile: Option<PathBuf>,
    /// The longest sleep between passes, in seconds (the polling interval where inotify
    /// is not available).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    interval: f64,
    /// Poll every --interval instead of using inotify (network file systems).
    #[arg(long)]
    poll: bool,
}

struct Out {
    json: bool,
    lock: Mutex<()>,
}

impl Face for Out {
    fn alert(&self, alert: &Alert) {
        let _guard = self.lock.lock();
        let text = if self.json {
            format!("{}\n", alert.json())
        } else {
            alert.text()
        };
        // Flushed per alert, even into a pipe.
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    }

    fn note(&self, note: &str) {
        eprintln!("keywarden: watch: {note}");
    }
}

pub fn run(args: Args, project: Option<&Path>) -> Result<u8> {
    if !(0.05..=3600.0).contains(&args.interval) {
        return Err(Error::Usage(format!(
            "--interval {} is out of range; give 0.05 to 3600 seconds",
            args.interval
        )));
    }
    let opened = common::open(project)?;
    common::prepare_hiding(&opened, true)?;
    let shared: metrics::Shared = Arc::new(Mutex::new(metrics::Metrics::default()));
    if let Some(addr) = &args.metrics {
        let bound = metrics::serve(addr, Arc::clone(&shared))?;
        eprintln!("keywarden: watch: metrics on http://{bound}/metrics");
    }
    let face = Arc::new(Out {
        json: args.json,
        lock: Mutex::new(()),
    });
    let options = Options {
        environments: args.environments.clone(),
        once: args.once,
        interval: Duration::from_secs_f64(args.interval),
        interval_only: args.poll,
        textfile: args.textfile.clone(),
        report_opens: true,
    };
    let common::Opened { project, pepper } = opened;
    let w = Watch::new(project, pepper, options, face, shared)?;
    if !args.once {
        eprintln!(
            "keywarden: watch: watching {}; alerts follow (Ctrl-C stops)",
            if args.environments.is_empty() {
                "every environment".to_string()
            } else {
                args.environments.join(", ")
            }
        );
    }
    if args.once {
        w.run(&AtomicBool::new(false))?;
    } else {
        // SIGTERM / Ctrl-C: stop following, deliver what is queued (bounded), exit 0.
        crate::sys::stop_on_signals();
        w.run(crate::sys::stop_asked())?;
    }
    Ok(exit::OK)
}
