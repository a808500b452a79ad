//! Key material and what is known about a key without showing it: the zeroizing
//! [`secret::Secret`] that alone carries a key, generation from the OS CSPRNG
//! ([`generate`]), fingerprints that name a key everywhere else ([`fingerprint`]), and the
//! strength analysis ([`strength`]); the forms a key takes in a program's output
//! ([`encodings`]) and the redaction of all of them from command output ([`redact`]).

pub mod encodings;
pub mod fingerprint;
pub mod generate;
pub mod redact;
pub(crate) mod sampled;
pub mod secret;
pub mod strength;
