//! [`Release`]: the Nova version whose behaviour the flows compute, and what
//! changed where.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// A Nova release, as its full version (`16.1.8`, `21.2.4`, `34.0.0`).
///
/// Behaviour changed at exact versions, sometimes by a backport inside a
/// series, so a release is a version, not only a series. Every release of
/// the series Pike (16) to 2026.2 (34) is modelled; `Default` is 34.0.0.
/// It reads and writes as its text.
///
/// What changed for the flows of this crate, each read from the releases'
/// own code and proven against it by the parity suite:
///
/// | from | change | method |
/// |---|---|---|
/// | 18.2.2 | snapshots get `visibility` (`private`, or `shared` with `instance_owner`) instead of `is_public: False` | [`Release::snapshot_visibility`] |
/// | 21.0.0 | built-in non-inheritable properties; the configured default shrinks to `cache_in_nova, bittorrent` | [`Release::built_in_non_inheritable`] |
/// | 21.2.1 | rebuild and shelve put `image_base_image_ref` back (bug 1893618) | [`Release::rebuild_keeps_base_image_ref`] |
/// | 23.0.0 | `os_glance*` properties are not inherited; resize re-asserts the base image ref | [`Release::drops_os_glance`] |
/// | 27.5.0, 28.3.0, 29.2.0, 30.0.0 | the libvirt upload no longer forces `disk_format: ami` | [`Release::upload_forces_ami`] |
///
/// ```
/// use nova_sysmeta::Release;
///
/// let ussuri: Release = "21.2.0".parse().unwrap();
/// assert_eq!(ussuri.series(), Release::USSURI.series());
/// assert!(!ussuri.rebuild_keeps_base_image_ref());
/// assert!(Release::new(21, 2, 1).unwrap().rebuild_keeps_base_image_ref());
/// assert_eq!(Release::default(), Release::LATEST);
/// assert_eq!(Release::LATEST.to_string(), "34.0.0");
/// assert!("15.1.5".parse::<Release>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    major: u16,
    minor: u16,
    patch: u16,
}

/// The first and last modelled series (Pike and 2026.2).
const SERIES: std::ops::RangeInclusive<u16> = 16..=34;

impl Release {
    /// Pike (16.0.0), the oldest modelled series.
    pub const PIKE: Self = Self::first_of(16);
    /// Queens (17.0.0).
    pub const QUEENS: Self = Self::first_of(17);
    /// Rocky (18.0.0).
    pub const ROCKY: Self = Self::first_of(18);
    /// Stein (19.0.0).
    pub const STEIN: Self = Self::first_of(19);
    /// Train (20.0.0).
    pub const TRAIN: Self = Self::first_of(20);
    /// Ussuri (21.0.0).
    pub const USSURI: Self = Self::first_of(21);
    /// Victoria (22.0.0).
    pub const VICTORIA: Self = Self::first_of(22);
    /// Wallaby (23.0.0).
    pub const WALLABY: Self = Self::first_of(23);
    /// Xena (24.0.0).
    pub const XENA: Self = Self::first_of(24);
    /// Yoga (25.0.0).
    pub const YOGA: Self = Self::first_of(25);
    /// Zed (26.0.0).
    pub const ZED: Self = Self::first_of(26);
    /// 2023.1 Antelope (27.0.0).
    pub const ANTELOPE: Self = Self::first_of(27);
    /// 2023.2 Bobcat (28.0.0).
    pub const BOBCAT: Self = Self::first_of(28);
    /// 2024.1 Caracal (29.0.0).
    pub const CARACAL: Self = Self::first_of(29);
    /// 2024.2 Dalmatian (30.0.0).
    pub const DALMATIAN: Self = Self::first_of(30);
    /// 2025.1 Epoxy (31.0.0).
    pub const EPOXY: Self = Self::first_of(31);
    /// 2025.2 Flamingo (32.0.0).
    pub const FLAMINGO: Self = Self::first_of(32);
    /// 2026.1 Gazpacho (33.0.0).
    pub const GAZPACHO: Self = Self::first_of(33);
    /// 2026.2 (34.0.0).
    pub const V2026_2: Self = Self::first_of(34);
    /// The newest modelled release, 34.0.0: the default.
    pub const LATEST: Self = Self::first_of(34);

    const fn first_of(major: u16) -> Self {
        Self {
            major,
            minor: 0,
            patch: 0,
        }
    }

    /// The release `major.minor.patch`.
    ///
    /// # Errors
    /// [`Error::UnsupportedRelease`] when `major` is not a modelled series
    /// (16 to 34).
    pub fn new(major: u16, minor: u16, patch: u16) -> Result<Self, Error> {
        if !SERIES.contains(&major) {
            return Err(Error::UnsupportedRelease {
                version: format!("{major}.{minor}.{patch}"),
            });
        }
        Ok(Self { major, minor, patch })
    }

    /// `(major, minor, patch)`, for ordered tables of releases.
    pub(crate) const fn triple(self) -> (u16, u16, u16) {
        (self.major, self.minor, self.patch)
    }

    /// The series: the major version (16 is Pike, 34 is 2026.2).
    #[must_use]
    pub const fn series(self) -> u16 {
        self.major
    }

    /// Whether this is `major.minor.patch` or later (the derived order:
    /// major, then minor, then patch).
    fn at_least(self, major: u16, minor: u16, patch: u16) -> bool {
        self >= Self { major, minor, patch }
    }

    /// Whether a snapshot is given `visibility` (`private`, or `shared`
    /// with an `instance_owner` property when another project takes it):
    /// from 18.2.2. Before, it is `is_public: False`, with no owner.
    #[must_use]
    pub fn snapshot_visibility(self) -> bool {
        self.at_least(18, 2, 2)
    }

