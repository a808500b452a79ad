//! `keywarden generate`: print fresh keys, one per line. The one command that prints keys.

use crate::error::{Error, Result, exit};
use crate::keys::generate::{self, Charset, KeySpec};
use crate::records::audit::{Outcome, Record};
use std::io::Write;

/// Print new random keys to stdout, one per line (from the OS's secure random source).
///
/// Character sets draw --length characters (default 64; the guide's minimum is 32):
/// `guide` (A-Z a-z 0-9 !@#$%^&*()_+-=[]{}|;:,.<>?), `alnum`. Encodings turn --bytes random
/// bytes into text: `hex`, `base64` (`--bytes 64` is `openssl rand -base64 64`), `base64url`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  keywarden generate\n  keywarden generate --charset base64 --bytes 64\n  keywarden generate --charset alnum --length 48 --count 3"
)]
pub struct Args {
    /// Character set or encoding.
    #[arg(long, default_value = "guide", value_parser = parse_charset)]
    charset: Charset,
    /// Key length in characters (character sets, and encodings when --bytes is absent).
    #[arg(long, value_name = "N", conflicts_with = "bytes")]
    length: Option<usize>,
    /// Random bytes to encode (hex, base64, base64url only).
    #[arg(long, value_name = "N")]
    bytes: Option<usize>,
    /// How many keys to print.
    #[arg(long, value_name = "N", default_value_t = 1)]
    count: usize,
}

fn parse_charset(s: &str) -> Result<Charset, String> {
    s.parse::<Charset>().map_err(|e| e.to_string())
}

/// The project whose audit trail records this `generate`: `--project`, or the nearest
/// folder holding keywarden.toml. Outside a project nothing is recorded.
fn audited_project(project: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    let start = match project {
        Some(p) => p.to_path_buf(),
        None => std::env::current_dir().ok()?,
    };
    start
        .ancestors()
        .find(|d| d.join(crate::project::manifest::FILE_NAME).is_file())
        .map(std::path::Path::to_path_buf)
}

pub fn run(args: Args, project: Option<&std::path::Path>) -> Result<u8> {
    let spec = KeySpec::new(args.charset, args.length, args.bytes)
        .map_err(|e| Error::Usage(e.to_string()))?;
    if args.count == 0 || args.count > generate::MAX_COUNT {
        return Err(Error::Usage(format!(
            "--count must be between 1 and {}",
            generate::MAX_COUNT
        )));
    }
    let keys = (0..args.count)
        .map(|_| generate::generate(&spec).map_err(|e| Error::Failed(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    if let Some(root) = audited_project(project) {
        // Fail closed: inside a project, keys are printed only once the audit trail says so.
        let opened = super::common::open(Some(&root))?;
        let mut rec = Record::new("generate", Outcome::Ok).detail(format!(
            "{} key(s) printed to stdout ({})",
            keys.len(),
            crate::ops::apply::describe(&spec)
        ));
        if let [k] = keys.as_slice() {
            rec = rec.new_fp(opened.pepper.fingerprint(k));
        }
        opened.project.audit().append(rec)?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for k in &keys {
        let written = out
            .write_all(k.expose_secret().as_bytes())
            .and_then(|_| out.write_all(b"\n"));
        if let Err(e) = written {
            // A closed pipe (`| head -1`) is not a failure of ours.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(exit::OK);
            }
            return Err(Error::writing("<stdout>", "write to", e));
        }
    }
    out.flush()
        .map_err(|e| Error::writing("<stdout>", "write to", e))?;
    Ok(exit::OK)
}
