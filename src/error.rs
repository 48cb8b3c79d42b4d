//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in this crate.
///
/// Each variant names what was rejected (the key, field or text), so a
/// caller can report exactly which part of its input was wrong, and match
/// on the variant to decide what to do. No function of this crate panics
/// on bad input: it returns one of these instead.
///
/// ```
/// use nova_sysmeta::{Error, Release};
///
/// match "15.1.5".parse::<Release>() {
///     Err(Error::UnsupportedRelease { version }) => assert_eq!(version, "15.1.5"),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!("Pike".parse::<Release>(), Err(Error::InvalidRelease { .. })));
/// ```
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

    /// An integer of more digits than Python reads
    /// ([`MAX_INT_DIGITS`](crate::python::value::MAX_INT_DIGITS); CPython
    /// raises `ValueError` past it).
    #[error("an integer of {digits} digits exceeds Python's limit for reading integers")]
    IntegerTooLong {
        /// How many digits it has.
        digits: usize,
    },

    /// A list or object nested deeper than
    /// [`MAX_DEPTH`](crate::python::value::MAX_DEPTH) levels. Python gives
    /// up near the same depth (its recursion limit), so Nova never handles
    /// one.
    #[error("a value nests deeper than {limit} levels")]
    TooDeep {
        /// The limit, [`MAX_DEPTH`](crate::python::value::MAX_DEPTH).
        limit: usize,
    },

    /// Text that is not one JSON value as Python's `json` reads it: a
    /// syntax error, or a `\u` escape of a lone surrogate (which Python
    /// reads but no Rust string can hold).
    #[error("not JSON: {reason} at byte {offset}")]
    InvalidJson {
        /// The byte offset of the problem in the text.
        offset: usize,
        /// What was wrong there.
        reason: String,
    },

    /// Text that is not a version `major.minor.patch`.
    #[error("expected a Nova version like \"34.0.0\", found {text:?}")]
    InvalidRelease {
        /// The text given.
        text: String,
    },

    /// A well-formed version of a series the crate does not model (it
    /// models Pike, 16, to 2026.2, 34).
    #[error("Nova {version} is not modelled (series 16 to 34)")]
    UnsupportedRelease {
        /// The version given.
        version: String,
    },

    /// Text that is not an ISO 8601 date-time as Nova's `timeutils` reads
    /// it.
    #[error("not an ISO 8601 date-time: {text:?}")]
    InvalidTimestamp {
        /// The text given.
        text: String,
    },

    /// Something a flow needs to compute Nova's answer is absent (or null),
    /// e.g. an instance's `image_ref` to shelve it. Nova fails there too.
    #[error("`{field}` is required: {reason}")]
    Missing {
        /// The field, e.g. `instance.image_ref`.
        field: &'static str,
        /// Why the flow needs it, and what Nova does without it.
        reason: &'static str,
    },

    /// A Glance v2 image body (properties at the top level) given where
    /// Nova's image dict (properties under `properties`) was expected;
    /// [`glance::from_glance`](crate::glance::from_glance) reads such a body.
    #[error(
        "`{attribute}` is an attribute of Glance v2 image bodies; read such a body with glance::from_glance"
    )]
    GlanceBody {
        /// The Glance attribute that gave it away (e.g. `status`).
        attribute: String,
    },

    /// A base named for an image ([`image_repair::Request::base`]) that
    /// can not be planned.
    ///
    /// [`image_repair::Request::base`]: crate::image_repair::Request::base
    #[error("cannot name a base for image {image_id}: {reason}")]
    InvalidBase {
        /// The image the base was named for.
        image_id: String,
        /// Why it cannot take one.
        reason: &'static str,
    },

    /// A `hw_numa_cpus.N` CPU spec whose sets would hold more than
    /// [`objects::MAX_CPU_IDS`](crate::objects::MAX_CPU_IDS) ids, or a range
    /// ending past `u64`. Nova builds such sets one id at a time
    /// (`set(range(..))`); the crate refuses them, a documented departure.
    #[error("`{key}` names more than {limit} CPU ids")]
    CpuSetTooLarge {
        /// The property, e.g. `hw_numa_cpus.0`.
        key: String,
        /// The limit.
        limit: u64,
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
    /// A stable, snake_case name of the variant, one per variant (the
    /// variant's name in snake case).
    ///
    /// ```
    /// use nova_sysmeta::Error;
    /// let e = Error::KeyTooLong { key: "k".repeat(300), chars: 300 };
    /// assert_eq!(e.kind(), "key_too_long");
    /// assert_eq!(Error::TooDeep { limit: 1 }.kind(), "too_deep");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::EmptyKey { .. } => "empty_key",
            Error::KeyTooLong { .. } => "key_too_long",
            Error::ValueTooLong { .. } => "value_too_long",
            Error::NotAnInteger { .. } => "not_an_integer",
            Error::IntegerTooLong { .. } => "integer_too_long",
            Error::TooDeep { .. } => "too_deep",
            Error::InvalidJson { .. } => "invalid_json",
            Error::InvalidRelease { .. } => "invalid_release",
            Error::UnsupportedRelease { .. } => "unsupported_release",
            Error::InvalidTimestamp { .. } => "invalid_timestamp",
            Error::Missing { .. } => "missing",
            Error::GlanceBody { .. } => "glance_body",
            Error::InvalidBase { .. } => "invalid_base",
            Error::CpuSetTooLarge { .. } => "cpu_set_too_large",
            Error::InvalidValue { .. } => "invalid_value",
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