    /// Whether Nova's built-in non-inheritable properties
    /// ([`NON_INHERITABLE_IMAGE_PROPERTIES`](crate::keys::NON_INHERITABLE_IMAGE_PROPERTIES))
    /// exist: from 21.0.0. Before, the image-signature keys were in the
    /// configured default instead ([`Release::default_non_inheritable`]).
    #[must_use]
    pub fn built_in_non_inheritable(self) -> bool {
        self.at_least(21, 0, 0)
    }

    /// Whether `os_glance*` properties are kept out of snapshots
    /// ([`NON_INHERITABLE_IMAGE_NAMESPACES`](crate::keys::NON_INHERITABLE_IMAGE_NAMESPACES)):
    /// from 23.0.0.
    #[must_use]
    pub fn drops_os_glance(self) -> bool {
        self.at_least(23, 0, 0)
    }

    /// Whether rebuild and shelve put `image_base_image_ref` back (the fix
    /// for bug 1893618): from 21.2.1, an Ussuri backport, and 22.0.0.
    #[must_use]
    pub fn rebuild_keeps_base_image_ref(self) -> bool {
        self.at_least(21, 2, 1)
    }

    /// Whether resize re-asserts `image_base_image_ref`: from 23.0.0.
    #[must_use]
    pub fn resize_keeps_base_image_ref(self) -> bool {
        self.at_least(23, 0, 0)
    }

    /// Whether the libvirt upload sends `disk_format: ami` when the
    /// instance's image is an `ami`, whatever was uploaded: until 27.5.0,
    /// 28.3.0 and 29.2.0 (backports), and 30.0.0.
    #[must_use]
    pub fn upload_forces_ami(self) -> bool {
        match self.major {
            ..=26 => true,
            27 => !self.at_least(27, 5, 0),
            28 => !self.at_least(28, 3, 0),
            29 => !self.at_least(29, 2, 0),
            _ => false,
        }
    }

    /// The default of `[DEFAULT] non_inheritable_image_properties` in this
    /// release: `cache_in_nova` and `bittorrent`, plus the four
    /// `img_signature*` keys before 21.0.0.
    #[must_use]
    pub fn default_non_inheritable(self) -> &'static [&'static str] {
        const SINCE_USSURI: [&str; 2] = ["cache_in_nova", "bittorrent"];
        const BEFORE_USSURI: [&str; 6] = [
            "cache_in_nova",
            "bittorrent",
            "img_signature_hash_method",
            "img_signature",
            "img_signature_key_type",
            "img_signature_certificate_uuid",
        ];
        if self.built_in_non_inheritable() {
            &SINCE_USSURI
        } else {
            &BEFORE_USSURI
        }
    }
}

impl Default for Release {
    fn default() -> Self {
        Self::LATEST
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Release {
    type Err = Error;

    /// Reads `major.minor.patch` (ASCII digits, no sign or padding beyond
    /// what fits in 16 bits).
    fn from_str(text: &str) -> Result<Self, Error> {
        let refuse = || Error::InvalidRelease {
            text: text.to_owned(),
        };
        let mut parts = text.split('.').map(|part| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                part.parse::<u16>().ok()
            }
        });
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) => Self::new(major, minor, patch),
            _ => Err(refuse()),
        }
    }
}

impl Serialize for Release {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Release {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_as_numbers() {
        let r = |s: &str| s.parse::<Release>().unwrap();
        assert!(r("21.2.10") > r("21.2.9"));
        assert!(r("22.0.0") > r("21.99.99"));
        assert!(!r("21.2.0").rebuild_keeps_base_image_ref());
        assert!(r("21.2.1").rebuild_keeps_base_image_ref());
        assert!(r("21.10.0").rebuild_keeps_base_image_ref());
        assert!(!r("18.2.1").snapshot_visibility());
        assert!(r("18.2.2").snapshot_visibility());
        assert!(r("18.3.0").snapshot_visibility());
        assert!(r("19.0.0").snapshot_visibility());
    }

    #[test]
    fn ami_forcing_ends_per_series() {
        for (text, forced) in [
            ("16.1.8", true),
            ("26.3.0", true),
            ("27.4.0", true),
            ("27.5.0", false),
            ("28.2.0", true),
            ("28.3.0", false),
            ("29.1.0", true),
            ("29.2.0", false),
            ("30.0.0", false),
            ("34.0.0", false),
        ] {
            assert_eq!(
                text.parse::<Release>().unwrap().upload_forces_ami(),
                forced,
                "{text}"
            );
        }
    }

    #[test]
    fn bad_versions_are_refused() {
        for text in [
            "",
            "34",
            "34.0",
            "34.0.0.0",
            "+34.0.0",
            "34.0.x",
            "15.1.5",
            "35.0.0",
            "34.0.70000",
            " 34.0.0",
        ] {
            let err = text.parse::<Release>().unwrap_err();
            let unmodelled = ["15.1.5", "35.0.0"].contains(&text);
            let want = if unmodelled {
                "unsupported_release"
            } else {
                "invalid_release"
            };
            assert_eq!(err.kind(), want, "{text}");
        }
        assert_eq!("016.01.8".parse::<Release>().unwrap().to_string(), "16.1.8");
    }

    #[test]
    fn serde_is_the_text() {
        let r: Release = serde_json::from_str("\"21.2.4\"").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"21.2.4\"");
        assert!(serde_json::from_str::<Release>("21").is_err());
    }
}
