//! CSV for audit exports (RFC 4180), safe to open in a spreadsheet (SECURITY D6): a cell that
//! a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
//! prefixed with `'`, and any cell with a comma, quote or line break is quoted.

/// One CSV line, ending `\r\n`. `None` is an empty cell.
pub fn line<'a>(cells: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut out = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell_text(cell.unwrap_or("")));
    }
    out.push_str("\r\n");
    out
}

fn cell_text(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Splits one line back into cells, as a spreadsheet would.
    fn parse(line: &str) -> Vec<String> {
        let line = line.strip_suffix("\r\n").unwrap();
        let (mut cells, mut cell, mut quoted, mut chars) = (vec![], String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cell.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => cells.push(std::mem::take(&mut cell)),
                (c, _) => cell.push(c),
            }
        }
        cells.push(cell);
        cells
    }

    #[test]
    fn formulas_are_defused_and_awkward_cells_quoted() {
        assert_eq!(line([Some("=1+1"), Some("plain"), None]), "'=1+1,plain,\r\n");
        assert_eq!(line([Some("@SUM(A1)"), Some("-2"), Some("+x")]), "'@SUM(A1),'-2,'+x\r\n");
        assert_eq!(
            line([Some("a,b"), Some("say \"hi\""), Some("two\nlines")]),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    proptest! {
        #[test]
        fn every_cell_reads_back_and_none_starts_a_formula(cells in proptest::collection::vec(".{0,12}", 1..6)) {
            let text = line(cells.iter().map(|c| Some(c.as_str())));
            let back = parse(&text);
            prop_assert_eq!(back.len(), cells.len());
            for (got, want) in back.iter().zip(&cells) {
                prop_assert!(!got.starts_with(['=', '+', '-', '@', '\t', '\r']));
                let restored = if want.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{want}") } else { want.clone() };
                prop_assert_eq!(got, &restored);
            }
        }
    }
}
