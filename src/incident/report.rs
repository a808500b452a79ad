//! The incident's Markdown report and the notification drafted for the security team.
//! Both are built from the record (fingerprints, times, results, notes): never a key.

use super::{Incident, Status, playbook};
use crate::error::Result;
use crate::project::Project;
use std::fmt::Write as _;

fn when(t: Option<jiff::Timestamp>) -> String {
    t.map_or("—".into(), |t| {
        t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
    })
}

/// The timeline: opened, each closed step in time order (with its notes), closed.
fn timeline(incident: &Incident) -> Vec<(jiff::Timestamp, String)> {
    let mut events = vec![(
        incident.opened,
        format!("incident opened by {}", incident.opened_by),
    )];
    for s in &incident.steps {
        if let Some(at) = s.at {
            events.push((
                at,
                format!(
                    "step `{}` {} by {}",
                    s.id,
                    s.status.as_str(),
                    s.by.as_deref().unwrap_or("?")
                ),
            ));
        }
        for n in &s.notes {
            events.push((n.at, format!("note on `{}` by {}: {}", s.id, n.by, n.text)));
        }
    }
    if let Some(c) = incident.closed {
        events.push((c, "incident closed: every step done or skipped".into()));
    }
    events.sort_by_key(|(t, _)| *t);
    events
}

/// Writes a report (or a notification draft) to `path`: atomically, mode `0600` (it names
/// people, hosts and fingerprints).
pub fn write(path: &std::path::Path, text: &str) -> Result<()> {
    crate::fsio::atomic_write(path, text.as_bytes(), 0o600)
}

/// The full Markdown report of `incident`.
pub fn markdown(incident: &Incident, project: &Project) -> Result<String> {
    let pb = playbook::load(project, &incident.playbook)?;
    let (done, total) = incident.progress();
    let mut s = String::new();
    let _ = writeln!(s, "# Incident {}: {}\n", incident.id, incident.title);
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Project | {} |", project.name());
    let _ = writeln!(s, "| Environment | {} |", incident.environment);
    let _ = writeln!(
        s,
        "| Key | {} |",
        incident
            .fingerprint
            .as_ref()
            .map_or("unknown".into(), |f| format!("`{f}`"))
    );
    let _ = writeln!(
        s,
        "| Opened | {} by {} |",
        when(Some(incident.opened)),
        incident.opened_by
    );
    let _ = writeln!(
        s,
        "| Closed | {} |",
        if incident.closed.is_some() {
            when(incident.closed)
        } else {
            "still open".into()
        }
    );
    let _ = writeln!(s, "| Progress | {done}/{total} steps |\n");
    let _ = writeln!(s, "{}\n", pb.summary);

    let _ = writeln!(s, "## Steps\n");
    for (i, rec) in incident.steps.iter().enumerate() {
        let title = pb
            .step(&rec.id)
            .map_or(rec.id.as_str(), |d| d.title.as_str());
        let mark = match rec.status {
            Status::Done => "x",
            Status::Skipped => "-",
            Status::Failed => "!",
            Status::Pending => " ",
        };
        let _ = writeln!(
            s,
            "{}. [{mark}] **{title}** (`{}`): {}",
            i + 1,
            rec.id,
            rec.status.as_str()
        );
        if let Some(at) = rec.at {
            let _ = writeln!(
                s,
                "   - {} by {}",
                when(Some(at)),
                rec.by.as_deref().unwrap_or("?")
            );
        }
        if let Some(r) = &rec.result {
            for line in r.lines() {
                let _ = writeln!(s, "   - {}", line.trim_start());
            }
        }
        for n in &rec.notes {
            let _ = writeln!(s, "   - note ({}, {}): {}", n.by, when(Some(n.at)), n.text);
        }
    }

    let _ = writeln!(s, "\n## Timeline\n");
    for (t, what) in timeline(incident) {
        let _ = writeln!(s, "- {}: {what}", when(Some(t)));
    }

    let open: Vec<&str> = incident
        .steps
        .iter()
        .filter(|r| !r.status.is_closed())
        .map(|r| pb.step(&r.id).map_or(r.id.as_str(), |d| d.title.as_str()))
        .collect();
    let _ = writeln!(s, "\n## Open items\n");
    if open.is_empty() {
        let _ = writeln!(s, "None.");
    } else {
        for o in open {
            let _ = writeln!(s, "- {o}");
        }
    }
    Ok(s)
}

/// The message for the security team: what happened, what was done, what is open.
pub fn notification(incident: &Incident, project: &Project) -> Result<String> {
    let pb = playbook::load(project, &incident.playbook)?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Subject: [security] {} in {} / {} ({})\n",
        incident.title,
        project.name(),
        incident.environment,
        incident.id
    );
    let _ = writeln!(
        s,
        "Incident {} ({}) was opened {} by {}.",
        incident.id,
        incident.title.to_lowercase(),
        when(Some(incident.opened)),
        incident.opened_by
    );
    let _ = writeln!(
        s,
        "Environment: {}. Key concerned: {} (a keywarden fingerprint; the key itself is not in this message).\n",
        incident.environment,
        incident
            .fingerprint
            .as_ref()
            .map_or("unknown".into(), |f| f.to_string())
    );
    let _ = writeln!(s, "Actions taken:");
    let mut any = false;
    for rec in incident
        .steps
        .iter()
        .filter(|r| r.status != Status::Pending)
    {
        any = true;
        let title = pb
            .step(&rec.id)
            .map_or(rec.id.as_str(), |d| d.title.as_str());
        let first = rec
            .result
            .as_deref()
            .and_then(|r| r.lines().next())
            .unwrap_or("");
        let _ = writeln!(
            s,
            "- {} ({}, {}): {first}",
            title,
            rec.status.as_str(),
            when(rec.at)
        );
    }
    if !any {
        let _ = writeln!(s, "- none yet");
    }
    let _ = writeln!(s, "\nStill open:");
    let open: Vec<_> = incident
        .steps
        .iter()
        .filter(|r| !r.status.is_closed())
        .collect();
    if open.is_empty() {
        let _ = writeln!(s, "- nothing");
    }
    for rec in open {
        let title = pb
            .step(&rec.id)
            .map_or(rec.id.as_str(), |d| d.title.as_str());
        let _ = writeln!(s, "- {title}");
    }
    let _ = writeln!(
        s,
        "\nFull timeline: keywarden incident report {}",
        incident.id
    );
    Ok(s)
}
