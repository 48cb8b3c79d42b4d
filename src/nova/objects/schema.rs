//! What one Nova release's `ImageMetaProps` is made of: its fields, their
//! kinds and accepted values, and the legacy names it maps. The tables are
//! read from each release's own objects (`parity/image_props_schema.py`)
//! and generated into `table.rs` by `scripts/gen-image-props`.

use crate::model::release::Release;

use super::table;

/// The kind of an `ImageMetaProps` field: the oslo.versionedobjects field
/// type, which decides what a value is coerced to and what is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldKind {
    /// `StringField`: strings, and integers and floats as their `str()`.
    String,
    /// `UUIDField`: the `str()` of any value (oslo only warns on a bad UUID).
    Uuid,
    /// `VersionPredicateField`: a string such as `>=2.6,<3`.
    VersionPredicate,
    /// `IntegerField`: Python's `int()` of the value.
    Integer,
    /// `NonNegativeIntegerField`: `int()`, refused below zero.
    NonNegativeInteger,
    /// `FlexibleBooleanField`: `strutils.bool_from_string` (anything else is false).
    FlexibleBoolean,
    /// An enum field: a string among [`Field::values`].
    Enum,
    /// `ListOfStringsField`.
    ListOfStrings,
    /// `ListOfIntegersField` (`hw_numa_mem`, from `hw_numa_mem.N` keys).
    ListOfIntegers,
    /// `ListOfSetsOfIntegersField` (`hw_numa_cpus`, from `hw_numa_cpus.N` keys).
    ListOfSetsOfIntegers,
    /// `ListOfDictOfNullableStringsField` (`img_mappings`, `img_block_device_mapping`).
    ListOfDictsOfNullableStrings,
}

/// How an enum field's type reads a value before checking it against its
/// values (Nova's enum classes that override `coerce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnumCoerce {
    /// oslo's `Enum.coerce`: the value must be one of the values as it is.
    Plain,
    /// `OSType`: `value.lower()` first.
    Lower,
    /// `SCSIModel`: `lower()`, then `lsilogicsas` and `paravirtual` renamed.
    Scsi,
    /// `VIFModel`: `lower()`, then its `LEGACY_VALUES` renamed.
    Vif(&'static [(&'static str, &'static str)]),
    /// `Architecture.canonicalize`: `lower()`, `i386`/`i486`/`i586`/`x86_32`/`x86_32p` to `i686`, `amd64` to `x86_64`.
    Architecture,
    /// `HVType.canonicalize`: `lower()`, `xapi` to `xen`.
    HvType,
    /// `VMMode.canonicalize`: `lower()`, `pv` to `xen`, `hv` and `baremetal` to `hvm`.
    VmMode,
}

/// The values an enum field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Values {
    /// A tuple of strings (`ALL`).
    Tuple(&'static [&'static str]),
    /// A string where Nova meant a one-element tuple (`ALL = (USBTABLET)`
    /// in older releases): Python's `in` then tests for a substring, so
    /// `"usb"` and `""` are accepted, and a non-string raises `TypeError`.
    /// (The string is the slice's one element.)
    Text(&'static [&'static str]),
}

/// A field's kind with what it needs to coerce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plain(FieldKind),
    Enum {
        class: &'static str,
        values: Values,
        coerce: EnumCoerce,
    },
}

/// One field of `ImageMetaProps` (or of `ImageMeta`) in one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
}

impl Field {
    /// The field's name, e.g. `hw_disk_bus`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its kind.
    #[must_use]
    pub fn kind(&self) -> FieldKind {
        match self.kind {
            Kind::Plain(kind) => kind,
            Kind::Enum { .. } => FieldKind::Enum,
        }
    }

    /// For an enum field, Nova's enum class (`DiskBus`), else `None`.
    #[must_use]
    pub fn enum_class(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Enum { class, .. } => Some(class),
            Kind::Plain(_) => None,
        }
    }

    /// For an enum field, the values it accepts (after the type's own
    /// canonicalisation, e.g. lower case), else `None`. For the one-string
    /// value lists of older releases, the string (any part of it is
    /// accepted).
    #[must_use]
    pub fn values(&self) -> Option<&'static [&'static str]> {
        match self.kind {
            Kind::Enum {
                values: Values::Tuple(values) | Values::Text(values),
                ..
            } => Some(values),
            Kind::Plain(_) => None,
        }
    }

    /// Whether [`Field::values`] is a string Nova tests substrings of.
    #[must_use]
    pub fn values_are_substrings(&self) -> bool {
        matches!(
            self.kind,
            Kind::Enum {
                values: Values::Text(_),
                ..
            }
        )
    }
}

