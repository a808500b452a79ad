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
