//! The reader: walks the spanned TOML tree by hand so every error, semantic ones
//! included, carries the line and column of the offending key or value (see "Parsing" in
//! [`super`]).

use super::*;
use std::collections::hash_map::Entry;
use std::ffi::OsString;

pub(super) const ROOT_FIELDS: &[&str] = &[
    "version",
    "defaults",
    "environments",
    "playbooks",
    "audit",
    "watch",
];
pub(super) const AUDIT_FIELDS: &[&str] = &["syslog"];
pub(super) const DEFAULTS_FIELDS: &[&str] = &[
    "key",
    "length",
    "charset",
    "keep_backups_days",
    "backup_recipients",
];
pub(super) const ENV_FIELDS: &[&str] = &[
    "name",
    "rotate_every_days",
    "restart",
    "verify",
    "grace_days",
    "fallback",
    "logs",
    "notify",
    "timeout_secs",
    "targets",
];
pub(super) const TARGET_FIELDS: &[&str] = &[
    "path",
    "format",
    "key",
    "env",
    "vault",
    "field",
    "mount",
    "namespace",
    "token_file",
];

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a Path,
}

/// Each file target's key location (normalised path and key path), and where it was
/// first used.
pub(super) type Claims = foldhash::HashMap<(OsString, Vec<String>), Seen>;
/// Each file target's format, and where it was last given.
pub(super) type Formats = foldhash::HashMap<OsString, (Format, usize)>;

