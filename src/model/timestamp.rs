//! [`Timestamp`]: ISO 8601 times as Glance reports them (`created_at`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};

/// An ISO 8601 date-time such as `2026-11-25T15:08:12Z`, ordered by the
/// instant it names. The original text is kept for display and serde.
///
/// Accepted: `YYYY-MM-DD`, then `T` or a space, `HH:MM[:SS[.fraction]]`,
/// then `Z`, `±HH:MM`, `±HHMM`, `±HH` or nothing (UTC, as Glance stores
/// times).
///
/// ```
/// use nova_sysmeta::backup::Timestamp;
/// let a: Timestamp = "2026-01-01T10:00:00+02:00".parse().unwrap();
/// let b: Timestamp = "2026-01-01T09:00:00Z".parse().unwrap();
/// assert!(a < b);
/// ```
#[derive(Debug, Clone)]
pub struct Timestamp {
    text: String,
    /// Seconds since 1970-01-01T00:00:00Z, and nanoseconds.
    instant: (i64, u32),
}

impl Timestamp {
    /// The text as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Seconds since the Unix epoch and the nanoseconds within that second.
    #[must_use]
    pub fn unix(&self) -> (i64, u32) {
        self.instant
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.instant == other.instant
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant.cmp(&other.instant)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        parse(s)
            .map(|instant| Timestamp {
                text: s.to_owned(),
                instant,
            })
            .ok_or_else(|| Error::InvalidTimestamp { text: s.to_owned() })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A cursor over ASCII digits and separators.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let part = self.s.get(self.at..self.at + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += n;
        Some(part.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0')))
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.s.get(self.at) == Some(&c);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn done(&self) -> bool {
        self.at == self.s.len()
    }
}

fn parse(s: &str) -> Option<(i64, u32)> {
    let mut c = Cursor {
        s: s.as_bytes(),
        at: 0,
    };
    let year = c.digits(4)?;
    c.eat(b'-').then_some(())?;
    let month = c.digits(2)?;
    c.eat(b'-').then_some(())?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0u32);
    if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
        hour = c.digits(2)?;
        c.eat(b':').then_some(())?;
        minute = c.digits(2)?;
        if c.eat(b':') {
            second = c.digits(2)?;
            if c.eat(b'.') || c.eat(b',') {
                let start = c.at;
                while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                    c.at += 1;
                }
                let frac = &s[start..c.at];
                if frac.is_empty() {
                    return None;
                }
                let nine: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
                nanos = nine.parse().ok()?;
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
    }
    let offset = match c.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            c.at += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.at += 1;
            let h = c.digits(2)?;
            let m = if c.eat(b':') {
                c.digits(2)?
            } else {
                c.digits(2).unwrap_or(0)
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if sign == b'+' { secs } else { -secs }
        }
        Some(_) => return None,
    };
    if !c.done() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(s: &str) -> Option<(i64, u32)> {
        s.parse::<Timestamp>().ok().map(|t| t.unix())
    }

    #[test]
    fn known_instants() {
        assert_eq!(unix("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(unix("2000-03-01T00:00:00"), Some((951_868_800, 0)));
        assert_eq!(
            unix("2026-11-25T15:08:12.5+01:00"),
            Some((1_795_615_692, 500_000_000))
        );
        assert_eq!(
            unix("2024-02-29 23:59:59.000001-0130"),
            Some((1_709_256_599, 1_000))
        );
        assert_eq!(unix("2026-11-25"), Some((1_795_564_800, 0)));
    }

    #[test]
    fn rejects_what_is_not_a_date_time() {
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2026-02-30T00:00:00",
            "2026-01-01T25:00",
            "2026-01-01T10:00:00Q",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }
}
