//! oslo.versionedobjects' `VersionPredicate.coerce`: oslo.utils'
//! `versionutils.VersionPredicate`, each comma-separated part an operator
//! and a version `packaging.version.Version` reads (PEP 440).

use crate::python::is_python_space;
use crate::python::value::MAX_INT_DIGITS;

/// Whether `VersionPredicate(text)` parses.
pub(super) fn is_version_predicate(text: &str) -> bool {
    text.split(',').all(predicate)
}

/// `^\s*(<=|>=|<|>|!=|==)\s*([^\s]+)\s*$` (Python's `\s`: `str.isspace()`),
/// then the version.
fn predicate(part: &str) -> bool {
    let rest = part.trim_start_matches(is_python_space);
    // The regex tries the operators in this order, backtracking to the
    // next when the rest does not match.
    for op in ["<=", ">=", "<", ">", "!=", "=="] {
        let Some(after) = rest.strip_prefix(op) else {
            continue;
        };
        let token = after.trim_matches(is_python_space);
        if token.is_empty() || token.contains(is_python_space) {
            continue;
        }
        return is_version(token);
    }
    false
}

/// `packaging.version.Version(text)` (packaging 26) parses `text`, which
/// holds no whitespace: the fast path for digits and dots, else
/// `v?+` (any case) and the PEP 440 pattern, ASCII and case-insensitive,
/// with its possessive quantifiers. Every run of digits is read by
/// `int()`, so one longer than Python's limit is refused.
fn is_version(text: &str) -> bool {
    if text.chars().all(|c| c == '.' || c.is_ascii_digit()) {
        return text
            .split('.')
            .all(|part| !part.is_empty() && part.len() <= MAX_INT_DIGITS);
    }
    let lower: Vec<u8> = match text
        .chars()
        .map(|c| {
            if c.is_ascii() {
                Some(c.to_ascii_lowercase() as u8)
            } else {
                None
            }
        })
        .collect()
    {
        Some(bytes) => bytes,
        None => return false,
    };
    let mut p = Parser { s: &lower, at: 0 };
    p.eat(b"v");
    p.version() && p.at == lower.len()
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        if self.s.get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    /// `[0-9]++`: every digit (possessive), at most Python's `int()` limit.
    fn digits(&mut self) -> Option<bool> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let n = self.at - start;
        if n == 0 { None } else { Some(n <= MAX_INT_DIGITS) }
    }

    /// `[._-]?+`
    fn separator(&mut self) {
        if matches!(self.peek(), Some(b'.' | b'_' | b'-')) {
            self.at += 1;
        }
    }

    /// `(?:N!)?+ N(?:\.N)*+ pre?+ post?+ dev?+ (?:\+local)?+`; false when a
    /// number is too long for `int()`.
    fn version(&mut self) -> bool {
        let mut ok = true;
        // Epoch: digits then `!`, else nothing is consumed.
        let start = self.at;
        match self.digits() {
            Some(fits) if self.peek() == Some(b'!') => {
                self.at += 1;
                ok &= fits;
            }
            _ => self.at = start,
        }
        match self.digits() {
            Some(fits) => ok &= fits,
            None => return false,
        }
        loop {
            let mark = self.at;
            if self.eat(b".")
                && let Some(fits) = self.digits()
            {
                ok &= fits;
                continue;
            }
            self.at = mark;
            break;
        }
        ok &= self
            .optional(|p| p.letter_part(&[b"alpha", b"a", b"beta", b"b", b"preview", b"pre", b"c", b"rc"]));
        ok &= self.optional(|p| {
            let mark = p.at;
            if p.eat(b"-")
                && let Some(fits) = p.digits()
            {
                return Some(fits);
            }
            p.at = mark;
            p.letter_part(&[b"post", b"rev", b"r"])
        });
        ok &= self.optional(|p| p.letter_part(&[b"dev"]));
        let mark = self.at;
        if self.eat(b"+")
            && let Some(fits) = self.local()
        {
            return ok && fits;
        }
        self.at = mark;
        ok
    }

    /// `(?:...)?+`: the group once if it matches (committed), else nothing.
    fn optional(&mut self, group: impl FnOnce(&mut Self) -> Option<bool>) -> bool {
        let mark = self.at;
        match group(self) {
            Some(fits) => fits,
            None => {
                self.at = mark;
                true
            }
        }
    }

    /// `[._-]?+ (word|...) [._-]?+ (?:[0-9]++)?+`; `None` when no word
    /// follows (the separator is possessive: it is not given back).
    fn letter_part(&mut self, words: &[&[u8]]) -> Option<bool> {
        self.separator();
        let rest = self.s.get(self.at..)?;
        let word = words.iter().find(|w| rest.starts_with(w))?;
        self.at += word.len();
        // The trailing separator is matched possessively: with no digits
        // after it, the group still matches, separator included.
        self.separator();
        Some(self.digits().unwrap_or(true))
    }

    /// `[a-z0-9]++(?:[._-][a-z0-9]++)*+`; `None` when it does not match,
    /// else whether every all-digit part fits `int()`.
    fn local(&mut self) -> Option<bool> {
        let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        // A part's length when it is all digits, else 0.
        let run = |p: &mut Self| {
            let start = p.at;
            while p.peek().is_some_and(alnum) {
                p.at += 1;
            }
            let part = p.s.get(start..p.at).unwrap_or_default();
            (!part.is_empty()).then(|| part.len() <= MAX_INT_DIGITS || !part.iter().all(u8::is_ascii_digit))
        };
        let mut ok = run(self)?;
        loop {
            let mark = self.at;
            if matches!(self.peek(), Some(b'.' | b'_' | b'-')) {
                self.at += 1;
                if let Some(fits) = run(self) {
                    ok &= fits;
                    continue;
                }
            }
            self.at = mark;
            return Some(ok);
        }
    }
}
