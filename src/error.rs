//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in this crate.
///
/// Each variant names the key (or field) involved, so a caller can report
/// exactly which part of its input was rejected. No function of this crate
/// panics on bad input: it returns one of these instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A key was empty. Nova's API and Glance reject empty metadata keys;
    /// the crate refuses to store or read one.
    #[error("empty key in {context}")]
    EmptyKey {
        /// Where the empty key was found, e.g. `"image properties"`.
        context: &'static str,
    },

    /// A system-metadata key longer than the 255 characters of the
    /// `instance_system_metadata.key` column.
    #[error("key `{key}` is {chars} characters long; the database column holds 255")]
    KeyTooLong {
        /// The offending key.
        key: String,
        /// Its length in characters.
        chars: usize,
    },

    /// A system-metadata value longer than the 255 characters of the
    /// `instance_system_metadata.value` column. Nova truncates image
    /// property values, but not the inheritable attributes or values a
    /// caller hands in, so these are refused instead of cut.
    #[error("value of `{key}` is {chars} characters long; the database column holds 255")]
    ValueTooLong {
        /// The key whose value is too long.
        key: String,
        /// The value's length in characters.
        chars: usize,
    },

    /// A value that Nova needs as an integer is not one, e.g. a string
    /// `min_disk` compared with a flavor's `root_gb` (Nova raises
    /// `TypeError` there).
    #[error("`{key}` must be an integer, found {found}")]
    NotAnInteger {
        /// The attribute, e.g. `min_disk`.
        key: String,
        /// What was found instead, as Python would print it.
        found: String,
    },

    /// A list or object nested deeper than [`crate::value::MAX_DEPTH`] levels.
    /// Python gives up near the same depth (its recursion limit), so Nova
    /// never handles one.
    #[error("a value nests deeper than {limit} levels")]
    TooDeep {
        /// The limit, [`crate::value::MAX_DEPTH`].
        limit: usize,
    },

    /// A value of the wrong type or shape for its key.
    #[error("invalid value for `{key}`: {reason}")]
    InvalidValue {
        /// The attribute or field.
        key: String,
        /// What was wrong with it.
        reason: String,
    },
}

impl Error {
    /// A stable, snake_case name for the variant, used by the `nova_meta`
    /// example as its error `kind`.
    ///
    /// ```
    /// use nova_sysmeta::Error;
    /// let e = Error::KeyTooLong { key: "k".repeat(300), chars: 300 };
    /// assert_eq!(e.kind(), "key_too_long");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::EmptyKey { .. } => "empty_key",
            Error::KeyTooLong { .. } => "key_too_long",
            Error::ValueTooLong { .. } => "value_too_long",
            Error::NotAnInteger { .. } => "not_an_integer",
            Error::TooDeep { .. } | Error::InvalidValue { .. } => "invalid_value",
        }
    }

    pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidValue {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// `Result` with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
