//! HTML from outside, cleaned with `ammonia` (the only place that names it) to a mail
//! allow-list (SECURITY D1): formatting, lists, tables, links and images stay; scripts, frames,
//! forms, objects, `svg`, `math`, style sheets, style attributes (the frame's CSP would not
//! apply them) and every event handler go. Links may be http,
//! https or mailto; images only `data:` (an inline image of the message, which `cid:` names) so
//! nothing is fetched from anywhere when the mail is shown. Cleaning is idempotent.
//!
//! The result is shown inside `sealpost_domain::text::html_frame_document`, in a sandboxed
//! frame with its own CSP (D2).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use base64::Engine as _;

/// The inline images a message's HTML may name as `cid:ID`: the id (without angle brackets)
/// and the image as a `data:` URL.
pub type InlineImages = HashMap<String, String>;

/// Image types that may be shown inline (not SVG, which can carry script).
const INLINE_IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The largest inline image kept as a `data:` URL; a larger one is still an attachment.
pub const MAX_INLINE_IMAGE_BYTES: usize = 512 * 1024;

/// A `data:` URL for an inline image part of `content_type`, if it may be shown inline.
pub fn inline_image(content_type: &str, bytes: &[u8]) -> Option<String> {
    let mime = content_type.trim().to_ascii_lowercase();
    (INLINE_IMAGE_TYPES.contains(&mime.as_str()) && bytes.len() <= MAX_INLINE_IMAGE_BYTES)
        .then(|| format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// HTML that went through [`clean`]: the only way to make one, so HTML that reaches a reader
/// has been cleaned.
#[derive(Clone, PartialEq, Eq)]
pub struct CleanHtml(String);

impl CleanHtml {
    /// The cleaned HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cleaned HTML, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for CleanHtml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Content stays out of logs.
        write!(f, "CleanHtml({} bytes)", self.0.len())
    }
}

/// `html` cleaned to the mail allow-list, with `cid:` images replaced by `images`.
pub fn clean(html: &str, images: &InlineImages) -> CleanHtml {
    let images = images.clone();
    let cleaned = ammonia::Builder::default()
        .add_tags(["font", "center", "u"])
        .rm_tags(["map", "area", "details", "summary"])
        .add_tag_attributes("font", ["color", "face", "size"])
        .add_tag_attributes("table", ["border", "cellpadding", "cellspacing", "width", "bgcolor"])
        .add_tag_attributes("td", ["valign", "width", "bgcolor", "nowrap"])
        .add_tag_attributes("th", ["valign", "width", "bgcolor"])
        .add_tag_attributes("p", ["align"])
        .add_tag_attributes("div", ["align"])
        .rm_tag_attributes("blockquote", ["cite"])
        .rm_tag_attributes("q", ["cite"])
        .rm_tag_attributes("del", ["cite"])
        .rm_tag_attributes("ins", ["cite"])
        .add_generic_attributes(["dir"])
        .url_schemes(HashSet::from(["http", "https", "mailto", "cid", "data"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(move |element, attribute, value| keep_url(element, attribute, value, &images))
        .clean(html)
        .to_string();
    CleanHtml(cleaned)
}

/// What an attribute may hold once its scheme is allowed: an image's source only as `data:`
/// (an inline image, `cid:` resolved to it) and never remote; `data:` nowhere else; anything
/// else as written.
fn keep_url<'u>(element: &str, attribute: &str, value: &'u str, images: &InlineImages) -> Option<Cow<'u, str>> {
    let lower = value.trim_start().to_ascii_lowercase();
    let image_source = element == "img" && attribute == "src";
    if lower.starts_with("cid:") {
        let id = value.trim_start()[4..].trim().trim_matches(['<', '>']);
        return image_source.then(|| images.get(id).map(|url| Cow::Owned(url.clone()))).flatten();
    }
    if lower.starts_with("data:") {
        let image = INLINE_IMAGE_TYPES.iter().any(|t| lower[5..].starts_with(&format!("{t};base64,")));
        return (image_source && image).then_some(Cow::Borrowed(value));
    }
    (!image_source).then_some(Cow::Borrowed(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(html: &str) -> String {
        clean(html, &InlineImages::new()).into_string()
    }

    #[test]
    fn formatting_links_and_tables_stay_and_remote_images_go() {
        let out = cleaned(
            r#"<p style="color:red;position:fixed">Hi <b>Ann</b></p><a href="https://nhs.net/x">x</a>
               <table><tr><td>1</td></tr></table><img src="https://evil.example/t.gif" alt="t">"#,
        );
        assert!(out.contains(r#"<p>Hi <b>Ann</b></p>"#), "styles go: {out}");
        assert!(
            out.contains(r#"<a href="https://nhs.net/x" rel="noopener noreferrer">x</a>"#),
            "{out}"
        );
        assert!(out.contains("<td>1</td>"), "{out}");
        assert!(
            !out.contains("evil.example"),
            "a remote image would tell the sender it was read: {out}"
        );
    }

    #[test]
    fn an_inline_image_named_by_cid_becomes_its_data_and_others_go() {
        let png = inline_image("image/png", b"\x89PNG").unwrap();
        let images = InlineImages::from([("logo@x".to_owned(), png.clone())]);
        let out = clean(r#"<img src="cid:logo@x"><img src="cid:other"><a href="cid:logo@x">l</a>"#, &images).into_string();
        assert_eq!(out.matches("<img").count(), 2, "{out}");
        assert!(out.contains(&format!(r#"<img src="{png}">"#)), "{out}");
        assert!(!out.contains("cid:"), "{out}");
        assert!(inline_image("image/svg+xml", b"<svg/>").is_none());
        assert!(inline_image("image/png", &vec![0; MAX_INLINE_IMAGE_BYTES + 1]).is_none());
        assert_eq!(cleaned(&out), out, "idempotent with data: images");
        assert!(!cleaned(r#"<img src="data:image/svg+xml;base64,PHN2Zy8+">"#).contains("data:"));
        assert!(!cleaned(r#"<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>"#).contains("data:"));
    }

    #[test]
    fn the_frame_style_hash_is_the_hash_of_the_frame_style() {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(sealpost_domain::text::HTML_FRAME_STYLE.as_bytes());
        let hash = format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest));
        assert_eq!(hash, sealpost_domain::text::HTML_FRAME_STYLE_HASH);
    }

    /// Every vector in `tests/xss-vectors.txt` (from the OWASP, PortSwigger and html5sec
    /// cheat sheets) comes out with nothing that runs or loads, and cleaning it again changes
    /// nothing.
    #[test]
    fn no_xss_vector_survives_cleaning() {
        let vectors: Vec<&str> = include_str!("../tests/xss-vectors.txt")
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        assert!(vectors.len() >= 150, "{} vectors", vectors.len());
        let tags = [
            "<script",
            "<svg",
            "<math",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<base",
            "<meta",
            "<link",
            "<style",
            "<frame",
            "<input",
            "<button",
            "<textarea",
            "<xmp",
            "<noscript",
            "<template",
            "<video",
            "<audio",
            "<isindex",
        ];
        for vector in vectors {
            let out = cleaned(vector);
            let lower = out.to_ascii_lowercase();
            for tag in tags {
                assert!(!lower.contains(tag), "{tag} kept from {vector:?}: {out:?}");
            }
            for (tag, name, value) in attributes(&out) {
                assert!(!name.starts_with("on"), "{tag} {name} kept from {vector:?}: {out:?}");
                let value = value.to_ascii_lowercase();
                // A link may go anywhere on the web, once clicked; nothing else may name a host.
                if !(tag == "a" && name == "href") {
                    assert!(!value.contains("evil.example"), "{tag} {name} loads from {vector:?}: {out:?}");
                }
                for danger in [
                    "javascript:",
                    "vbscript:",
                    "data:text",
                    "expression(",
                    "-moz-binding",
                    "behavior:",
                    "url(",
                ] {
                    assert!(!value.contains(danger), "{danger} kept in {tag} {name} from {vector:?}: {out:?}");
                }
            }
            assert_eq!(cleaned(&out), out, "cleaning {vector:?} twice changed it");
        }
    }

    /// Every attribute of every tag in ammonia's output, as (tag, name, value). Its serialiser
    /// writes values in double quotes with `"` escaped, and text with `<` escaped, so a raw `<`
    /// always opens a tag.
    fn attributes(html: &str) -> Vec<(String, String, String)> {
        let mut found = vec![];
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            rest = &rest[open + 1..];
            let name_end = rest.find([' ', '>', '/']).unwrap_or(rest.len());
            let tag = rest[..name_end].to_ascii_lowercase();
            rest = &rest[name_end..];
            loop {
                rest = rest.trim_start_matches([' ', '/']);
                if rest.is_empty() || rest.starts_with('>') {
                    break;
                }
                let end = rest.find(['=', ' ', '>']).unwrap_or(rest.len());
                let name = rest[..end].to_ascii_lowercase();
                rest = &rest[end..];
                let value = match rest.strip_prefix("=\"") {
                    Some(quoted) => {
                        let close = quoted.find('"').unwrap_or(quoted.len());
                        rest = quoted.get(close + 1..).unwrap_or_default();
                        quoted[..close].to_owned()
                    }
                    None => String::new(),
                };
                found.push((tag.clone(), name, value));
            }
        }
        found
    }
}
