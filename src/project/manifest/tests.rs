use super::*;

#[test]
fn rotation_defaults() {
    assert_eq!(default_rotation_days("development"), 0);
    assert_eq!(default_rotation_days("dev"), 0);
    assert_eq!(default_rotation_days("staging"), 90);
    assert_eq!(default_rotation_days("stage"), 90);
    assert_eq!(default_rotation_days("production"), 180);
    assert_eq!(default_rotation_days("prod"), 180);
    assert_eq!(default_rotation_days("qa"), 180);
}

#[test]
fn suggestions() {
    assert_eq!(
        suggest("rotate_every", ENV_FIELDS),
        Some("rotate_every_days")
    );
    assert_eq!(suggest("fromat", TARGET_FIELDS), Some("format"));
    assert_eq!(suggest("zzzzzz", TARGET_FIELDS), None);
}

#[test]
fn format_inference() {
    assert_eq!(
        Format::infer(Path::new(".streamlit/secrets.toml")),
        Format::Toml
    );
    assert_eq!(Format::infer(Path::new(".env")), Format::Dotenv);
    assert_eq!(Format::infer(Path::new(".env.production")), Format::Dotenv);
}

#[test]
fn the_audit_table_turns_syslog_on_and_round_trips() {
    let base = "version = 1\n[[environments]]\nname = \"dev\"\ntargets = [{ path = \".env\" }]\n";
    let path = Path::new(FILE_NAME);
    assert!(!Manifest::parse(base, path).unwrap().audit.syslog);
    let on = Manifest::parse(&format!("{base}[audit]\nsyslog = true\n"), path).unwrap();
    assert!(on.audit.syslog);
    assert_eq!(Manifest::parse(&on.to_toml(), path).unwrap(), on);
    let off = Manifest::parse(&format!("{base}[audit]\nsyslog = false\n"), path).unwrap();
    assert!(!off.audit.syslog);

    let wrong = Manifest::parse(&format!("{base}[audit]\nsyslog = \"yes\"\n"), path).unwrap_err();
    assert_eq!((wrong.line, wrong.column), (6, 10), "{wrong}");
    assert!(
        wrong.message.contains("`syslog` must be true or false"),
        "{wrong}"
    );
    let unknown = Manifest::parse(&format!("{base}[audit]\nsyslg = true\n"), path).unwrap_err();
    assert_eq!(unknown.line, 6, "{unknown}");
    assert!(unknown.hint.contains("`syslog`"), "{unknown}");
}
