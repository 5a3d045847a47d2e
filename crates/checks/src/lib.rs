//! Checks a send goes through before any notification leaves (issue 20): mistakes in the
//! recipients (a lookalike of a domain the council writes to, a personal webmail address,
//! several organisations on one OFFICIAL-SENSITIVE message) and sensitive numbers in the
//! content (NHS numbers, National Insurance numbers, bank details, the council's keywords).
//!
//! Pure functions over text: no I/O, no clock, nothing logged. A finding names its kind and
//! how many, never the value found, so what is audited or shown cannot leak what it found.

pub mod addresses;
pub mod content;
pub mod domains;

pub use addresses::near_miss;
pub use content::{ContentFindings, Keywords, StreamScan, is_text_file, scan};
pub use domains::{Domain, PERSONAL_WEBMAIL, PUBLIC_SECTOR, lookalike_of, on_public_sector_list, organisation};
