//! Nova's `hardware.parse_cpu_spec` (`"1-4,^3,6"`), without building the
//! sets range by range: ranges are kept as intervals, so a spec costs what
//! its text and its answer cost.

use std::collections::BTreeSet;

use crate::python::python_int_of_value;
use crate::python::value::{Int, Value};

use super::coerce::strip;

/// How many CPU ids a property's sets may hold in all. Nova would build
/// larger sets one id at a time (`set(range(start, end + 1))`); the crate
/// refuses them instead (a departure, like the 255-character columns).
pub const MAX_CPU_IDS: u64 = 1 << 20;

/// Why a spec is refused.
pub(super) enum SpecError {
    /// What Nova raises (`exception.Invalid`, or `AttributeError`).
    Nova(String),
    /// A range past [`MAX_CPU_IDS`], or with an end past `u64`.
    TooLarge,
}

/// The ids of one spec, ascending.
pub(super) fn parse_cpu_spec(spec: &Value, budget: &mut u64) -> Result<Vec<Int>, SpecError> {
    let Value::Str(spec) = spec else {
        return Err(SpecError::Nova(format!(
            "'{}' object has no attribute 'split'",
            super::coerce::type_name(spec)
        )));
    };
    let invalid = |what: &str, rule: &str| {
        SpecError::Nova(format!(
            "Invalid {what} expression {}",
            crate::python::repr(&Value::Str(rule.to_owned()))
        ))
    };
    let int = |text: &str| python_int_of_value(&Value::Str(text.to_owned()));
    let mut include = Ids::default();
    let mut reject = Ids::default();
    for rule in spec.split(',') {
        let rule = strip(rule);
        if rule.is_empty() {
            continue;
        }
        if let Some((first, second)) = rule.split_once('-') {
            let (is_reject, first) = match first.strip_prefix('^') {
                Some(rest) => (true, rest),
                None => (false, first),
            };
            let (Some(start), Some(end)) = (int(strip(first)), int(strip(second))) else {
                return Err(invalid("range", rule));
            };
            if compare(&start, &end).is_gt() {
                return Err(invalid("range", rule));
            }
            let target = if is_reject { &mut reject } else { &mut include };
            target.add_range(start, end)?;
        } else if let Some(rest) = rule.strip_prefix('^') {
            let Some(id) = int(strip(rest)) else {
                return Err(invalid("exclusion", rule));
            };
            reject.add_one(id);
        } else {
            let Some(id) = int(rule) else {
                return Err(invalid("inclusion", rule));
            };
            include.add_one(id);
        }
    }
    include.subtract(&reject, budget)
}

/// Python's comparison of two ints.
fn compare(a: &Int, b: &Int) -> std::cmp::Ordering {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let (ta, tb) = (a.to_string(), b.to_string());
            match (a.is_negative(), b.is_negative()) {
                (true, false) => std::cmp::Ordering::Less,
                (false, true) => std::cmp::Ordering::Greater,
                (negative, _) => {
                    let order = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(&tb));
                    if negative { order.reverse() } else { order }
                }
            }
        }
    }
}

/// A set of ids: intervals of `u64` ids (a single id is an interval of
/// one), and the ids past `u64` apart (a single id is whatever `int()`
/// read; every id is at least 0, as the text before a `-` has no sign).
#[derive(Default)]
struct Ids {
    ranges: Vec<(u64, u64)>,
    big: BTreeSet<Key>,
}

/// An `Int` ordered as Python orders ints.
#[derive(Clone, PartialEq, Eq)]
struct Key(Int);

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn as_u64(i: &Int) -> Option<u64> {
    i.as_i64().and_then(|v| u64::try_from(v).ok()).or_else(|| {
        if i.is_negative() {
            None
        } else {
            i.to_string().parse().ok()
        }
    })
}

