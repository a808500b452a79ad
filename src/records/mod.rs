//! What keywarden remembers outside the project tree, besides the state: the append-only,
//! hash-chained audit trail ([`audit`]), the backups of files and keys ([`backup`]),
//! encrypted at rest with age ([`crypt`]), and the journal of an unfinished rotation ([`journal`]).

pub mod audit;
pub mod backup;
pub mod crypt;
pub mod journal;
pub mod store;
