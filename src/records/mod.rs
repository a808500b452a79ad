//! What keywarden remembers outside the project tree, besides the state: the append-only,
//! hash-chained audit trail ([`audit`]), the encrypted backups of files and keys
//! ([`backup`]), and the journal of an unfinished rotation ([`journal`]).

pub mod audit;
pub mod backup;
pub mod journal;
pub mod store;
