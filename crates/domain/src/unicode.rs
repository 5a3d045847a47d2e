//! Unicode that can make text lie about itself (SECURITY D9): direction controls, which make
//! `invoice<U+202E>fdp.exe` display as `invoiceexe.pdf`, and invisible characters, which hide
//! inside names and addresses. Addresses refuse both; file names drop them; everything else a
//! person wrote is shown with the direction controls made visible.

use std::borrow::Cow;

/// Direction embeddings, overrides, isolates and marks, and the byte-order mark.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Characters that take no space: zero-width space, joiners, word joiner, soft hyphen,
/// Mongolian vowel separator.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}')
}

/// The text with every direction embedding, override and isolate shown as a visible marker
/// (`[U+202E]`) instead of acting, so nothing displays in an order other than it was typed.
/// Marks (U+200E, U+200F, U+061C), which right-to-left languages use and which cannot reverse
/// a run of letters, are kept.
pub fn show_direction_controls(text: &str) -> Cow<'_, str> {
    let acts = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if acts(c) {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_is_shown_not_obeyed_and_plain_or_right_to_left_text_is_untouched() {
        assert_eq!(show_direction_controls("invoice\u{202E}fdp.exe"), "invoice[U+202E]fdp.exe");
        assert_eq!(show_direction_controls("a\u{2066}b\u{2069}c"), "a[U+2066]b[U+2069]c");
        assert!(matches!(show_direction_controls("Case 5120"), Cow::Borrowed(_)));
        let hebrew = "שלום\u{200F} 12";
        assert_eq!(show_direction_controls(hebrew), hebrew, "marks stay");
    }
}
