//! Audit and repair of an instance's system metadata: finding what the
//! pre-fix rebuild (bug 1893618) and other accidents left behind, and
//! fixing what can be fixed the way Nova itself would.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::Error;
use crate::model::config::NovaConfig;
use crate::model::release::Release;
use crate::nova::keys::{
    IMAGE_BASE_IMAGE_REF, SM_IMAGE_PROP_PREFIX, VALUE_BYTES, is_inheritable_key, is_skip_key,
    strip_image_prefix,
};
use crate::nova::shelve::KEYS as SHELVED_KEYS;
use crate::nova::snapshot::is_non_inheritable;
use crate::python::int;
use crate::python::truncate::safe_truncate;
use crate::storage::class::NameSet;
use crate::storage::properties::{Properties, PropertyValue};
use crate::storage::system_metadata::{SystemMetadata, chars_over_column};

/// What the audit knows about the instance besides its system metadata.
/// Every fact is optional; findings that need a missing fact are skipped.
/// More facts may come: build one with [`InstanceFacts::new`] and the
/// `with_` methods.
///
/// ```
/// use nova_sysmeta::audit::InstanceFacts;
/// let facts = InstanceFacts::new().with_image_ref("img-b").with_vm_state("active");
/// assert_eq!(facts.image_ref.as_deref(), Some("img-b"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct InstanceFacts {
    /// The instance's UUID (for reports).
    pub uuid: Option<uuid::Uuid>,
    /// `instance.image_ref`: what Nova's healing writes as the base image ref.
    pub image_ref: Option<String>,
    /// `instance.vm_state`, e.g. `active`, `shelved_offloaded`.
    pub vm_state: Option<String>,
    /// The Nova releases that ran the instance's cell, in any order. When
    /// given, a missing `image_base_image_ref` is explained: lost by a
    /// rebuild on a release before 21.2.1, or not by any rebuild.
    pub release_history: Vec<Release>,
}

impl InstanceFacts {
    /// No facts.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// With the instance's UUID.
    #[must_use]
    pub fn with_uuid(mut self, uuid: uuid::Uuid) -> Self {
        self.uuid = Some(uuid);
        self
    }

    /// With the instance's `image_ref`.
    #[must_use]
    pub fn with_image_ref(mut self, image_ref: impl Into<String>) -> Self {
        self.image_ref = Some(image_ref.into());
        self
    }

    /// With the instance's `vm_state`.
    #[must_use]
    pub fn with_vm_state(mut self, vm_state: impl Into<String>) -> Self {
        self.vm_state = Some(vm_state.into());
        self
    }

    /// With the Nova releases that ran the instance's cell.
    #[must_use]
    pub fn with_release_history(mut self, releases: impl IntoIterator<Item = Release>) -> Self {
        self.release_history = releases.into_iter().collect();
        self
    }