/// Sorted, disjoint, adjacent ones joined.
fn merged(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

impl Ids {
    fn add_one(&mut self, id: Int) {
        match as_u64(&id) {
            Some(u) => self.ranges.push((u, u)),
            None => {
                self.big.insert(Key(id));
            }
        }
    }

    fn add_range(&mut self, start: Int, end: Int) -> Result<(), SpecError> {
        if compare(&start, &end).is_eq() {
            self.add_one(start);
            return Ok(());
        }
        let (Some(a), Some(b)) = (as_u64(&start), as_u64(&end)) else {
            return Err(SpecError::TooLarge);
        };
        // Its size is charged only for the ids that stay (see `subtract`).
        self.ranges.push((a, b));
        Ok(())
    }

    /// `self - other`, ascending, counted against `budget`.
    fn subtract(self, other: &Ids, budget: &mut u64) -> Result<Vec<Int>, SpecError> {
        let include = merged(self.ranges);
        let reject = merged(other.ranges.clone());
        let mut out: Vec<Int> = Vec::new();
        let mut emit = |a: u128, b: u128, budget: &mut u64| -> Result<(), SpecError> {
            let (Ok(a), Ok(b)) = (u64::try_from(a), u64::try_from(b)) else {
                return Ok(());
            };
            let n = b - a + 1;
            *budget = budget.checked_sub(n).ok_or(SpecError::TooLarge)?;
            out.extend((a..=b).map(Int::from));
            Ok(())
        };
        for (a, b) in include {
            // [a, b] less the rejected intervals that overlap it.
            let mut next = u128::from(a);
            let first = reject.partition_point(|(_, rb)| *rb < a);
            for &(ra, rb) in reject.get(first..).unwrap_or_default() {
                if ra > b || next > u128::from(b) {
                    break;
                }
                if u128::from(ra) > next {
                    emit(next, u128::from(ra) - 1, budget)?;
                }
                next = next.max(u128::from(rb) + 1);
            }
            if next <= u128::from(b) {
                emit(next, u128::from(b), budget)?;
            }
        }
        // Ids past u64, after every other.
        for id in self.big {
            if !other.big.contains(&id) {
                *budget = budget.checked_sub(1).ok_or(SpecError::TooLarge)?;
                out.push(id.0);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// Nova's algorithm as it is written: sets built id by id.
    fn naive(spec: &str) -> Option<Vec<i64>> {
        let mut include = BTreeSet::new();
        let mut reject = BTreeSet::new();
        for rule in spec.split(',') {
            let rule = rule.trim();
            if rule.is_empty() {
                continue;
            }
            if let Some((a, b)) = rule.split_once('-') {
                let (r, a) = a.strip_prefix('^').map_or((false, a), |a| (true, a));
                let (a, b): (i64, i64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b {
                    return None;
                }
                let target = if r { &mut reject } else { &mut include };
                target.extend(a..=b);
            } else if let Some(x) = rule.strip_prefix('^') {
                reject.insert(x.trim().parse::<i64>().ok()?);
            } else {
                include.insert(rule.parse::<i64>().ok()?);
            }
        }
        Some(include.difference(&reject).copied().collect())
    }

    fn ours(spec: &str) -> Option<Vec<i64>> {
        let mut budget = MAX_CPU_IDS;
        parse_cpu_spec(&Value::Str(spec.to_owned()), &mut budget)
            .ok()
            .map(|ids| ids.iter().map(|i| i.as_i64().unwrap()).collect())
    }

    fn rule() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u8..40).prop_map(|a| a.to_string()),
            (0u8..40).prop_map(|a| format!("^{a}")),
            (0u8..40, 0u8..40).prop_map(|(a, b)| format!("{a}-{b}")),
            (0u8..40, 0u8..40).prop_map(|(a, b)| format!("^{a} - {b}")),
            Just(String::new()),
        ]
    }

    proptest! {
        #[test]
        fn intervals_give_what_id_by_id_sets_give(rules in prop::collection::vec(rule(), 0..8)) {
            let spec = rules.join(",");
            prop_assert_eq!(ours(&spec), naive(&spec), "{}", spec);
        }
    }

    #[test]
    fn huge_ranges_cost_nothing_when_rejected_and_are_refused_when_kept() {
        // Nova would build a billion-id set here; the answer is empty.
        assert_eq!(ours("0-999999999,^0-999999999"), Some(vec![]));
        let mut budget = MAX_CPU_IDS;
        let kept = parse_cpu_spec(&Value::Str("0-999999999".into()), &mut budget);
        assert!(matches!(kept, Err(SpecError::TooLarge)));
        // At the limit exactly, accepted.
        let mut budget = MAX_CPU_IDS;
        let at = parse_cpu_spec(&Value::Str(format!("0-{}", MAX_CPU_IDS - 1)), &mut budget)
            .ok()
            .unwrap();
        assert_eq!(at.len() as u64, MAX_CPU_IDS);
        // Single ids of any size, and ends at u64's edge.
        let big = "9".repeat(40);
        let mut budget = MAX_CPU_IDS;
        let ids = parse_cpu_spec(&Value::Str(format!("{big},3")), &mut budget)
            .ok()
            .unwrap();
        assert_eq!(
            ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec!["3".to_owned(), big]
        );
        let mut budget = MAX_CPU_IDS;
        let edge = parse_cpu_spec(
            &Value::Str("18446744073709551614-18446744073709551615,^18446744073709551615".into()),
            &mut budget,
        );
        assert_eq!(
            edge.ok()
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec!["18446744073709551614"]
        );
    }
}