/// Where a file target's key location was first used.
pub(super) struct Seen {
    env: String,
    /// Byte offset of the first use (a line number is computed only for an error).
    line: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn err(
        &self,
        pos: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ManifestError {
        let (line, column) = line_col(self.text, pos);
        ManifestError {
            kind: ErrorKind::Invalid,
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// `backup_recipients`: age X25519 public keys (`age1…`) that every backup is also
    /// encrypted to, so a team's offline identity can restore one.
    fn recipients(&self, item: &Item<'_>) -> Result<Vec<String>> {
        let Some(array) = item
            .get_ref()
            .as_array()
            .filter(|_| !self.is_sections(item))
        else {
            return Err(self.type_error(
                item,
                "backup_recipients",
                "an array of age recipients (\"age1…\")",
            ));
        };
        let mut out: Vec<String> = Vec::new();
        for v in array.iter() {
            let pos = v.span().start;
            let Some(s) = v.get_ref().as_str() else {
                return Err(self.err(
                    pos,
                    format!(
                        "each entry of `backup_recipients` must be a string, found {}",
                        self.value_type(v)
                    ),
                    "write age recipients as strings, e.g. backup_recipients = [\"age1…\"]",
                ));
            };
            if s.starts_with("AGE-SECRET-KEY-") {
                return Err(self.err(
                    pos,
                    "`backup_recipients` holds an age identity (a secret key), not a recipient (value not shown)",
                    "put the public key (`age-keygen -y IDENTITY_FILE` prints it, age1…) here; \
                     the identity is a secret: remove it, and if it was committed, make a new one",
                ));
            }
            if crate::records::crypt::parse_recipient(s).is_none() {
                return Err(self.err(
                    pos,
                    format!("`{s}` is not an age X25519 recipient"),
                    "a recipient is the public key `age-keygen` prints, starting with age1",
                ));
            }
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        Ok(out)
    }

    pub(super) fn manifest(&self, root: &Table<'_>) -> Result<Manifest> {
        // The version first: a newer manifest is reported as such, not as unknown fields.
        let version = match root.get("version") {
            None => {
                return Err(self.err(
                    0,
                    "missing `version`",
                    format!("add `version = {VERSION}` as the first line"),
                ));
            }
            Some(item) => self.int(item, "version", 0, i64::from(u32::MAX))? as u32,
        };
        if version != VERSION {
            let hint = if version > VERSION {
                format!(
                    "this manifest was written by a newer keywarden: upgrade keywarden (this one reads version {VERSION})"
                )
            } else {
                format!("set `version = {VERSION}`")
            };
            return Err(self.err(
                value_start(root, "version", 0),
                format!(
                    "unsupported manifest version {version}; this keywarden reads version {VERSION}"
                ),
                hint,
            ));
        }
        self.check_fields(root, ROOT_FIELDS, "at the top level")?;

        let mut defaults = Defaults::default();
        let mut default_key_pos = None;
        if let Some(item) = root.get("defaults") {
            let t = self.table(item, "`defaults`", "[defaults]")?;
            self.check_fields(t, DEFAULTS_FIELDS, "in [defaults]")?;
            if let Some((key, pos)) = self.string(t, "key")? {
                defaults.key = key;
                default_key_pos = Some(pos);
            }
            if let Some(item) = t.get("length") {
                let n = self.int(item, "length", 0, i64::MAX)? as usize;
                if n < MIN_LENGTH {
                    return Err(self.err(
                        item.span().start,
                        format!(
                            "`length` {n} is below the guide's minimum of {MIN_LENGTH} characters"
                        ),
                        format!("use `length = {RECOMMENDED_LENGTH}` (the guide's recommendation)"),
                    ));
                }
                if n > MAX_LENGTH {
                    return Err(self.err(
                        item.span().start,
                        format!("`length` {n} is above the maximum of {MAX_LENGTH} characters"),
                        format!("use `length = {RECOMMENDED_LENGTH}` (the guide's recommendation)"),
                    ));
                }
                defaults.length = n;
            }
            if let Some(item) = t.get("keep_backups_days") {
                defaults.keep_backups_days =
                    Some(self.int(item, "keep_backups_days", 1, 36_500)? as u32);
            }
            if let Some(item) = t.get("backup_recipients") {
                defaults.backup_recipients = self.recipients(item)?;
            }
            if let Some((name, pos)) = self.string(t, "charset")? {
                defaults.charset = Charset::from_str(&name).map_err(|_| {
                    self.err(
                        pos,
                        format!("unknown charset `{name}`; expected one of guide, alnum, hex, base64, base64url"),
                        "use `charset = \"guide\"` (A-Z a-z 0-9 and the guide's symbols)",
                    )
                })?;
            }
        }

        let Some(envs_item) = root.get("environments") else {
            return Err(self.err(
                0,
                "no environments: the manifest needs at least one [[environments]]",
                "add an environment, e.g. [[environments]] with name = \"development\" and targets = [{ path = \".env\" }]",
            ));
        };
        let entries = self.array_of_tables(envs_item, "environments")?;
        if entries.is_empty() {
            return Err(self.err(
                envs_item.span().start,
                "no environments: the manifest needs at least one [[environments]]",
                "add an environment with a `name` and `targets`",
            ));
        }
        let mut environments: Vec<Environment> = Vec::new();
        let mut names: foldhash::HashMap<String, usize> = Default::default();
        let mut locations = Claims::default();
        let mut formats = Formats::default();
        for (i, (pos, t)) in entries.into_iter().enumerate() {
            let env = self.environment(
                i,
                pos,
                t,
                &defaults,
                default_key_pos,
                &mut locations,
                &mut formats,
            )?;
            let name_pos = value_start(t, "name", pos);
            if let Some(first) = names.get(&env.name) {
                return Err(self.err(
                    name_pos,
                    format!(
                        "duplicate environment name \"{}\" (first defined on line {})",
                        env.name,
                        line_col(self.text, *first).0
                    ),
                    "give each environment a unique name, or merge the two",
                ));
            }
            // Byte offsets: a line number is computed only for an error (it scans the text).
            names.insert(env.name.clone(), name_pos);
            environments.push(env);
        }
        let mut playbooks = std::collections::BTreeMap::new();
        if let Some(item) = root.get("playbooks") {
            let t = self.table(item, "`playbooks`", "[playbooks]")?;
            for (name, _) in t.iter() {
                let name: &str = name.get_ref();
                if let Some((path, pos)) = self.string(t, name)? {
                    if Path::new(&path).is_absolute() || path.split('/').any(|c| c == "..") {
                        return Err(self.err(
                            pos,
                            format!("playbook `{name}`: the path must stay inside the project"),
                            "give a path relative to the project, e.g. \"ops/compromised.toml\"",
                        ));
                    }
                    playbooks.insert(name.to_string(), PathBuf::from(path));
                }
            }
        }
        let mut audit = AuditSettings::default();
        if let Some(item) = root.get("audit") {
            let t = self.table(item, "`audit`", "[audit]")?;
            self.check_fields(t, AUDIT_FIELDS, "in [audit]")?;
            if let Some(item) = t.get("syslog") {
                audit.syslog = item
                    .get_ref()
                    .as_bool()
                    .ok_or_else(|| self.type_error(item, "syslog", "true or false"))?;
            }
        }
        let watch = match root.get("watch") {
            Some(item) => self.watch(item)?,
            None => WatchSettings::default(),
        };
        Ok(Manifest {
            version,
            defaults,
            environments,
            playbooks,
            audit,
            watch,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn environment(
        &self,
        index: usize,
        pos: usize,
        t: &Table<'_>,
        defaults: &Defaults,
        default_key_pos: Option<usize>,
        locations: &mut Claims,
        formats: &mut Formats,
    ) -> Result<Environment> {
        let ordinal = format!("environment #{}", index + 1);
        // The name first, so that other errors can say which environment they are in.
        let (name, name_pos) = match t.get("name") {
            Some(item) if item.get_ref().is_str() => (
                item.get_ref().as_str().unwrap_or_default().to_string(),
                item.span().start,
            ),
            Some(item) => {
                return Err(self.type_error(item, "name", "a string"));
            }
            None => {
                self.check_fields(t, ENV_FIELDS, &format!("in {ordinal}"))?;
                return Err(self.err(
                    pos,
                    format!("{ordinal} has no `name`"),
                    "add `name = \"production\"` (or development, staging, ...)",
                ));
            }
        };
        let ctx = format!("in environment \"{name}\"");
        self.check_fields(t, ENV_FIELDS, &ctx)?;
        if name.is_empty() {
            return Err(self.err(
                name_pos,
                "the environment name is empty",
                "name it, e.g. `name = \"production\"`",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            || name == "."
            || name == ".."
        {
            return Err(self.err(
                name_pos,
                format!("invalid environment name {}", quote(&name)),
                "use letters, digits, `.`, `_` and `-` only (names are used in file paths and on the command line)",
            ));
        }

        let mut env = Environment::new(&name);
        if let Some(item) = t.get("rotate_every_days") {
            env.rotate_every_days =
                self.int(item, "rotate_every_days", 0, MAX_ROTATE_EVERY_DAYS.into())? as u32;
        }
        if let Some(item) = t.get("grace_days") {
            env.grace_days = self.int(item, "grace_days", 0, MAX_GRACE_DAYS.into())? as u32;
        }
        if let Some(item) = t.get("timeout_secs") {
            env.timeout_secs = self.int(item, "timeout_secs", 1, MAX_TIMEOUT_SECS as i64)? as u64;
        }
        env.restart = self.command(t, "restart")?;
        env.verify = self.command(t, "verify")?;
        env.notify = self.command(t, "notify")?;
        if let Some(item) = t.get("logs") {
            let Some(array) = item
                .get_ref()
                .as_array()
                .filter(|_| !self.is_sections(item))
            else {
                return Err(self.type_error(item, "logs", "an array of glob patterns"));
            };
            for v in array.iter() {
                let pos = v.span().start;
                match v.get_ref().as_str() {
                    Some(s) if !s.trim().is_empty() => env.logs.push(s.to_string()),
                    Some(_) => {
                        return Err(self.err(
                            pos,
                            "empty log pattern",
                            "remove it, or write a glob such as \"logs/*.log\"",
                        ));
                    }
                    None => {
                        return Err(self.err(
                            pos,
                            format!(
                                "each entry of `logs` must be a string, found {}",
                                self.value_type(v)
                            ),
                            "write glob patterns as strings, e.g. logs = [\"logs/*.log\"]",
                        ));
                    }
                }
            }
        }

        if let Some(item) = t.get("fallback") {
            let ft = self.table(
                item,
                "`fallback`",
                "fallback = { path = \"...\", key = \"SECRET_KEY_FALLBACKS\" }",
            )?;
            let fallback_key = format!("{}_FALLBACKS", defaults.key);
            if ft.contains_key("env") {
                return Err(self.err(
                    key_start(ft, "env", item.span().start),
                    format!("the fallback {ctx} is an environment variable; it must be a file"),
                    "old keys are kept in a file the app reads, e.g. fallback = { path = \"deploy/production/.env\", key = \"SECRET_KEY_FALLBACKS\" }",
                ));
            }
            // The old keys are written where the app reads them, a file: a fallback in the
            // secret store is never written, so `status` would promise a grace it lacks.
            if ft.contains_key("vault") {
                return Err(self.err(
                    key_start(ft, "vault", item.span().start),
                    format!("the fallback {ctx} is a secret-store path; it must be a file"),
                    "old keys are kept in a file the app reads, e.g. fallback = { path = \"deploy/production/.env\", key = \"SECRET_KEY_FALLBACKS\" }",
                ));
            }
            let target = self.target(
                item.span().start,
                ft,
                &fallback_key,
                None,
                &format!("the fallback {ctx}"),
            )?;
            self.claim(
                &target,
                &name,
                value_start(ft, "path", item.span().start),
                locations,
                formats,
            )?;
            env.fallback = Some(target);
        }
        if env.grace_days > 0 && env.fallback.is_none() {
            let pos = value_start(t, "grace_days", pos);
            return Err(self.err(
                pos,
                format!("`grace_days` {ctx} needs a `fallback` to keep the old key in"),
                "add fallback = { path = \"...\", key = \"SECRET_KEY_FALLBACKS\" }, or set grace_days = 0",
            ));
        }

        let Some(targets_item) = t.get("targets") else {
            return Err(self.err(
                pos,
                format!("environment \"{name}\" has no `targets`"),
                "add targets = [{ path = \".env\", format = \"dotenv\" }] (or { env = \"SECRET_KEY\" })",
            ));
        };
        let targets = self.array_of_tables(targets_item, "targets")?;
        if targets.is_empty() {
            return Err(self.err(
                targets_item.span().start,
                format!("environment \"{name}\" has no targets"),
                "list at least one, e.g. targets = [{ path = \".env\", format = \"dotenv\" }]",
            ));
        }
        let mut env_vars: HashMap<String, usize> = HashMap::new();
        for (i, (tpos, tt)) in targets.into_iter().enumerate() {
            let what = format!("target #{} {ctx}", i + 1);
            let target = self.target(tpos, tt, &defaults.key, default_key_pos, &what)?;
            if let Target::Env { var } = &target
                && let Some(first) = env_vars.insert(var.clone(), tpos)
            {
                return Err(self.err(
                    tpos,
                    format!(
                        "${var} is listed twice {ctx} (first on line {})",
                        line_col(self.text, first).0
                    ),
                    "remove the duplicate target",
                ));
            }
            self.claim(
                &target,
                &name,
                value_start(tt, "path", tpos),
                locations,
                formats,
            )?;
            env.targets.push(target);
        }
        Ok(env)
    }

    /// Records a file target's location; an error if another target already has it, or the
    /// file with another format.
    pub(super) fn claim(
        &self,
        target: &Target,
        env: &str,
        pos: usize,
        locations: &mut Claims,
        formats: &mut Formats,
    ) -> Result<()> {
        let Target::File { path, format, key } = target else {
            return Ok(());
        };
        // Compared as bytes: hashing a `PathBuf` walks its components.
        let norm = normalize(path).into_os_string();
        // Byte offsets; line numbers only for errors.
        let line = pos;
        match formats.entry(norm.clone()) {
            Entry::Occupied(o) if o.get().0 != *format => {
                let (other, first) = o.get();
                return Err(self.err(
                    pos,
                    format!(
                        "{} is a {format} target here but a {other} target on line {}",
                        path.display(),
                        line_col(self.text, *first).0
                    ),
                    "one file has one format: fix the `format` (or the path) of one of them",
                ));
            }
            Entry::Occupied(mut o) => *o.get_mut() = (*format, line),
            Entry::Vacant(v) => {
                v.insert((*format, line));
            }
        }
        let key_norm = match format {
            Format::Toml => parse_key_path(key).unwrap_or_else(|_| vec![key.clone()]),
            Format::Dotenv => vec![key.clone()],
        };
        match locations.entry((norm, key_norm)) {
            Entry::Occupied(o) => {
                let seen = o.get();
                let whose = if seen.env == env {
                    format!(
                        "already used on line {} by this environment",
                        line_col(self.text, seen.line).0
                    )
                } else {
                    format!(
                        "already used on line {} by environment \"{}\"",
                        line_col(self.text, seen.line).0,
                        seen.env
                    )
                };
                Err(self.err(
                    pos,
                    format!("`{key}` in {} is {whose}", path.display()),
                    "one key location belongs to one environment: use another file or another `key`",
                ))
            }
            Entry::Vacant(v) => {
                v.insert(Seen {
                    env: env.to_string(),
                    line,
                });
                Ok(())
            }
        }
    }

    pub(super) fn target(
        &self,
        pos: usize,
        t: &Table<'_>,
        default_key: &str,
        default_key_pos: Option<usize>,
        what: &str,
    ) -> Result<Target> {
        let key_pos = |name: &str| key_start(t, name, pos);
        for secret in ["token", "vault_token", "secret_id"] {
            if t.contains_key(secret) {
                return Err(self.err(
                    key_pos(secret),
                    format!("{what} holds `{secret}`: a token never goes in the manifest, which is committed (value not shown)"),
                    "remove it (and if it was committed, revoke the token); give the token as BAO_TOKEN/VAULT_TOKEN, in ~/.vault-token, or in a file named by `token_file`",
                ));
            }
        }
        if t.contains_key("vault") {
            return self.vault_target(pos, t, default_key, what);
        }
        for field in ["field", "mount", "namespace", "token_file"] {
            if t.contains_key(field) {
                return Err(self.err(
                    key_pos(field),
                    format!("`{field}` applies to store targets (`vault = \"…\"`) only"),
                    "remove it, or make the target a store target",
                ));
            }
        }
        self.check_fields(t, TARGET_FIELDS, &format!("in {what}"))?;
        let path = self.string(t, "path")?;
        let env = self.string(t, "env")?;
        match (path, env) {
            (Some(_), Some(_)) => Err(self.err(
                key_pos("env"),
                format!("{what} has both `path` and `env`"),
                "a target is a file (`path`) or an environment variable (`env`): split it into two targets",
            )),
            (None, None) => Err(self.err(
                pos,
                format!("{what} has neither `path` nor `env`"),
                "write { path = \".env\", format = \"dotenv\" } for a file, or { env = \"SECRET_KEY\" } for an environment variable",
            )),
            (None, Some((var, var_pos))) => {
                for field in ["format", "key"] {
                    if t.contains_key(field) {
                        return Err(self.err(
                            key_pos(field),
                            format!("`{field}` applies to file targets, not to `env` targets"),
                            "remove it: the variable's name is the value of `env`",
                        ));
                    }
                }
                if looks_like_a_key(&var) {
                    return Err(self.pasted_key(var_pos, "env"));
                }
                if !is_env_name(&var) {
                    return Err(self.err(
                        var_pos,
                        format!("invalid environment variable name {}", quote(&var)),
                        "use letters, digits and `_`, not starting with a digit (e.g. SECRET_KEY)",
                    ));
                }
                Ok(Target::Env { var })
            }
            (Some((raw, path_pos)), None) => {
                let path = self.relative_path(&raw, path_pos)?;
                let format = match self.string(t, "format")? {
                    Some((f, f_pos)) => Format::from_str(&f)
                        .map_err(|m| self.err(f_pos, m, "use format = \"dotenv\" (KEY=value files) or format = \"toml\""))?,
                    None => Format::infer(&path),
                };
                let (key, kpos, from_defaults) = match self.string(t, "key")? {
                    Some((k, kpos)) => (k, kpos, false),
                    None => (default_key.to_string(), default_key_pos.unwrap_or(pos), true),
                };
                let bad_key = |message: String, hint: &str| {
                    let hint = if from_defaults {
                        format!("{hint}; this target uses defaults.key: set `key` on the target or change defaults.key")
                    } else {
                        hint.to_string()
                    };
                    Err(self.err(kpos, message, hint))
                };
                if looks_like_a_key(&key) {
                    return Err(self.pasted_key(kpos, if from_defaults { "defaults.key" } else { "key" }));
                }
                match format {
                    Format::Dotenv if !is_env_name(&key) => {
                        return bad_key(
                            format!("invalid dotenv key {} for {}", quote(&key), path.display()),
                            "use letters, digits and `_`, not starting with a digit (e.g. SECRET_KEY)",
                        );
                    }
                    Format::Toml => {
                        if let Err(m) = parse_key_path(&key) {
                            return bad_key(format!("invalid key for {}: {m}", path.display()), "e.g. key = \"auth.secret_key\"");
                        }
                    }
                    Format::Dotenv => {}
                }
                Ok(Target::File { path, format, key })
            }
        }
    }

    /// `{ vault = "MOUNT/PATH", field, mount, namespace, token_file }`.
    fn vault_target(
        &self,
        _pos: usize,
        t: &Table<'_>,
        default_key: &str,
        what: &str,
    ) -> Result<Target> {
        const FIELDS: &[&str] = &["vault", "field", "mount", "namespace", "token_file"];
        self.check_fields(t, FIELDS, &format!("in {what} (a store target)"))?;
        let (path, path_pos) = self.string(t, "vault")?.expect("checked by the caller");
        let mount = self.string(t, "mount")?.map(|(m, _)| m);
        if let Err(m) = crate::targets::vault::split(&path, mount.as_deref()) {
            return Err(self.err(
                path_pos,
                format!("{what}: {m}"),
                "write the KV v2 path with its mount first, e.g. vault = \"secret/myapp/production\" (API path secret/data/myapp/production)",
            ));
        }
        let field = match self.string(t, "field")? {
            Some((f, fpos)) => {
                if looks_like_a_key(&f) {
                    return Err(self.pasted_key(fpos, "field"));
                }
                f
            }
            None => default_key.to_string(),
        };
        let namespace = self.string(t, "namespace")?.map(|(n, _)| n);
        let token_file = self.string(t, "token_file")?.map(|(f, _)| PathBuf::from(f));
        Ok(Target::Vault {
            path: path.trim_matches('/').to_string(),
            field,
            mount,
            namespace,
            token_file,
        })
    }

    /// A target path: relative, inside the project.
    pub(super) fn relative_path(&self, raw: &str, pos: usize) -> Result<PathBuf> {
        let bad = |m: String, h: &str| Err(self.err(pos, m, h));
        if raw.is_empty() {
            return bad(
                "the target path is empty".into(),
                "write a path relative to the project root, e.g. \".env\"",
            );
        }
        if raw.contains('\0') {
            return bad(
                "the target path contains a NUL character".into(),
                "fix the path",
            );
        }
        let path = Path::new(raw);
        let looks_windows_absolute =
            raw.len() >= 2 && raw.as_bytes()[1] == b':' && raw.as_bytes()[0].is_ascii_alphabetic();
        if path.is_absolute()
            || raw.starts_with('/')
            || raw.starts_with('\\')
            || looks_windows_absolute
        {
            return bad(
                format!("target path {} is absolute", quote(raw)),
                "write it relative to the project root (the directory of keywarden.toml), e.g. \"deploy/production/.env\"",
            );
        }
        if raw.ends_with('/') || raw.ends_with('\\') {
            return bad(
                format!("target path {} names a directory", quote(raw)),
                "name the file, e.g. \".streamlit/secrets.toml\"",
            );
        }
        let mut depth: usize = 0;
        for c in path.components() {
            match c {
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::ParentDir if depth == 0 => {
                    return bad(
                        format!("target path {} leads outside the project", quote(raw)),
                        "keep targets inside the project root; for a file elsewhere, use a symlink inside the project or an `env` target",
                    );
                }
                Component::ParentDir => depth -= 1,
                Component::RootDir | Component::Prefix(_) => {
                    return bad(
                        format!("target path {} is absolute", quote(raw)),
                        "write it relative to the project root",
                    );
                }
            }
        }
        if depth == 0 {
            return bad(
                format!(
                    "target path {} names the project directory, not a file",
                    quote(raw)
                ),
                "name the file, e.g. \".env\"",
            );
        }
        if let Some(why) = crate::targets::not_a_secrets_file(&crate::fsio::normalize(path)) {
            return bad(
                format!("target path {} {why}", quote(raw)),
                "point the target at the secrets file itself, e.g. \".env\" or \".streamlit/secrets.toml\"",
            );
        }
        Ok(path.to_path_buf())
    }
}
