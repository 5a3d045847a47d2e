//! Calendar dates in UTC from Unix milliseconds and back, for notices, exports and date
//! filters. Howard Hinnant's civil-date algorithms: exact for every date people will type.

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const DAY_MS: i64 = 86_400_000;

/// (year, month 1–12, day 1–31) of the UTC day holding `ms`.
fn civil(ms: i64) -> (i64, i64, i64) {
    let z = ms.div_euclid(DAY_MS) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Unix milliseconds at the start (00:00 UTC) of a day.
fn day_start_ms(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * DAY_MS
}

/// "12 December 2026" (UTC).
pub fn format_date(ms: i64) -> String {
    let (year, month, day) = civil(ms);
    format!("{day} {} {year}", MONTHS[usize::try_from(month - 1).unwrap_or(0)])
}

/// "2026-12-12T14:05:09.123Z": RFC 3339 in UTC, as exports and checkpoints write time.
pub fn rfc3339(ms: i64) -> String {
    let (year, month, day) = civil(ms);
    let in_day = ms.rem_euclid(DAY_MS);
    let (h, m, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// The start of the UTC day written `YYYY-MM-DD` (as a date input sends it), in Unix ms.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let mut next = |len: usize| {
        parts
            .next()
            .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))?
            .parse::<i64>()
            .ok()
    };
    let (year, month, day) = (next(4)?, next(2)?, next(2)?);
    let days_in_month = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    (1..=days_in_month).contains(&day).then(|| day_start_ms(year, month, day))
}

/// The length of a day in milliseconds (a date filter's "to" covers its whole day).
pub const fn day_ms() -> i64 {
    DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(format_date(0), "1 January 1970");
        assert_eq!(format_date(1_795_392_000_000), "23 November 2026");
        assert_eq!(format_date(951_782_400_000), "29 February 2000");
        assert_eq!(rfc3339(1_795_392_000_000 + 3_723_004), "2026-11-23T01:02:03.004Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn date_inputs_parse_to_the_start_of_their_day_and_nonsense_does_not() {
        assert_eq!(parse_date("2026-11-23"), Some(1_795_392_000_000));
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400_000));
        for bad in [
            "",
            "2026-13-01",
            "2026-02-29",
            "1900-02-29",
            "26-11-23",
            "2026-1-23",
            "2026-11-23x",
            "+026-11-23",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_day_from_1200_to_9900_round_trips(days in -280_000i64..2_900_000) {
            let ms = days * DAY_MS;
            let text = rfc3339(ms);
            prop_assert_eq!(parse_date(&text[..10]), Some(ms), "{}", text);
        }
    }
}
