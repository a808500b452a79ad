//! The hash chain: each line carries the SHA-256 of the line before it, and `audit.head`
//! beside the log remembers the count and the last hash, so an edited, inserted or deleted
//! line (the last ones included) is found by [`AuditLog::verify`].

use super::*;

/// Beside the log: how many lines it had and the hash of the last one.
pub const HEAD_FILE: &str = "audit.head";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Head {
    pub(super) lines: u64,
    pub(super) last: String,
    /// The log's length in bytes after the last line (absent in heads of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) len: Option<u64>,
    /// The hash of a line being appended: written before the line, so a crash between
    /// the append and the head's update is told from a line added by something else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<String>,
}

/// A trail's end as recorded somewhere else than `audit.head` (in `state.json`, by
/// [`crate::project::state::State::save`]): how many lines it had and the last one's
/// hash. Always an end the log once had, so the log must still begin with that many
/// lines, that one last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailMark {
    pub lines: u64,
    pub last: String,
}

impl TrailMark {
    /// The end `audit.head` in `state_dir` records now, if it holds one.
    pub fn recorded_in(state_dir: &Path) -> Option<TrailMark> {
        let h: Head =
            serde_json::from_slice(&std::fs::read(state_dir.join(HEAD_FILE)).ok()?).ok()?;
        (h.lines > 0).then_some(TrailMark {
            lines: h.lines,
            last: h.last,
        })
    }

    /// The mark `state.json` in `state_dir` carries, if any.
    pub(super) fn in_state(state_dir: &Path) -> Option<TrailMark> {
        let bytes = std::fs::read(state_dir.join(crate::project::state::STATE_FILE)).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        serde_json::from_value(v.get("audit")?.clone()).ok()
    }

    /// What the log (`lines`, complete lines) says against this mark: `None` when it
    /// still holds the marked line where it was.
    pub(super) fn gone(&self, lines: &[&[u8]]) -> Option<String> {
        let m = self.lines as usize;
        if lines.len() < m {
            return Some(format!(
                "state.json recorded {m} line(s): line(s) {}–{m} are gone",
                lines.len() + 1
            ));
        }
        (sha256_hex(lines[m - 1]) != self.last).then(|| {
            format!("line {m} is not the line state.json recorded there: the log was rewritten")
        })
    }
}

/// What `audit.head` holds, read.
pub(super) enum HeadRead {
    Found(Head),
    Missing,
    /// There, but not a head keywarden wrote (the reason, never the content).
    Damaged(String),
}

/// Compares an intact chain with the recorded head: fewer lines, or a different line at
/// the recorded position, means lines were removed from (or replaced at) the end.
pub(super) fn tail_problem(bytes: &[u8], lines: usize, head: &Head) -> Option<ChainProblem> {
    let recorded = head.lines as usize;
    if recorded == 0 {
        return None;
    }
    if lines < recorded {
        return Some(ChainProblem {
            line: lines + 1,
            message: format!(
                "the log ends after line {lines}, but {recorded} lines were recorded: line(s) {}–{recorded} were removed from the end",
                lines + 1
            ),
        });
    }
    let all: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let at = all.get(recorded - 1)?;
    if sha256_hex(at) != head.last {
        return Some(ChainProblem {
            line: recorded,
            message: format!(
                "line {recorded} is not the line that was recorded there: the end of the log was rewritten"
            ),
        });
    }
    // One line more than recorded is an append whose head update was cut short, if the
    // head announced it; anything else after the recorded end was not written by
    // keywarden.
    let announced = lines == recorded + 1
        && head.pending.as_deref() == all.get(recorded).map(|l| sha256_hex(l)).as_deref();
    (lines > recorded && !announced).then(|| ChainProblem {
        line: recorded + 1,
        message: format!(
            "line(s) {}–{lines} follow the last line keywarden recorded ({recorded}): they were appended by something else",
            recorded + 1
        ),
    })
}

/// The outcome of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Lines checked (complete lines in the file, up to and including the first problem).
    pub lines: usize,
    /// The first problem found, if any.
    pub problem: Option<ChainProblem>,
    /// SHA-256 (lowercase hex) of the last complete line, or [`GENESIS_PREV`] for an empty
    /// log: what the next event's `prev` will be. Keep it elsewhere to detect tail deletion.
    pub head: String,
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }
}

/// Where the chain breaks and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

/// Splits into complete lines (without newlines) and a trailing fragment with no newline.
pub(super) fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, Option<&[u8]>) {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // `split` always yields a last piece: empty if the file ends with '\n' (or is empty).
    let tail = lines.pop().filter(|t| !t.is_empty());
    (lines, tail)
}

/// Checks the chain of `project`'s log: every line follows the one before it, the first
/// from the project's [`genesis`] (or, in a log written before the chain was bound to
/// its project, from [`GENESIS_PREV`]), and every line names `project`.
pub(super) fn verify_bytes(bytes: &[u8], project: &str) -> Verification {
    let (lines, partial) = split_lines(bytes);
    // Every line's hash, to tell a line out of place (its `prev` names another line of
    // the file) from one whose predecessor was changed (its `prev` names no line at all).
    let hashes: Vec<String> = lines.iter().map(|l| sha256_hex(l)).collect();
    let start = genesis(project);
    let mut head = start.clone();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let problem = |message: String| Verification {
            lines: n,
            problem: Some(ChainProblem { line: n, message }),
            head: head.clone(),
        };
        if line.is_empty() {
            return problem(format!("line {n} is empty"));
        }
        let event = match serde_json::from_slice::<Event>(line) {
            Ok(ev) => ev,
            Err(e) if e.is_syntax() || e.is_eof() => {
                return problem(format!("line {n} is not valid JSON ({})", json_reason(&e)));
            }
            Err(e) => {
                return problem(format!(
                    "line {n} is not a valid audit event ({})",
                    json_reason(&e)
                ));
            }
        };
        if event.project != project {
            return problem(format!(
                "line {n} records the project {}, not this one ({project}): it was copied from another project's trail",
                event.project
            ));
        }
        let legacy_start = n == 1 && event.prev == GENESIS_PREV;
        if event.prev != head && !legacy_start {
            if n == 1 {
                return problem(
                    "line 1 was changed, or lines before it were removed: its `prev` is not the start of a log".to_string(),
                );
            }
            if hashes.contains(&event.prev) {
                return problem(format!(
                    "line {n} is out of place (moved, inserted or repeated): its `prev` names another line than line {}",
                    n - 1
                ));
            }
            // The line it names is gone: the one before it was changed, or lines between
            // them were removed. Name the first line that may have been touched.
            return Verification {
                lines: n,
                problem: Some(ChainProblem {
                    line: n - 1,
                    message: format!(
                        "line {} was changed, or the `prev` of line {n}, or lines between them were removed: line {n} records another line before it",
                        n - 1
                    ),
                }),
                head: head.clone(),
            };
        }
        head = sha256_hex(line);
    }
    let checked = lines.len();
    match partial {
        None => Verification {
            lines: checked,
            problem: None,
            head,
        },
        Some(_) => Verification {
            lines: checked,
            problem: Some(ChainProblem {
                line: checked + 1,
                message: format!(
                    "the file ends in the middle of a line: line {} has no newline (a crash mid-write, or tampering)",
                    checked + 1
                ),
            }),
            head,
        },
    }
}

/// Describes a parse error without quoting the input.
pub(super) fn json_reason(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "wrong or missing field",
        serde_json::error::Category::Eof => "unexpected end",
    };
    format!("{kind} at column {}", e.column())
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}
