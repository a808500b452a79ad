//! The `.env` editor: fixtures, property tests, and the real readers (python-dotenv,
//! Docker Compose, bash) reading back what it writes.

#[path = "../common/mod.rs"]
mod common;
mod corpus;
mod fixtures;
mod interop;
mod props;
