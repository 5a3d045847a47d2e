//! How a message's plain text is shown: split into text, links and line breaks. The web app
//! renders each text piece as a text node and each link as an `<a>` whose address is exactly
//! the piece, so nothing a sender writes can become markup or a `javascript:` link. Pure, so it
//! is fuzzed (SECURITY D7): the pieces always put the text back together exactly.

/// One piece of a message's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text shown as it is.
    Text(&'a str),
    /// An `http://` or `https://` address with no white space, shown as a link to itself.
    Link(&'a str),
    /// A line break (`\n`).
    LineBreak,
}

/// Characters that end a sentence rather than a link when they close a word.
const TRAILING: [char; 5] = ['.', ',', ')', ';', ':'];

/// Splits `text` into pieces. Links are words that start with `http://` or `https://` and have
/// something after it; sentence punctuation right after a link stays text.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = vec![];
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push(Piece::LineBreak);
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(Piece::Text(" "));
            }
            let link = word.trim_end_matches(TRAILING);
            if is_link(link) {
                out.push(Piece::Link(link));
                push_text(&mut out, &word[link.len()..]);
            } else {
                push_text(&mut out, word);
            }
        }
    }
    out
}

fn is_link(word: &str) -> bool {
    let rest = word.strip_prefix("https://").or_else(|| word.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
}

fn push_text<'a>(out: &mut Vec<Piece<'a>>, text: &'a str) {
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
}

/// The style sheet of the frame an HTML body is shown in: the frame's only style (SECURITY D2
/// allows no other, so a sender's inline styles do not apply).
pub const HTML_FRAME_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:12px;color:#0b0c0c;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{border-collapse:collapse}";

/// The CSP hash of [`HTML_FRAME_STYLE`]: the frame inherits the app's CSP, so both allow it.
pub const HTML_FRAME_STYLE_HASH: &str = "'sha256-SaICTM+SJ8V21BDBBb2SVPeo02TAuV3aRZqbeeyQIxI='";

/// The CSP of the frame an HTML body is shown in (SECURITY D2): nothing may load but the
/// message's own inline images (`data:`) and the frame's style sheet; no script.
pub const HTML_FRAME_CSP: &str = "default-src 'none'; img-src data:; style-src 'sha256-SaICTM+SJ8V21BDBBb2SVPeo02TAuV3aRZqbeeyQIxI='";

/// The whole document shown in the sandboxed frame: the cleaned body under [`HTML_FRAME_CSP`],
/// links opening in a new tab (the frame's sandbox allows that, and nothing else) without a
/// referrer, and a plain readable style.
pub fn html_frame_document(cleaned: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{HTML_FRAME_CSP}\">\
         <meta name=\"referrer\" content=\"no-referrer\"><base target=\"_blank\"><style>{HTML_FRAME_STYLE}</style>\
         </head><body>{cleaned}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    #[test]
    fn the_html_frame_allows_its_own_style_and_nothing_that_loads() {
        assert!(HTML_FRAME_CSP.starts_with("default-src 'none'; img-src data:;"));
        assert!(HTML_FRAME_CSP.ends_with(&format!("style-src {HTML_FRAME_STYLE_HASH}")));
        let doc = super::html_frame_document("<p>x</p>");
        assert!(doc.contains(&format!("<style>{HTML_FRAME_STYLE}</style>")) && doc.contains("<body><p>x</p></body>"));
    }

    use super::{HTML_FRAME_CSP, HTML_FRAME_STYLE, HTML_FRAME_STYLE_HASH, Piece, pieces};

    /// The text the pieces stand for.
    fn joined(pieces: &[Piece<'_>]) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) | Piece::Link(t) => *t,
                Piece::LineBreak => "\n",
            })
            .collect()
    }

    #[test]
    fn links_are_found_and_trailing_punctuation_is_left_as_text() {
        assert_eq!(
            pieces("See https://gov.uk/x. Thanks\nBye"),
            [
                Piece::Text("See"),
                Piece::Text(" "),
                Piece::Link("https://gov.uk/x"),
                Piece::Text("."),
                Piece::Text(" "),
                Piece::Text("Thanks"),
                Piece::LineBreak,
                Piece::Text("Bye"),
            ]
        );
        assert_eq!(pieces("javascript:alert(1)"), [Piece::Text("javascript:alert(1)")]);
        assert_eq!(pieces("https://"), [Piece::Text("https://")], "a scheme alone is not a link");
        assert_eq!(pieces("<b>https://a</b>"), [Piece::Text("<b>https://a</b>")], "links start words");
    }

    proptest! {
        #[test]
        fn the_pieces_always_put_the_text_back_together(text in ".{0,200}") {
            let p = pieces(&text);
            prop_assert_eq!(joined(&p), text.as_str());
            for piece in p {
                if let Piece::Link(l) = piece {
                    prop_assert!(l.starts_with("http://") || l.starts_with("https://"));
                    prop_assert!(!l.contains(char::is_whitespace));
                }
            }
        }
    }
}
