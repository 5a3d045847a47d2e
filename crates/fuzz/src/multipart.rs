//! An upload form read as the server reads it: multer under the same kind of limits, each part
//! read in chunks, every file name made safe. The first byte of the input chooses how the body
//! is cut into network chunks, so boundaries split across chunks are tried too.

use bytes::Bytes;
use multer::{Constraints, Multipart, SizeLimit};
use sealpost_domain::sanitise_file_name;

const BOUNDARY: &str = "sealpost-fuzz-boundary";
const PER_FIELD: u64 = 64 * 1024;

/// Parses `data` as a `multipart/form-data` body.
pub fn multipart(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else { return };
    let chunk = usize::from(cut).max(1);
    let parts: Vec<Result<Bytes, std::io::Error>> = body.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let limits = Constraints::new().size_limit(SizeLimit::new().whole_stream(1024 * 1024).per_field(PER_FIELD));
    let mut form = Multipart::with_constraints(futures::stream::iter(parts), BOUNDARY, limits);
    futures::executor::block_on(async {
        while let Ok(Some(mut field)) = form.next_field().await {
            if let Some(raw) = field.file_name() {
                check_file_name(&sanitise_file_name(raw));
            }
            let mut read = 0u64;
            while let Ok(Some(bytes)) = field.chunk().await {
                read += bytes.len() as u64;
                assert!(read <= PER_FIELD, "a part went past its limit");
            }
        }
    });
}

/// What a safe file name never contains.
fn check_file_name(name: &str) {
    assert!(!name.is_empty(), "an empty file name");
    assert!(name.chars().count() <= 200, "a file name over 200 characters");
    assert!(!name.starts_with('.'), "a hidden or relative name {name:?}");
    for c in name.chars() {
        assert!(!c.is_control(), "a control character in {name:?}");
        assert!(
            !matches!(c, '/' | '\\' | '"' | '<' | '>' | ':' | '|' | '?' | '*'),
            "{c:?} in {name:?}"
        );
        assert!(
            !matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'),
            "a direction override in {name:?}"
        );
    }
}
