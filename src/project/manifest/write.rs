//! The writer: the manifest as commented TOML for `keywarden init`, which
//! [`Manifest::parse`] reads back to the same value.

use super::*;

impl Manifest {
    /// The manifest as commented TOML, for `keywarden init`. Round-trips through [`parse`].
    ///
    /// [`parse`]: Manifest::parse
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# keywarden.toml: how keywarden manages this project's SECRET_KEY.\n\
             #\n\
             # Commit this file: it never holds a key. Keys live only in the targets below\n\
             # (keep those files out of version control); `keywarden set <environment>\n\
             # --generate` writes a new key to every target of the environment at once.\n\
             # Paths are relative to this file's directory. A target's `format` defaults from\n\
             # its path (*.toml: toml, anything else: dotenv); its `key` defaults to\n\
             # defaults.key (dotted for TOML: \"auth.secret_key\").\n\n",
        );
        out.push_str(&format!("version = {}\n\n", self.version));
        let d = &self.defaults;
        out.push_str("[defaults]\n");
        out.push_str(&format!("key = {}\n", quote(&d.key)));
        out.push_str(&format!(
            "length = {}           # characters; the guide's minimum is {MIN_LENGTH}\n",
            d.length
        ));
        out.push_str(&format!(
            "charset = {}     # guide: A-Z a-z 0-9 and !@#$%^&*()_+-=[]{{}}|;:,.<>? (also alnum, hex, base64, base64url)\n",
            quote(d.charset.as_str())
        ));
        if let Some(days) = d.keep_backups_days {
            out.push_str(&format!(
                "keep_backups_days = {days}  # prune older backups (never the newest of a key in use)\n"
            ));
        }
        if !d.backup_recipients.is_empty() {
            let list: Vec<String> = d.backup_recipients.iter().map(|r| quote(r)).collect();
            out.push_str(&format!(
                "backup_recipients = [{}]  # age public keys every backup is also encrypted to\n",
                list.join(", ")
            ));
        }
        for env in &self.environments {
            out.push_str("\n[[environments]]\n");
            out.push_str(&format!("name = {}\n", quote(&env.name)));
            let schedule = if env.rotate_every_days == 0 {
                "0: no schedule (rotate on major changes)".to_string()
            } else {
                format!(
                    "`keywarden check` warns when the key is older than {} days",
                    env.rotate_every_days
                )
            };
            out.push_str(&format!(
                "rotate_every_days = {}  # {schedule}\n",
                env.rotate_every_days
            ));
            match &env.restart {
                Some(cmd) => out.push_str(&format!(
                    "restart = {}  # run after the new key is written\n",
                    quote(cmd)
                )),
                None if env.rotate_every_days > 0 => out.push_str(
                    "# restart = \"systemctl --user restart my-app\"  # run after the new key is written\n",
                ),
                None => {}
            }
            match &env.verify {
                Some(cmd) => out.push_str(&format!(
                    "verify = {}  # must succeed after the restart\n",
                    quote(cmd)
                )),
                None if env.rotate_every_days > 0 => out.push_str(
                    "# verify = \"curl -fsS http://127.0.0.1:8501/healthz\"  # must succeed after the restart\n",
                ),
                None => {}
            }
            if env.timeout_secs != DEFAULT_TIMEOUT_SECS {
                out.push_str(&format!(
                    "timeout_secs = {}  # for restart and verify\n",
                    env.timeout_secs
                ));
            }
            if env.grace_days > 0 || env.fallback.is_some() {
                out.push_str(&format!(
                    "grace_days = {}  # old keys stay valid this long, from the fallback\n",
                    env.grace_days
                ));
            }
            if let Some(fallback) = &env.fallback {
                out.push_str(&format!("fallback = {}\n", target_toml(fallback, None)));
            }
            if !env.logs.is_empty() {
                let logs: Vec<String> = env.logs.iter().map(|l| quote(l)).collect();
                out.push_str(&format!(
                    "logs = [{}]  # scanned for leaked keys\n",
                    logs.join(", ")
                ));
            }
            if let Some(cmd) = &env.notify {
                out.push_str(&format!("notify = {}  # run on an incident\n", quote(cmd)));
            }
            out.push_str("targets = [\n");
            for t in &env.targets {
                out.push_str(&format!("  {},\n", target_toml(t, Some(&d.key))));
            }
            out.push_str("]\n");
        }
        if self.audit.syslog {
            out.push_str(
                "\n[audit]\nsyslog = true  # every audit event also goes to the system log (/dev/log)\n",
            );
        }
        if !self.playbooks.is_empty() {
            out.push_str("\n[playbooks]\n");
            for (name, path) in &self.playbooks {
                out.push_str(&format!(
                    "{} = {}\n",
                    name,
                    quote(&path.display().to_string())
                ));
            }
        }
        out
    }
}

pub(super) fn quote(s: &str) -> String {
    toml_edit::Value::from(s).to_string()
}

/// `{ path = "...", format = "...", key = "..." }`; `key` is left out when it is `default_key`.
pub(super) fn target_toml(t: &Target, default_key: Option<&str>) -> String {
    match t {
        Target::File { path, format, key } => {
            let mut s = format!(
                "{{ path = {}, format = {}",
                quote(&path.to_string_lossy()),
                quote(format.as_str())
            );
            if default_key != Some(key.as_str()) {
                s.push_str(&format!(", key = {}", quote(key)));
            }
            s.push_str(" }");
            s
        }
        Target::Env { var } => format!("{{ env = {} }}", quote(var)),
        Target::Vault {
            path,
            field,
            mount,
            namespace,
            token_file,
        } => {
            let mut s = format!("{{ vault = {}", quote(path));
            if default_key != Some(field.as_str()) {
                s.push_str(&format!(", field = {}", quote(field)));
            }
            for (name, v) in [("mount", mount.clone()), ("namespace", namespace.clone())] {
                if let Some(v) = v {
                    s.push_str(&format!(", {name} = {}", quote(&v)));
                }
            }
            if let Some(f) = token_file {
                s.push_str(&format!(", token_file = {}", quote(&f.to_string_lossy())));
            }
            s.push_str(" }");
            s
        }
    }
}
