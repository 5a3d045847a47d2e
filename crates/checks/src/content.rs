//! Sensitive numbers and words in a message's subject, body and text-like files. Each finding
//! is counted, never kept: [`ContentFindings`] holds numbers only.

/// How many of each kind of sensitive content a text holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentFindings {
    /// NHS numbers: ten digits whose last is the modulus-11 check digit of the other nine.
    pub nhs_numbers: usize,
    /// National Insurance numbers in HMRC's format, with the prefixes never issued left out.
    pub ni_numbers: usize,
    /// A sort code (`12-34-56`) with an eight-digit account number near it.
    pub bank_details: usize,
    /// Words or phrases from the council's keyword list.
    pub keywords: usize,
}

impl ContentFindings {
    /// Nothing found.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The findings of `self` and `other` together.
    #[must_use]
    pub fn and(self, other: Self) -> Self {
        Self {
            nhs_numbers: self.nhs_numbers + other.nhs_numbers,
            ni_numbers: self.ni_numbers + other.ni_numbers,
            bank_details: self.bank_details + other.bank_details,
            keywords: self.keywords + other.keywords,
        }
    }

    /// Each kind found, with its count, by its stable name (`nhs_number`, `ni_number`,
    /// `bank_details`, `keyword`): what an API answer or an audit event may carry.
    pub fn kinds(&self) -> Vec<(&'static str, usize)> {
        [
            ("nhs_number", self.nhs_numbers),
            ("ni_number", self.ni_numbers),
            ("bank_details", self.bank_details),
            ("keyword", self.keywords),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

/// The council's keyword list (`SEALPOST_CHECK_KEYWORDS`), lower-cased: each a word or a
/// phrase, matched whole and regardless of case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keywords(Vec<String>);

impl Keywords {
    /// The list from a comma-separated setting; blanks are dropped.
    pub fn parse(list: &str) -> Self {
        Self(list.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect())
    }

    /// How many times any keyword stands as a whole word (or phrase) in `lowered`.
    fn count(&self, lowered: &str) -> usize {
        self.0
            .iter()
            .map(|word| {
                lowered
                    .match_indices(word.as_str())
                    .filter(|(at, _)| {
                        let before = lowered[..*at].chars().next_back();
                        let after = lowered[at + word.len()..].chars().next();
                        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
                    })
                    .count()
            })
            .sum()
    }
}

/// What `text` holds of each kind of sensitive content. Every pattern is ASCII, so the text
/// is read as bytes; a byte outside ASCII counts as a letter (so nothing is found inside a
/// word of another script).
pub fn scan(text: &str, keywords: &Keywords) -> ContentFindings {
    let bytes = text.as_bytes();
    let mut found = ContentFindings {
        keywords: if keywords.0.is_empty() {
            0
        } else {
            keywords.count(&text.to_lowercase())
        },
        ..ContentFindings::default()
    };
    let mut sort_codes = vec![];
    let mut accounts = vec![];
    let mut i = 0;
    while i < bytes.len() {
        let starts_token = i == 0 || !is_word(bytes[i - 1]);
        if !starts_token || !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        if bytes[i].is_ascii_digit() {
            if let Some(len) = nhs_number_at(&bytes[i..]) {
                found.nhs_numbers += 1;
                i += len;
                continue;
            }
            if let Some(len) = sort_code_at(&bytes[i..]) {
                sort_codes.push(i);
                i += len;
                continue;
            }
            let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if run == 8 && !bytes.get(i + run).is_some_and(|b| is_word(*b)) {
                accounts.push(i);
            }
            i += run;
            continue;
        }
        if let Some(len) = ni_number_at(&bytes[i..]) {
            found.ni_numbers += 1;
            i += len;
            continue;
        }
        i += 1;
    }
    // A sort code with an account number within this many bytes, before or after.
    const NEAR: usize = 60;
    found.bank_details = sort_codes
        .iter()
        .filter(|&&s| accounts.iter().any(|&a| a.abs_diff(s) <= NEAR))
        .count();
    found
}

/// The file endings read as text for the content checks: plain text and the tabular and
/// log formats staff export from case systems. Office and PDF files are not read (no pure-Rust
/// text extractor fits the build yet).
const TEXT_ENDINGS: [&str; 6] = ["txt", "csv", "tsv", "text", "log", "md"];

/// Whether a file called `name` is read as text by the content checks.
pub fn is_text_file(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ending)| TEXT_ENDINGS.iter().any(|t| ending.trim().eq_ignore_ascii_case(t)))
}

/// The longest run without a line break held back for the next chunk; past it, the run is
/// scanned as it is (a number may then be split and missed).
const MAX_LINE: usize = 64 * 1024;

/// [`scan`] over a file that arrives in chunks: whole lines at a time, so a number or keyword
/// is never split between two chunks. Invalid UTF-8 is read as replacement characters.
#[derive(Debug)]
pub struct StreamScan<'k> {
    keywords: &'k Keywords,
    pending: Vec<u8>,
    found: ContentFindings,
}

