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

#[test]
fn an_integer_too_large_for_64_bits_is_out_of_range_at_its_place() {
    let text = "version = 1\n[[environments]]\nname = \"prod\"\nrotate_every_days = 99999999999999999999\ntargets = [{ path = \".env\" }]\n";
    let e = Manifest::parse(text, Path::new(FILE_NAME)).unwrap_err();
    assert_eq!((e.line, e.column), (4, 21), "{e}");
    assert!(
        e.message
            .contains("`rotate_every_days` must be between 0 and 3650, found 99999999999999999999"),
        "{e}"
    );
    let hex = "version = 0x1\n[[environments]]\nname = \"prod\"\ntargets = [{ path = \".env\" }]\n";
    assert_eq!(
        Manifest::parse(hex, Path::new(FILE_NAME)).unwrap().version,
        1
    );
}

#[test]
fn a_type_error_names_an_array_of_tables_as_such() {
    let text = "version = 1\n[[environments]]\nname = \"prod\"\ntargets = [{ path = \".env\" }]\n[[defaults]]\nkey = \"X\"\n";
    let e = Manifest::parse(text, Path::new(FILE_NAME)).unwrap_err();
    assert!(
        e.message
            .contains("`defaults` must be a table ([defaults]), found an array of tables"),
        "{e}"
    );
    assert_eq!(e.line, 5, "{e}");
}

#[test]
fn sections_and_inline_arrays_of_tables_are_named_as_the_file_writes_them() {
    let base = "version = 1\n[[environments]]\nname = \"dev\"\ntargets = [{ path = \".env\" }]\n";
    let path = Path::new(FILE_NAME);
    let sections =
        Manifest::parse(&format!("{base}[[environments.logs]]\na = 1\n"), path).unwrap_err();
    assert_eq!((sections.line, sections.column), (5, 1), "{sections}");
    assert!(
        sections
            .message
            .contains("`logs` must be an array of glob patterns, found an array of tables"),
        "{sections}"
    );
    let inline = Manifest::parse(
        "version = 1\ndefaults = [{ key = \"X\" }]\n[[environments]]\nname = \"dev\"\ntargets = [{ path = \".env\" }]\n",
        path,
    )
    .unwrap_err();
    assert!(
        inline.message.ends_with("found an array"),
        "an inline array is an array: {inline}"
    );
    let entry = Manifest::parse(&format!("{base}logs = [[{{ a = 1 }}]]\n"), path).unwrap_err();
    assert!(
        entry
            .message
            .contains("each entry of `logs` must be a string, found an array"),
        "{entry}"
    );
    assert!(!entry.message.contains("of tables"), "{entry}");
}
