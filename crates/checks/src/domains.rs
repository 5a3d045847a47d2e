//! Recipient domains: genuine UK public-sector domains, personal webmail, organisations, and
//! lookalikes of a domain the council already writes to (edit distance, homoglyphs and
//! punycode, a swapped top-level domain, a dot made a hyphen).

/// Genuine UK public-sector domains and suffixes: a domain equal to one, or under one, is on
/// the list. Two domains on the list are never lookalikes of each other (`nhs.net` and
/// `nhs.uk` are both real).
pub const PUBLIC_SECTOR: &[&str] = &[
    "gov.uk",
    "nhs.uk",
    "nhs.net",
    "police.uk",
    "pnn.police.uk",
    "sch.uk",
    "mod.uk",
    "parliament.uk",
    "gov.scot",
    "nhs.scot",
    "gov.wales",
    "llyw.cymru",
    "hscni.net",
    "cjsm.net",
    "judiciary.uk",
];

/// Personal webmail domains (the default of `SEALPOST_CHECK_WEBMAIL_DOMAINS`).
pub const PERSONAL_WEBMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "live.co.uk",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "aol.co.uk",
    "protonmail.com",
    "proton.me",
    "gmx.com",
    "gmx.co.uk",
    "mail.com",
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
    "talktalk.net",
    "zoho.com",
    "yandex.com",
];

/// Second-level names under which a registrable domain has three labels (`x.co.uk`).
const UK_SECOND_LEVEL: &[&str] = &["co.uk", "org.uk", "ltd.uk", "plc.uk", "me.uk", "net.uk", "ac.uk"];

/// A recipient's domain as a person reads it: lower case, punycode labels decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain(String);

impl Domain {
    /// The domain of an address's part after the `@`.
    pub fn new(domain: &str) -> Self {
        let lowered = domain.trim().trim_end_matches('.').to_lowercase();
        let (unicode, result) = idna::domain_to_unicode(&lowered);
        Self(if result.is_ok() { unicode } else { lowered })
    }

    /// The domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is `suffix` or under it.
    fn is_under(&self, suffix: &str) -> bool {
        self.0 == suffix || self.0.strip_suffix(suffix).is_some_and(|rest| rest.ends_with('.'))
    }
}

/// Whether `d` is a genuine UK public-sector domain.
pub fn on_public_sector_list(d: &Domain) -> bool {
    PUBLIC_SECTOR.iter().any(|s| d.is_under(s))
}

/// The organisation a domain belongs to: the registrable name under a public-sector suffix
/// (`leeds.gov.uk`, `met.police.uk`; every NHSmail address is `nhs.net`), else under a UK
/// second-level name (`charity.org.uk`), else the last two labels.
pub fn organisation(d: &Domain) -> String {
    let suffix = PUBLIC_SECTOR
        .iter()
        .chain(UK_SECOND_LEVEL)
        .filter(|s| d.is_under(s))
        .max_by_key(|s| s.len());
    let labels: Vec<&str> = d.0.split('.').collect();
    let keep = suffix.map_or(2, |s| s.split('.').count() + usize::from(d.0 != **s));
    let keep = if *suffix.unwrap_or(&"") == "nhs.net" { 2 } else { keep };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

/// The domain among `known` (domains the council already writes to) that `d` looks like but
/// is not, if any. A known domain is never its own lookalike, and two public-sector domains
/// are never lookalikes of each other.
pub fn lookalike_of<'a>(d: &Domain, known: impl IntoIterator<Item = &'a Domain> + Clone) -> Option<&'a Domain> {
    if known.clone().into_iter().any(|k| k == d) {
        return None;
    }
    let d_listed = on_public_sector_list(d);
    known
        .into_iter()
        .filter(|k| !(d_listed && on_public_sector_list(k)))
        .find(|k| looks_like(d.as_str(), k.as_str()))
}

/// Two different domains a reader could take for each other.
fn looks_like(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    let squash = |s: &str| s.chars().filter(|c| *c != '.' && *c != '-').collect::<String>();
    let (la, lb) = (a.chars().count(), b.chars().count());
    let most = if la.min(lb) > 10 { 2 } else { 1 };
    // The cheap tests first: a send is checked against every domain the council writes to.
    swapped_suffix(a, b) || (la.abs_diff(lb) <= most && edit_distance(a, b) <= most) || squash(a) == squash(b) || skeleton(a) == skeleton(b)
}

/// The same name under another top-level domain (`nhs.net` and `nhs.com`, `kent.gov.uk`
/// and `kent.gov.com`): everything but the last label agrees.
fn swapped_suffix(a: &str, b: &str) -> bool {
    let base = |s: &str| s.rsplit_once('.').map(|(base, _)| base.to_owned());
    base(a).is_some_and(|x| Some(x) == base(b))
}

/// `s` with look-alike characters folded to one: Cyrillic and Greek letters that look Latin,
/// digits that look like letters, and letter pairs that look like one (`rn` and `m`).
fn skeleton(s: &str) -> String {
    let folded: String = s
        .chars()
        .map(|c| match c {
            'а' | 'α' => 'a',
            'с' | 'ϲ' => 'c',
            'е' | 'ε' => 'e',
            'һ' => 'h',
            'і' | 'ı' | 'ι' | '1' | 'l' | '|' => 'l',
            'ј' => 'j',
            'о' | 'ο' | '0' => 'o',
            'р' | 'ρ' => 'p',
            'ѕ' => 's',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            'ԁ' => 'd',
            'ɡ' => 'g',
            'ν' => 'v',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'т' | 'τ' => 't',
            'в' => 'b',
            'п' => 'n',
            other => other,
        })
        .collect();
    folded.replace("rn", "m").replace("vv", "w").replace("cl", "d")
}

