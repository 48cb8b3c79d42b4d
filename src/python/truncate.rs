//! `safe_truncate` (nova/utils.py): cut to a byte length without splitting
//! a UTF-8 character.

/// Truncates `value` to at most `max_bytes` bytes of UTF-8, dropping any
/// character that would be split, as Nova's `safe_truncate` does.
///
/// The unit is bytes, not characters: 255 bytes of `é` are 127 characters.
///
/// ```
/// use nova_sysmeta::convert::safe_truncate;
///
/// assert_eq!(safe_truncate("abcdef", 3), "abc");
/// // "é" is two bytes: cutting at 3 would split the second one.
/// assert_eq!(safe_truncate("ééé", 3), "é");
/// assert_eq!(safe_truncate(&"é".repeat(200), 255).len(), 254);
/// ```
#[must_use]
pub fn safe_truncate(value: &str, max_bytes: usize) -> &str {
    &value[..floor_char_boundary(value, max_bytes)]
}

/// The largest character boundary of `s` that is `<= index`.
pub(crate) fn floor_char_boundary(s: &str, index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    // A UTF-8 character is at most 4 bytes, so a boundary is at most 3 back.
    (index.saturating_sub(3)..=index)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_splits_a_character_at_any_offset() {
        for c in ['a', 'é', '€', '😀'] {
            let s: String = std::iter::repeat_n(c, 100).collect();
            for limit in 0..=s.len() + 1 {
                let t = safe_truncate(&s, limit);
                assert!(t.len() <= limit);
                assert!(limit.min(s.len()) - t.len() < c.len_utf8());
            }
        }
    }
}