/// A release's `ImageMetaProps`: its version, fields and legacy names.
///
/// ```
/// use nova_sysmeta::{Release, objects::{FieldKind, Schema}};
///
/// let latest = Schema::of(Release::LATEST);
/// assert_eq!(latest.version(), "1.44");
/// assert_eq!(latest.fields().len(), 86);
/// let bus = latest.field("hw_disk_bus").unwrap();
/// assert_eq!(bus.kind(), FieldKind::Enum);
/// assert!(bus.values().unwrap().contains(&"virtio"));
/// assert_eq!(latest.legacy_name("architecture"), Some("hw_architecture"));
///
/// let pike = Schema::of("16.1.8".parse()?);
/// assert_eq!(pike.version(), "1.19");
/// assert!(pike.field("traits_required").is_none());
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Schema {
    pub(crate) version: &'static str,
    pub(crate) image_meta_version: &'static str,
    pub(crate) fields: &'static [Field],
    pub(crate) legacy: &'static [(&'static str, &'static str)],
    pub(crate) traits: bool,
    pub(crate) numa_nodes_max: usize,
    pub(crate) image_meta_fields: &'static [Field],
}

impl Schema {
    /// The schema of `release`: that of the newest release on PyPI not
    /// after it (each release from 16.1.6 to 34.0.0 was read; a version
    /// between two of them takes the older's, one before 16.1.6 takes
    /// 16.1.6's).
    #[must_use]
    pub fn of(release: Release) -> &'static Schema {
        let key = release.triple();
        let at = table::RELEASES.partition_point(|(r, _)| *r <= key);
        let index = table::RELEASES.get(at.saturating_sub(1)).map_or(0, |(_, i)| *i);
        table::SCHEMAS
            .get(usize::from(index))
            .unwrap_or(&table::SCHEMAS[0])
    }

    /// Every release whose objects were read (each on PyPI from 16.1.6 to
    /// 34.0.0), ascending, with its schema.
    ///
    /// ```
    /// use nova_sysmeta::objects::Schema;
    /// let first_with_traits = Schema::releases().find(|(_, s)| s.reads_traits()).unwrap().0;
    /// assert_eq!(first_with_traits.to_string(), "18.0.2");
    /// ```
    pub fn releases() -> impl Iterator<Item = (Release, &'static Schema)> {
        table::RELEASES.iter().filter_map(|((major, minor, patch), i)| {
            Some((
                Release::new(*major, *minor, *patch).ok()?,
                table::SCHEMAS.get(usize::from(*i))?,
            ))
        })
    }

    /// `ImageMetaProps.VERSION`, e.g. `1.44`.
    #[must_use]
    pub fn version(&self) -> &'static str {
        self.version
    }

    /// `ImageMeta.VERSION`, e.g. `1.8`.
    #[must_use]
    pub fn image_meta_version(&self) -> &'static str {
        self.image_meta_version
    }

    /// The fields, in Nova's order (the order of `fields` in image_meta.py).
    #[must_use]
    pub fn fields(&self) -> &'static [Field] {
        self.fields
    }

    /// The field named `name`, if the release has it.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The legacy property names Nova maps, in its order (`_legacy_property_map`).
    #[must_use]
    pub fn legacy_names(&self) -> &'static [(&'static str, &'static str)] {
        self.legacy
    }

    /// The current name `legacy` is read as, if it is a legacy name.
    #[must_use]
    pub fn legacy_name(&self, legacy: &str) -> Option<&'static str> {
        self.legacy
            .iter()
            .find(|(old, _)| *old == legacy)
            .map(|(_, new)| *new)
    }

    /// Whether `trait:NAME` properties set to `required` give `traits_required`.
    #[must_use]
    pub fn reads_traits(&self) -> bool {
        self.traits
    }
}