/// Damerau-Levenshtein distance (adjacent swaps count one), over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn known(list: &[&str]) -> Vec<Domain> {
        list.iter().map(|d| Domain::new(d)).collect()
    }

    fn warns(d: &str, list: &[&str]) -> Option<String> {
        let known = known(list);
        lookalike_of(&Domain::new(d), &known).map(|k| k.as_str().to_owned())
    }

    #[test]
    fn the_issues_lookalikes_warn_and_name_the_real_domain() {
        let council = ["nhs.net", "met.police.uk", "leeds.gov.uk", "barnardos.org.uk", "kent.police.uk"];
        for (typed, real) in [
            ("nhs.nett", "nhs.net"),            // one letter more
            ("met-police.uk", "met.police.uk"), // a dot made a hyphen
            ("nhs.com", "nhs.net"),             // the top-level domain swapped
            ("leeds.gov.com", "leeds.gov.uk"),
            ("barnard0s.org.uk", "barnardos.org.uk"),  // a digit for a letter
            ("barnardos.org.uk.", "barnardos.org.uk"), // not a lookalike: the same (trailing dot)
            ("bamardos.org.uk", "barnardos.org.uk"),   // rn read as m
            ("kent.pol1ce.uk", "kent.police.uk"),
            ("nhs.ne", "nhs.net"),
        ] {
            let got = warns(typed, &council);
            if typed == "barnardos.org.uk." {
                assert_eq!(got, None, "{typed}");
            } else {
                assert_eq!(got.as_deref(), Some(real), "{typed}");
            }
        }
    }

    #[test]
    fn homoglyphs_and_their_punycode_warn() {
        let council = ["nhs.net", "paypal.com"];
        // Cyrillic 'а' in place of Latin 'a', typed or in its punycode (xn--) form.
        assert_eq!(warns("pаypаl.com", &council).as_deref(), Some("paypal.com"));
        let ascii = idna::domain_to_ascii("pаypаl.com").unwrap();
        assert!(ascii.starts_with("xn--"), "{ascii}");
        assert_eq!(warns(&ascii, &council).as_deref(), Some("paypal.com"));
        assert_eq!(warns("nhѕ.net", &council).as_deref(), Some("nhs.net"));
    }

    #[test]
    fn genuine_domains_and_unrelated_ones_do_not_warn() {
        let council = ["nhs.net", "nhs.uk", "met.police.uk", "leeds.gov.uk", "kent.gov.uk"];
        for d in [
            "nhs.uk",       // both genuine
            "nhs.net",      // known
            "wales.nhs.uk", // genuine, under a genuine suffix
            "west-yorkshire.police.uk",
            "kent.police.uk", // a different force, genuine
            "leeds.ac.uk",    // not close enough to leeds.gov.uk to be a typo
            "barnardos.org.uk",
            "example.com",
            "bradford.gov.uk",
        ] {
            assert_eq!(warns(d, &council), None, "{d}");
        }
        // A genuine public-sector domain is never a lookalike of another.
        assert_eq!(warns("kent.gov.uk", &["kant.gov.uk"]), None);
    }

    #[test]
    fn organisations_and_lists() {
        for (d, org) in [
            ("leeds.gov.uk", "leeds.gov.uk"),
            ("children.leeds.gov.uk", "leeds.gov.uk"),
            ("met.police.uk", "met.police.uk"),
            ("nhs.net", "nhs.net"),
            ("x.nhs.net", "nhs.net"),
            ("mail.barnardos.org.uk", "barnardos.org.uk"),
            ("school.example.com", "example.com"),
            ("wales.nhs.uk", "wales.nhs.uk"),
        ] {
            assert_eq!(organisation(&Domain::new(d)), org, "{d}");
        }
        assert!(on_public_sector_list(&Domain::new("x.police.uk")));
        assert!(!on_public_sector_list(&Domain::new("notpolice.uk")));
        assert!(!on_public_sector_list(&Domain::new("gov.uk.evil.com")));
        assert!(PERSONAL_WEBMAIL.contains(&"gmail.com"));
    }

    proptest! {
        #[test]
        fn a_known_domain_is_never_its_own_lookalike(d in "[a-z]{1,12}\\.(gov\\.uk|com|org\\.uk|net)") {
            prop_assert!(warns(&d, &[d.as_str()]).is_none());
        }

        #[test]
        fn two_public_sector_domains_never_warn(a in "[a-z]{2,10}", b in "[a-z]{2,10}") {
            let (a, b) = (format!("{a}.gov.uk"), format!("{b}.police.uk"));
            prop_assert!(warns(&a, &[b.as_str()]).is_none());
        }

        #[test]
        fn one_typo_in_a_long_name_warns(name in "[a-z]{6,14}", at in 0usize..6) {
            let real = format!("{name}.org.uk");
            let mut typo: Vec<char> = name.chars().collect();
            typo[at] = if typo[at] == 'q' { 'z' } else { 'q' };
            let typed = format!("{}.org.uk", typo.into_iter().collect::<String>());
            prop_assert_eq!(warns(&typed, &[real.as_str()]), Some(real.clone()));
        }
    }
}
