//! TOML: the manifest parser (good and bad manifests), the `secrets.toml` editor, and
//! Python's `tomllib` reading back what it writes.

#[path = "../common/mod.rs"]
mod common;
mod corpus;
mod interop;
mod manifest;
mod target;
