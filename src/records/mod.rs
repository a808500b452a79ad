//! What keywarden remembers outside the project tree, besides the state: the append-only,
//! hash-chained audit trail ([`audit`]) and the encrypted backups of files and keys
//! ([`backup`]).

pub mod audit;
pub mod backup;