    /// Why `image_base_image_ref` may be missing, from the release history.
    fn missing_base_image_ref_cause(&self) -> String {
        let lossy = self
            .release_history
            .iter()
            .filter(|r| !r.rebuild_keeps_base_image_ref())
            .max();
        match (lossy, self.release_history.is_empty()) {
            (_, true) => "bug 1893618".to_owned(),
            (Some(release), false) => {
                format!("lost by a rebuild before 21.2.1: bug 1893618, and the cell ran Nova {release}")
            }
            (None, false) => "not by a rebuild: every release in the history puts it back".to_owned(),
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nova misbehaves or the database refuses the row.
    Error,
    /// Probably wrong, or a risk.
    Warning,
    /// Worth knowing; often Nova's normal behaviour.
    Info,
}

/// The kinds of finding. Serialized in snake_case (`missing_base_image_ref`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// No `image_base_image_ref`: the pre-fix rebuild's damage (bug
    /// 1893618); every snapshot of the instance loses `base_image_ref`.
    MissingBaseImageRef,
    /// An image property value (`image_<name>`) over 255 bytes, which Nova
    /// cuts to 255 when it writes one; or any value over the column's 255
    /// characters, which the database refuses. Other values over 255
    /// bytes (a project name of 140 Cyrillic letters) are Nova's own.
    ValueTooLong,
    /// A key over the 255-character key column.
    KeyTooLong,
    /// `min_ram`/`min_disk` that Python's `int()` refuses: Nova's
    /// `ImageMeta.from_instance` fails on it.
    NonIntegerInheritable,
    /// A skip key (`mappings`, `block_device_mapping`, ...) stored, which
    /// Nova never does and never reads.
    SkipKeyStored,
    /// An unprefixed key that Nova copies into every snapshot's properties.
    WouldLeak,
    /// `shelved_*` keys on an instance that is not shelved.
    StaleShelvedKeys,
    /// `image_base_image_ref` differs from the instance's `image_ref`:
    /// normal right after booting from a snapshot, otherwise a sign of an
    /// inconsistent record. Not repaired.
    ImageRefMismatch,
    /// An image property the release's `ImageMetaProps` cannot type (a
    /// value its field refuses): `ImageMeta.from_instance` raises, and the
    /// instance can no longer be hard-rebooted, migrated, resized, rebuilt
    /// or unshelved. Not repaired: `nova-manage image_property set` (or
    /// `nova-sysmeta-db image-property set`) sets a value the operator
    /// chooses.
    UntypedImageProperty,
}

impl FindingKind {
    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::MissingBaseImageRef => "missing_base_image_ref",
            FindingKind::ValueTooLong => "value_too_long",
            FindingKind::KeyTooLong => "key_too_long",
            FindingKind::NonIntegerInheritable => "non_integer_inheritable",
            FindingKind::SkipKeyStored => "skip_key_stored",
            FindingKind::WouldLeak => "would_leak",
            FindingKind::StaleShelvedKeys => "stale_shelved_keys",
            FindingKind::ImageRefMismatch => "image_ref_mismatch",
            FindingKind::UntypedImageProperty => "untyped_image_property",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// How bad.
    pub severity: Severity,
    /// The key involved, if one is.
    pub key: Option<String>,
    /// A sentence for people.
    pub message: String,
}

impl Finding {
    fn new(kind: FindingKind, severity: Severity, key: Option<&str>, message: String) -> Self {
        Self {
            kind,
            severity,
            key: key.map(str::to_owned),
            message,
        }
    }
}

/// Every finding for `system_metadata`: first the instance-wide ones
/// (missing or mismatched base image ref), then, entry by entry in order,
/// key and value length, non-integer `min_ram`/`min_disk`, skip keys, stale
/// shelved keys and keys that would leak into snapshots (`config` decides
/// which properties snapshots drop anyway).
///
/// ```
/// use nova_sysmeta::audit::{findings, FindingKind, InstanceFacts};
/// use nova_sysmeta::{NovaConfig, SystemMetadata};
///
/// // Rebuilt before the fix: the base image ref is gone.
/// let sm: SystemMetadata = [("image_os_type", "linux"), ("password_0", "c2VjcmV0")].into_iter().collect();
/// let found = findings(&sm, &InstanceFacts::new(), &NovaConfig::default());
/// let kinds: Vec<_> = found.iter().map(|f| f.kind).collect();
/// assert_eq!(kinds, [FindingKind::MissingBaseImageRef, FindingKind::WouldLeak]);
///
/// // With the releases the cloud ran, the finding says why.
/// let facts = InstanceFacts::new().with_release_history(["16.1.8".parse()?, "21.2.4".parse()?]);
/// let found = findings(&sm, &facts, &NovaConfig::default());
/// assert!(found[0].message.contains("lost by a rebuild before 21.2.1"), "{}", found[0].message);
/// assert!(found[0].message.contains("Nova 16.1.8"));
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
#[must_use]
pub fn findings(
    system_metadata: &SystemMetadata,
    facts: &InstanceFacts,
    config: &NovaConfig,
) -> Vec<Finding> {
    use FindingKind::*;
    let mut findings = Vec::new();
    match (
        system_metadata.get(IMAGE_BASE_IMAGE_REF),
        facts.image_ref.as_deref(),
    ) {
        (None, image_ref) => findings.push(Finding::new(
            MissingBaseImageRef,
            Severity::Error,
            Some(IMAGE_BASE_IMAGE_REF),
            {
                let cause = facts.missing_base_image_ref_cause();
                match image_ref {
                    Some(r) => format!("no image_base_image_ref ({cause}); Nova's healing would set {r:?}"),
                    None => format!("no image_base_image_ref ({cause}); the instance's image_ref is unknown"),
                }
            },
        )),
        (Some(base), Some(image_ref)) if base != image_ref => findings.push(Finding::new(
            ImageRefMismatch,
            Severity::Info,
            Some(IMAGE_BASE_IMAGE_REF),
            format!(
                "image_base_image_ref is {base:?} but image_ref is {image_ref:?} \
                 (expected after booting from a snapshot)"
            ),
        )),
        _ => {}
    }
    untyped_findings(system_metadata, config, &mut findings);
    let shelved = facts
        .vm_state
        .as_deref()
        .map(|s| s == "shelved" || s == "shelved_offloaded");

    let configured = NameSet::new(&config.non_inheritable_image_properties);
    for (key, value) in system_metadata.iter() {
        if let Some(chars) = chars_over_column(key) {
            findings.push(Finding::new(
                KeyTooLong,
                Severity::Error,
                Some(key),
                format!("key is {chars} characters; the column holds 255"),
            ));
        }
        let name = strip_image_prefix(key).unwrap_or(key);
        // A null value (a NULL row) fits every column, and no flow reads it.
        if let Some(value) = value {
            value_findings(key, name, value, &mut findings);
        }
        if is_skip_key(name) {
            findings.push(Finding::new(
                SkipKeyStored,
                Severity::Warning,
                Some(key),
                format!("{name} is never stored by Nova and never read back"),
            ));
        }
        if shelved == Some(false) && SHELVED_KEYS.contains(&key) {
            findings.push(Finding::new(
                StaleShelvedKeys,
                Severity::Warning,
                Some(key),
                "shelved key on an instance that is not shelved".to_owned(),
            ));
        }
        let leaks = value.is_some()
            && !key.starts_with(SM_IMAGE_PROP_PREFIX)
            && !is_skip_key(key)
            && !is_inheritable_key(key)
            && !is_non_inheritable(key, &configured, config.release);
        if leaks {
            let severity = if key.starts_with("password_") {
                Severity::Warning
            } else {
                Severity::Info
            };
            findings.push(Finding::new(
                WouldLeak,
                severity,
                Some(key),
                "copied into the properties of every snapshot (the `hardened` profile withholds it)"
                    .to_owned(),
            ));
        }
    }
    findings
}

/// The properties `config`'s release cannot type, each alone (the NUMA
/// cells of one kind together, as Nova reads them), when the whole image
/// fails. `min_ram`/`min_disk` are [`FindingKind::NonIntegerInheritable`].
fn untyped_findings(system_metadata: &SystemMetadata, config: &NovaConfig, findings: &mut Vec<Finding>) {
    use crate::nova::objects::{PropsRequest, image_meta_props};
    let request = crate::nova::objects::MetaRequest::new(system_metadata).config(config);
    if !matches!(
        crate::nova::objects::image_meta_from_system_metadata(&request),
        Err(Error::InvalidValue { .. })
    ) {
        return;
    }
    let image = crate::nova::convert::image_from_system_metadata(system_metadata);
    let mut groups: Vec<Vec<(&str, PropertyValue<'_>)>> = Vec::new();
    let mut numa: [Vec<(&str, PropertyValue<'_>)>; 2] = [Vec::new(), Vec::new()];
    for (name, value) in image.properties.iter() {
        if name.starts_with("hw_numa_cpus.") {
            numa[0].push((name, value));
        } else if name.starts_with("hw_numa_mem.") {
            numa[1].push((name, value));
        } else {
            groups.push(vec![(name, value)]);
        }
    }
    groups.extend(numa.into_iter().filter(|g| !g.is_empty()));
    for group in groups {
        let mut props = Properties::with_capacity(group.len());
        for (name, value) in &group {
            props.insert_view(name, *value);
        }
        let Err(Error::InvalidValue { key, reason }) =
            image_meta_props(&PropsRequest::new(&props).config(config))
        else {
            continue;
        };
        // The system-metadata key the property came from.
        let name = group
            .iter()
            .map(|(n, _)| *n)
            .find(|n| *n == key)
            .unwrap_or(group[0].0);
        let prefixed = format!("{SM_IMAGE_PROP_PREFIX}{name}");
        let sm_key = if system_metadata.contains_key(&prefixed) {
            prefixed
        } else {
            name.to_owned()
        };
        findings.push(Finding::new(
            FindingKind::UntypedImageProperty,
            Severity::Error,
            Some(&sm_key),
            format!(
                "Nova {} cannot type {key}: {reason}; ImageMeta.from_instance fails, so the instance cannot be \
                 hard-rebooted, migrated, resized, rebuilt or unshelved (set a value the release accepts with \
                 image-property set)",
                config.release
            ),
        ));
    }
}

/// Whether Nova cuts `key`'s value to 255 bytes when it writes it: an
/// image property (`image_<name>`, from `get_system_metadata_from_image`'s
/// `safe_truncate`). Every other value, the inheritable attributes
/// included, Nova stores as it is.
fn nova_cuts(key: &str) -> bool {
    strip_image_prefix(key).is_some_and(|name| !is_inheritable_key(name))
}

/// The findings about an entry's (non-null) value.
fn value_findings(key: &str, name: &str, value: &str, findings: &mut Vec<Finding>) {
    use FindingKind::*;
    if let Some(chars) = chars_over_column(value) {
        findings.push(Finding::new(
            ValueTooLong,
            Severity::Error,
            Some(key),
            format!("value is {chars} characters; the column holds 255"),
        ));
    } else if value.len() > VALUE_BYTES && nova_cuts(key) {
        findings.push(Finding::new(
            ValueTooLong,
            Severity::Warning,
            Some(key),
            format!(
                "value is {} bytes; Nova cuts image property values to 255 bytes",
                value.len()
            ),
        ));
    }
    if matches!(name, "min_ram" | "min_disk") && int(value).is_none() {
        findings.push(Finding::new(
            NonIntegerInheritable,
            Severity::Error,
            Some(key),
            format!("{name} is {value:?}, not an integer; Nova's ImageMeta refuses it"),
        ));
    }
}

/// One change a repair made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The key changed.
    pub key: String,
    /// Its value before: `None` when the key was absent, and also when it
    /// was present with a null value (a NULL row). A change that inserts
    /// has `old: None` and the key absent from the map it was made from.
    pub old: Option<String>,
    /// Its value after (`None`: removed).
    pub new: Option<String>,
    /// The finding this change fixes.
    pub fixes: FindingKind,
}

/// A repaired map and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    /// The repaired system metadata.
    pub system_metadata: SystemMetadata,
    /// The changes: removals, then cuts, then the base image ref, each in
    /// the order of the findings they fix.
    pub changes: Vec<Change>,
}

/// Repairs what [`findings`] finds, where a fix is known:
///
/// | finding | repair |
/// |---|---|
/// | `missing_base_image_ref` | `image_base_image_ref = image_ref`, as Nova's resize and shelve heal it (only when `image_ref` is known and fits) |
/// | `value_too_long` | an image property cut to 255 bytes with [`safe_truncate`], as Nova cuts property values; any other value is left as it is (Nova keeps it; only one over the 255-character column is reported) |
/// | `key_too_long`, `non_integer_inheritable`, `skip_key_stored`, `stale_shelved_keys` | the key removed (Nova cannot store it, fails on it, never reads it, or unshelve would remove it) |
/// | `would_leak`, `image_ref_mismatch` | none: Nova's normal behaviour; use the hardened snapshot profile |
///
/// Removals come first, then cuts, then the base image ref. A repair never
/// touches a key that no finding names, and is idempotent: repairing a
/// repaired map changes nothing.
///
/// `config` only changes which keys are reported as leaking, which repair
/// leaves alone.
///
/// ```
/// use nova_sysmeta::audit::{repair, FindingKind, InstanceFacts};
/// use nova_sysmeta::{NovaConfig, SystemMetadata};
///
/// let damaged: SystemMetadata = [("image_os_type", "linux")].into_iter().collect();
/// let facts = InstanceFacts::new().with_image_ref("img-b");
/// let config = NovaConfig::default();
/// let fixed = repair(&damaged, &facts, &config);
/// assert_eq!(fixed.system_metadata.get("image_base_image_ref"), Some("img-b"));
/// assert_eq!(fixed.changes[0].fixes, FindingKind::MissingBaseImageRef);
/// assert!(repair(&fixed.system_metadata, &facts, &config).changes.is_empty());
/// ```
#[must_use]
pub fn repair(system_metadata: &SystemMetadata, facts: &InstanceFacts, config: &NovaConfig) -> Repair {
    use FindingKind::*;
    let findings = findings(system_metadata, facts, config);
    let mut out = system_metadata.clone();
    let mut changes = Vec::new();
    // Removals first, so that a key about to go is not cut first; one
    // order-keeping pass over the map however many keys go.
    let mut doomed = std::collections::HashSet::new();
    for finding in &findings {
        let (KeyTooLong | NonIntegerInheritable | SkipKeyStored | StaleShelvedKeys) = finding.kind else {
            continue;
        };
        let Some(key) = finding.key.as_deref() else {
            continue;
        };
        if let Some(old) = out.get_nullable(key).filter(|_| doomed.insert(key)) {
            changes.push(change(key, old, None, finding.kind));
        }
    }
    out.retain(|key, _| !doomed.contains(key));
    for finding in &findings {
        let Some(key) = finding.key.as_deref() else {
            continue;
        };
        match finding.kind {
            ValueTooLong => {
                if let Some(old) = out.get(key).filter(|_| nova_cuts(key)) {
                    let new = safe_truncate(old, VALUE_BYTES).to_owned();
                    changes.push(change(key, Some(old), Some(&new), finding.kind));
                    out.insert(key, new);
                }
            }
            MissingBaseImageRef => {
                if let Some(image_ref) = facts.image_ref.as_deref().filter(|r| r.len() <= VALUE_BYTES) {
                    out.insert(key, image_ref);
                    changes.push(change(key, None, Some(image_ref), finding.kind));
                }
            }
            _ => {}
        }
    }
    Repair {
        system_metadata: out,
        changes,
    }
}

fn change(key: &str, old: Option<&str>, new: Option<&str>, fixes: FindingKind) -> Change {
    Change {
        key: key.to_owned(),
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
        fixes,
    }
}
