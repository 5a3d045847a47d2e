//! The message text renderer: the pieces put the text back together exactly, and every link is
//! an http(s) address without white space.

use sealpost_domain::text::{Piece, pieces};

/// Splits `data` (as text) into display pieces and checks them.
pub fn message_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let found = pieces(&text);
    let mut joined = String::with_capacity(text.len());
    for piece in &found {
        match piece {
            Piece::Text(t) => joined.push_str(t),
            Piece::Link(l) => {
                assert!(l.starts_with("http://") || l.starts_with("https://"), "link {l:?}");
                assert!(!l.contains(char::is_whitespace), "link with white space {l:?}");
                joined.push_str(l);
            }
            Piece::LineBreak => joined.push('\n'),
        }
    }
    assert_eq!(joined, text, "the pieces lost or added text");
}