impl<'k> StreamScan<'k> {
    /// Nothing read yet.
    pub fn new(keywords: &'k Keywords) -> Self {
        Self {
            keywords,
            pending: vec![],
            found: ContentFindings::default(),
        }
    }

    /// Reads `chunk`: every line it completes is scanned.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.pending.extend_from_slice(chunk);
        let cut = match self.pending.iter().rposition(|b| *b == b'\n') {
            Some(at) => at + 1,
            None if self.pending.len() > MAX_LINE => self.pending.len(),
            None => return,
        };
        self.found = self.found.and(scan(&String::from_utf8_lossy(&self.pending[..cut]), self.keywords));
        self.pending.drain(..cut);
    }

    /// What the whole file held.
    pub fn finish(self) -> ContentFindings {
        self.found.and(scan(&String::from_utf8_lossy(&self.pending), self.keywords))
    }
}

/// A byte that belongs to a word: an ASCII letter or digit, or part of a character outside
/// ASCII.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// The length of the NHS number that starts `bytes`, if one does: ten digits, plain or as
/// `3 3 4` with spaces or hyphens, not followed by another digit, with a valid check digit.
fn nhs_number_at(bytes: &[u8]) -> Option<usize> {
    // Every shape starts with three digits: most numbers in a text stop here.
    if bytes.len() < 10 || !bytes[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    for groups in [&[10][..], &[3, 3, 4][..]] {
        for separator in [b' ', b'-'] {
            let mut digits = [0u32; 10];
            let mut count = 0;
            let mut at = 0;
            let mut ok = true;
            for (n, &len) in groups.iter().enumerate() {
                if n > 0 {
                    if bytes.get(at) != Some(&separator) {
                        ok = false;
                        break;
                    }
                    at += 1;
                }
                for _ in 0..len {
                    match bytes.get(at).filter(|b| b.is_ascii_digit()) {
                        Some(b) => {
                            digits[count] = u32::from(b - b'0');
                            count += 1;
                        }
                        None => ok = false,
                    }
                    at += 1;
                }
                if !ok {
                    break;
                }
            }
            if ok && count == 10 && !bytes.get(at).is_some_and(u8::is_ascii_digit) && nhs_check_digit_ok(&digits) {
                return Some(at);
            }
            if groups.len() == 1 {
                break; // no separator to vary
            }
        }
    }
    None
}

/// The modulus-11 check: weights 10 down to 2 on the first nine digits; 11 minus the
/// remainder is the tenth digit (11 reads as 0; 10 means no number has those nine digits).
pub fn nhs_check_digit_ok(digits: &[u32]) -> bool {
    if digits.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9].iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => digits[9] == 0,
        10 => false,
        check => digits[9] == check,
    }
}

