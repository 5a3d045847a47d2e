//! File names of uploads, as people's computers send them: made safe to show, to put in a
//! `Content-Disposition` header and to save on any file system. Pure, so it is fuzzed
//! (SECURITY D7).

/// Keeps the last path component, drops control and path characters, and limits the length,
/// so a name is safe in a `Content-Disposition` header and on any file system.
pub fn sanitise_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    let limited: String = trimmed.chars().take(200).collect();
    if limited.is_empty() { "attachment".into() } else { limited }
}

/// Direction overrides and marks, which can make `invoice<U+202E>fdp.exe` display as `invoiceexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::sanitise_file_name;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitise_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_file_name("C:\\Users\\ann\\report.pdf"), "report.pdf");
        assert_eq!(sanitise_file_name("a\r\nb\".txt"), "ab.txt");
        assert_eq!(sanitise_file_name("..."), "attachment");
        assert_eq!(
            sanitise_file_name("invoice\u{202E}fdp.exe"),
            "invoicefdp.exe",
            "no right-to-left override tricks"
        );
        assert_eq!(sanitise_file_name(&"é".repeat(300)).chars().count(), 200);
    }
}
