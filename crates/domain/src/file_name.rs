//! File names of uploads, as people's computers send them: made safe to show, to put in a
//! `Content-Disposition` header and to save on any file system. Pure, so it is fuzzed
//! (SECURITY D7).

use crate::unicode::{is_bidi_control, is_invisible};

/// The type a view-only file is shown as in the browser, by its ending: images, PDF (the
/// browser's own viewer) and text; `None` for anything else, which cannot be viewed.
pub fn viewable_type(name: &str) -> Option<&'static str> {
    let (_, ending) = name.rsplit_once('.')?;
    Some(match ending.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "csv" | "tsv" | "log" | "md" | "text" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Keeps the last path component, drops control, direction, invisible and path characters,
/// folds runs of white space into one space (so `x.pdf<50 spaces>.exe` cannot push `.exe` out
/// of sight), and limits the length, so a name is safe in a `Content-Disposition` header, on
/// any file system, and honest on screen (SECURITY D9).
pub fn sanitise_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !is_invisible(*c) && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'));
    let mut cleaned = String::with_capacity(base.len());
    for c in kept {
        if c.is_whitespace() {
            if !cleaned.ends_with(' ') {
                cleaned.push(' ');
            }
        } else {
            cleaned.push(c);
        }
    }
    let trimmed = cleaned.trim().trim_start_matches('.');
    let limited: String = trimmed.chars().take(200).collect();
    if limited.is_empty() { "attachment".into() } else { limited }
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
        assert_eq!(sanitise_file_name(&format!("x.pdf{}.exe", " ".repeat(50))), "x.pdf .exe");
        assert_eq!(sanitise_file_name("re\u{200B}port\u{2060}.pdf\t\u{00A0} "), "report.pdf");
    }
}