/// The length of the sort code (`12-34-56` or `12 34 56`) that starts `bytes`, if one does.
fn sort_code_at(bytes: &[u8]) -> Option<usize> {
    for separator in [b'-', b' '] {
        let shape = [true, true, false, true, true, false, true, true];
        let matches = shape.iter().enumerate().all(|(n, &digit)| match bytes.get(n) {
            Some(b) if digit => b.is_ascii_digit(),
            Some(b) => *b == separator,
            None => false,
        });
        if matches && !bytes.get(8).is_some_and(u8::is_ascii_digit) {
            return Some(8);
        }
    }
    None
}

/// The length of the National Insurance number that starts `bytes`, if one does: two
/// letters, six digits (alone or in pairs with spaces), and A, B, C or D. HMRC never issues
/// D, F, I, Q, U or V as either letter, O as the second, or the prefixes BG, GB, KN, NK, NT,
/// TN and ZZ.
fn ni_number_at(bytes: &[u8]) -> Option<usize> {
    let upper = |n: usize| bytes.get(n).map(u8::to_ascii_uppercase);
    let (first, second) = (upper(0)?, upper(1)?);
    let never = |c: u8| b"DFIQUV".contains(&c);
    if !first.is_ascii_uppercase() || !second.is_ascii_uppercase() || never(first) || never(second) || second == b'O' {
        return None;
    }
    if [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"].contains(&&[first, second]) {
        return None;
    }
    let mut at = 2;
    let spaced = bytes.get(at) == Some(&b' ');
    for _ in 0..3 {
        if spaced {
            if bytes.get(at) != Some(&b' ') {
                return None;
            }
            at += 1;
        }
        for _ in 0..2 {
            if !bytes.get(at)?.is_ascii_digit() {
                return None;
            }
            at += 1;
        }
    }
    if spaced && bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let suffix = upper(at)?;
    if !(b'A'..=b'D').contains(&suffix) || bytes.get(at + 1).is_some_and(|b| is_word(*b)) {
        return None;
    }
    Some(at + 1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn found(text: &str) -> ContentFindings {
        scan(text, &Keywords::default())
    }

    #[test]
    fn published_nhs_numbers_are_found_in_every_written_form_and_wrong_ones_are_not() {
        // 943 476 5919 is NHS England's own example; 401 023 2137 appears in its guidance.
        for text in [
            "NHS no. 9434765919.",
            "NHS number: 943 476 5919",
            "943-476-5919 is the patient",
            "(4010232137)",
            "№ 943 476 5919 — discharged",
        ] {
            assert_eq!(found(text).nhs_numbers, 1, "{text}");
        }
        for text in [
            "9434765918",      // wrong check digit
            "94347659190",     // eleven digits
            "19434765919",     // part of a longer number
            "943 476 591 9",   // not the 3-3-4 grouping
            "943-476 5919",    // mixed separators
            "ref A9434765919", // inside a token
            "1000000010",      // check digit would be 10: no such number
        ] {
            assert_eq!(found(text).nhs_numbers, 0, "{text}");
        }
    }

    #[test]
    fn national_insurance_numbers_in_hmrcs_format_are_found_and_never_issued_prefixes_are_not() {
        for text in ["NI: AB123456C", "ni ab 12 34 56 c.", "JG103759A", "Her number is AB 12 34 56 D"] {
            assert_eq!(found(text).ni_numbers, 1, "{text}");
        }
        for text in [
            "QQ123456C", // HMRC's example: Q is never issued
            "AO123456C", // O is never the second letter
            "GB123456A", // never issued
            "TN123456A", // temporary
            "ZZ123456A",
            "DA123456A",
            "AB123456E", // suffix is A to D
            "AB12345C",  // five digits
            "XAB123456C",
        ] {
            assert_eq!(found(text).ni_numbers, 0, "{text}");
        }
    }

    #[test]
    fn a_sort_code_counts_only_with_an_account_number_near_it() {
        assert_eq!(found("Sort code 12-34-56, account 12345678").bank_details, 1);
        assert_eq!(found("account 12345678 sort code 12 34 56").bank_details, 1);
        assert_eq!(found("Sort code 12-34-56 only").bank_details, 0);
        assert_eq!(found("Account 12345678 only").bank_details, 0);
        let far = format!("Sort code 12-34-56. {} Account 12345678", "word ".repeat(20));
        assert_eq!(found(&far).bank_details, 0);
        // A telephone number is not an account.
        assert_eq!(found("12-34-56, call 0113 2345678").bank_details, 0);
    }

    #[test]
    fn keywords_match_whole_words_regardless_of_case_and_findings_name_kinds_not_values() {
        let words = Keywords::parse(" safeguarding , child protection,,");
        let f = scan("SAFEGUARDING referral; child protection plan; unsafeguarding", &words);
        assert_eq!(f.keywords, 2);
        let f = f.and(found("9434765919"));
        assert_eq!(f.kinds(), vec![("nhs_number", 1), ("keyword", 2)]);
        assert!(!f.is_empty() && found("nothing here").is_empty());
    }

    fn nine_digits() -> impl Strategy<Value = Vec<u32>> {
        proptest::collection::vec(0u32..10, 9)
    }

    fn with_check(nine: &[u32]) -> Option<Vec<u32>> {
        let sum: u32 = nine.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return None,
            c => c,
        };
        Some(nine.iter().copied().chain([check]).collect())
    }

    #[test]
    fn only_text_files_are_read_as_text() {
        for name in ["notes.txt", "EXPORT.CSV", "run.log", "a.tsv", "read.me.md"] {
            assert!(is_text_file(name), "{name}");
        }
        for name in ["photo.jpg", "report.pdf", "txt", "letter.docx", "csv.zip"] {
            assert!(!is_text_file(name), "{name}");
        }
    }

    #[test]
    fn a_file_in_chunks_finds_what_the_whole_text_holds_even_split_mid_number() {
        let text = "name,nhs\nAnn,943 476 5919\nBob,AB123456C\nsort 12-34-56 account 12345678\nSafeguarding\n";
        let keywords = Keywords::parse("safeguarding");
        let whole = scan(text, &keywords);
        assert_eq!(whole.nhs_numbers + whole.ni_numbers + whole.bank_details + whole.keywords, 4);
        for size in 1..text.len() {
            let mut s = StreamScan::new(&keywords);
            for chunk in text.as_bytes().chunks(size) {
                s.feed(chunk);
            }
            assert_eq!(s.finish(), whole, "chunks of {size}");
        }
        // No line break at all: read at the end.
        let mut s = StreamScan::new(&keywords);
        s.feed(b"943 476");
        s.feed(b" 5919");
        assert_eq!(s.finish().nhs_numbers, 1);
    }

    proptest! {
        #[test]
        fn every_valid_nhs_number_is_found_once_in_running_text(nine in nine_digits(), before in "[a-z ]{0,20}", after in "[a-z .]{0,20}") {
            if let Some(digits) = with_check(&nine) {
                let number: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
                let text = format!("{before} {number} {after}");
                prop_assert_eq!(found(&text).nhs_numbers, 1);
            }
        }

        #[test]
        fn a_wrong_check_digit_is_never_an_nhs_number(nine in nine_digits(), wrong in 0u32..10) {
            if let Some(digits) = with_check(&nine) {
                prop_assume!(wrong != digits[9]);
                let number: String = nine.iter().chain([&wrong]).map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
                prop_assert_eq!(found(&number).nhs_numbers, 0);
            }
        }

        #[test]
        fn scanning_any_text_never_panics(text in "\\PC{0,200}") {
            let _ = scan(&text, &Keywords::parse("a,é"));
        }
    }
}
