//! Repair planning for snapshots already in Glance (beyond Nova): which
//! snapshot and backup images lack the `base_image_ref` that Nova's fixed
//! rebuild (bug 1893618) would have given them, what it would have been,
//! and what can not be known.
//!
//! The planning is pure: the caller reads Glance and Nova's database, this
//! module decides from those facts alone, never guessing.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::model::timestamp::Timestamp;
use crate::nova::glance::GLANCE_BASE_PROPERTIES;
use crate::nova::keys::{BASE_IMAGE_REF, NON_INHERITABLE_IMAGE_NAMESPACES, NON_INHERITABLE_IMAGE_PROPERTIES};
use crate::python::value::Value;
use crate::storage::properties::{Properties, PropertyValue};

/// An image as Glance's v2 API lists it, reduced to what the planning
/// reads: its id, owner, creation time and custom properties (where
/// `image_type`, `instance_uuid` and `base_image_ref` live).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// The image's id.
    pub id: String,
    /// The project that owns it (Glance's `owner`).
    #[serde(default)]
    pub owner: Option<String>,
    /// When Glance created it.
    pub created_at: Timestamp,
    /// Its custom properties (every attribute of the Glance body that is
    /// not one of Glance's base properties).
    #[serde(default)]
    pub properties: Properties,
}

impl Image {
    /// An image without properties.
    #[must_use]
    pub fn new(id: impl Into<String>, created_at: Timestamp) -> Self {
        Image {
            id: id.into(),
            owner: None,
            created_at,
            properties: Properties::new(),
        }
    }

    /// The same image owned by `owner`.
    #[must_use]
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// The same image with `properties`.
    #[must_use]
    pub fn with_properties(mut self, properties: Properties) -> Self {
        self.properties = properties;
        self
    }

    /// The image of a Glance v2 body (`GET /v2/images/{id}`, or an item of
    /// `GET /v2/images`): `id`, `owner` and `created_at` from the body,
    /// every attribute that is not one of Glance's base properties as a
    /// property.
    ///
    /// # Errors
    /// [`Error::Missing`] without a string `id` or `created_at`,
    /// [`Error::InvalidTimestamp`] for a `created_at` that is not ISO 8601.
    ///
    /// ```
    /// use nova_sysmeta::image_repair::Image;
    /// use nova_sysmeta::Value;
    ///
    /// let body = Value::from_json(r#"{"id": "s-1", "owner": "p1", "status": "active",
    ///     "created_at": "2026-01-02T03:04:05Z", "image_type": "snapshot", "instance_uuid": "i-1"}"#)?;
    /// let image = Image::from_glance(&body)?;
    /// assert_eq!(image.owner.as_deref(), Some("p1"));
    /// assert_eq!(image.properties.get_str("image_type"), Some("snapshot"));
    /// assert!(!image.properties.contains_key("status"));
    /// # Ok::<(), nova_sysmeta::Error>(())
    /// ```
    pub fn from_glance(body: &Value) -> Result<Self> {
        let Value::Dict(body) = body else {
            return Err(Error::invalid("image", "a Glance image body is a JSON object"));
        };
        let text = |key: &str| body.get(key).and_then(Value::as_str);
        let id = text("id").ok_or(Error::Missing {
            field: "id",
            reason: "every Glance image has one",
        })?;
        let created_at = text("created_at")
            .ok_or(Error::Missing {
                field: "created_at",
                reason: "the planning compares it with the instance's rebuilds",
            })?
            .parse()?;
        let mut properties = Properties::with_capacity(body.len());
        for (key, value) in body {
            if !GLANCE_BASE_PROPERTIES.contains(&key.as_str()) {
                properties.insert(key, value.clone())?;
            }
        }
        Ok(Image {
            id: id.to_owned(),
            owner: text("owner").map(str::to_owned),
            created_at,
            properties,
        })
    }

    /// `image_type`, when it is `snapshot` or `backup` and `instance_uuid`
    /// is a non-empty string: the instance the image was taken of.
    fn taken_of(&self) -> Option<&str> {
        match self.properties.get_str("image_type") {
            Some("snapshot" | "backup") => self.properties.get_str("instance_uuid").filter(|u| !u.is_empty()),
            _ => None,
        }
    }
}

/// What Nova's cell database says of an instance: its current
/// `image_ref` and when it was rebuilt (`instance_actions` rows with
/// `action = 'rebuild'`, shadow tables included for archived instances).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InstanceHistory {
    /// The instance's uuid.
    pub uuid: String,
    /// Its `image_ref` now (empty or `None` for a volume-backed instance).
    #[serde(default)]
    pub image_ref: Option<String>,
    /// The `start_time` of each rebuild action, in any order.
    #[serde(default)]
    pub rebuilds: Vec<Timestamp>,
}

impl InstanceHistory {
    /// An instance never rebuilt.
    #[must_use]
    pub fn new(uuid: impl Into<String>, image_ref: Option<&str>) -> Self {
        InstanceHistory {
            uuid: uuid.into(),
            image_ref: image_ref.map(str::to_owned),
            rebuilds: Vec::new(),
        }
    }

    /// The same instance, rebuilt at `at` too.
    #[must_use]
    pub fn rebuilt_at(mut self, at: Timestamp) -> Self {
        self.rebuilds.push(at);
        self
    }
}

/// What to plan from: the images (every image the caller can list, so
/// that candidates and chains can be found), the instances the snapshots
/// were taken of, and the bases the operator names for images the facts
/// cannot decide.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Request<'a> {
    images: &'a [Image],
    instances: &'a [InstanceHistory],
    bases: Vec<(&'a str, &'a str)>,
}

impl<'a> Request<'a> {
    /// Planning for `images` with the history of `instances`.
    #[must_use]
    pub fn new(images: &'a [Image], instances: &'a [InstanceHistory]) -> Self {
        Request {
            images,
            instances,
            bases: Vec::new(),
        }
    }

    /// The operator names `base` as the `base_image_ref` of `image_id`
    /// (the tool's `--set IMAGE=BASE`), for an image the facts leave
    /// undecidable or decide otherwise.
    #[must_use]
    pub fn base(mut self, image_id: &'a str, base: &'a str) -> Self {
        self.bases.push((image_id, base));
        self
    }
}

/// Why an image is planned as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Not a snapshot or backup of an instance (`image_type`,
    /// `instance_uuid`): nothing to plan.
    NotASnapshot,
    /// It has a `base_image_ref` already, which is never overwritten.
    HasBaseImageRef,
    /// The instance was rebuilt before the snapshot and not since: the
    /// rebuild's image is the instance's current `image_ref`.
    RebuiltBeforeOnly,
    /// The instance was rebuilt again at or after the snapshot's creation:
    /// the image it was rebuilt with before is recorded nowhere.
    RebuiltSince,
    /// The instance was never rebuilt before the snapshot: the property is
    /// missing for another reason than bug 1893618.
    NeverRebuiltBefore,
    /// The instance is in none of the databases given.
    UnknownInstance,
    /// The instance has no `image_ref` (volume-backed, or it names the
    /// snapshot itself).
    NoImageRef,
    /// The operator named the base.
    NamedByOperator,
    /// Its `base_image_ref` names a snapshot planned here or left
    /// undecidable: it was taken of an instance booted from a damaged
    /// snapshot (Nova's `setdefault` stored that snapshot as the base).
    /// Reported, never written.
    NamesDamagedSnapshot,
}

/// What the plan does with one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Decision {
    /// Nothing to write.
    Keep,
    /// Add `base_image_ref` with this value.
    Set {
        /// The value Nova's fixed rebuild would have written.
        base_image_ref: String,
    },
    /// The facts do not decide it; `candidates` are the listed images,
    /// created before it, whose properties are all among those the
    /// snapshot inherited.
    Undecidable {
        /// Image ids, in the order listed.
        candidates: Vec<String>,
    },
    /// It names `names` as its base, a snapshot that is damaged itself;
    /// `origin` is that snapshot's planned base, when decided.
    Propagated {
        /// The damaged snapshot this image names.
        names: String,
        /// What the damaged snapshot's base is planned to be.
        origin: Option<String>,
    },
}

/// The plan for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verdict {
    /// The image.
    pub image_id: String,
    /// The instance it was taken of, when it is a snapshot or backup.
    pub instance_uuid: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub decision: Decision,
    /// Why.
    pub reason: Reason,
}

/// An instance booted from a snapshot that lacks `base_image_ref`: its
/// `image_base_image_ref` names that snapshot, so its own snapshots will
/// name it as their base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BootedFromDamaged {
    /// The instance.
    pub instance_uuid: String,
    /// The damaged snapshot it was booted from (its `image_ref`).
    pub image_ref: String,
    /// That snapshot's planned base, when decided.
    pub origin: Option<String>,
}

/// The whole plan: one verdict per image given, in order, and the
/// instances booted from damaged snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// One per image, in the order given.
    pub images: Vec<Verdict>,
    /// Instances whose `image_ref` is a damaged snapshot.
    pub instances: Vec<BootedFromDamaged>,
}

impl Plan {
    /// The images to write, with the value to add.
    pub fn writes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.images.iter().filter_map(|v| match &v.decision {
            Decision::Set { base_image_ref } => Some((v.image_id.as_str(), base_image_ref.as_str())),
            _ => None,
        })
    }

    /// How many verdicts have each reason.
    #[must_use]
    pub fn count(&self, reason: Reason) -> usize {
        self.images.iter().filter(|v| v.reason == reason).count()
    }
}

/// Plans the repair of `request`'s images.
///
/// An image is planned only when it is a `snapshot` or `backup` of a
/// known instance, lacks `base_image_ref` (present in any form counts:
/// nothing is overwritten), and one of these holds:
/// - the operator named its base ([`Request::base`]);
/// - the instance was rebuilt before the image was created and not at or
///   after it: the base is the instance's current `image_ref`.
///
/// Otherwise it is [`Decision::Undecidable`] (rebuilt since, unknown
/// instance, no `image_ref`) with the candidates a person can choose from,
/// or [`Decision::Keep`]. Images whose `base_image_ref` names a snapshot
/// planned or undecidable here are reported as [`Decision::Propagated`],
/// and instances booted from one in [`Plan::instances`].
///
/// # Errors
/// [`Error::InvalidBase`] when a named base is for an image not given, for
/// one that has `base_image_ref`, or is empty, or is the image itself.
///
/// ```
/// use nova_sysmeta::image_repair::{self, Decision, Image, InstanceHistory, Reason, Request};
/// use nova_sysmeta::Properties;
///
/// let at = |t: &str| t.parse().unwrap();
/// let props = |i: &str| Properties::from_iter([("image_type", "snapshot"), ("instance_uuid", i)]);
/// let images = [
///     Image::new("snap-1", at("2026-03-01T00:00:00Z")).with_properties(props("vm-1")),
///     Image::new("snap-2", at("2026-03-01T00:00:00Z")).with_properties(props("vm-2")),
/// ];
/// let instances = [
///     // Rebuilt with debian-12 in February: snap-1 was taken after it.
///     InstanceHistory::new("vm-1", Some("debian-12")).rebuilt_at(at("2026-02-01T00:00:00Z")),
///     // Rebuilt in February and again in April: the February image is lost.
///     InstanceHistory::new("vm-2", Some("fedora-40"))
///         .rebuilt_at(at("2026-02-01T00:00:00Z"))
///         .rebuilt_at(at("2026-04-01T00:00:00Z")),
/// ];
/// let plan = image_repair::plan(&Request::new(&images, &instances))?;
/// assert_eq!(plan.writes().collect::<Vec<_>>(), [("snap-1", "debian-12")]);
/// assert_eq!(plan.images[1].reason, Reason::RebuiltSince);
///
/// // The operator knows: snap-2 came from debian-11.
/// let plan = image_repair::plan(&Request::new(&images, &instances).base("snap-2", "debian-11"))?;
/// assert_eq!(plan.images[1].decision, Decision::Set { base_image_ref: "debian-11".into() });
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
pub fn plan(request: &Request<'_>) -> Result<Plan> {
    let mut by_id: HashMap<&str, &Image> = HashMap::with_capacity(request.images.len());
    for image in request.images {
        by_id.entry(image.id.as_str()).or_insert(image);
    }
    let mut named: HashMap<&str, &str> = HashMap::with_capacity(request.bases.len());
    for &(image_id, base) in &request.bases {
        let invalid = |reason| Error::InvalidBase {
            image_id: image_id.to_owned(),
            reason,
        };
        let image = by_id
            .get(image_id)
            .ok_or(invalid("no such image among those listed"))?;
        if image.properties.contains_key(BASE_IMAGE_REF) {
            return Err(invalid("it has a base_image_ref, which is never overwritten"));
        }
        if base.is_empty() || base == image_id {
            return Err(invalid("the base must be another image's id"));
        }
        named.insert(image_id, base);
    }
    let mut instances: HashMap<&str, &InstanceHistory> = HashMap::with_capacity(request.instances.len());
    for instance in request.instances {
        instances.entry(instance.uuid.as_str()).or_insert(instance);
    }

    let mut plan = Plan::default();
    for image in request.images {
        let instance_uuid = image.taken_of();
        let (decision, reason) = decide(image, instance_uuid, &named, &instances, request.images);
        plan.images.push(Verdict {
            image_id: image.id.clone(),
            instance_uuid: instance_uuid.map(str::to_owned),
            decision,
            reason,
        });
    }
    propagate(&mut plan, request);
    Ok(plan)
}

/// The decision for one image, before propagation.
fn decide(
    image: &Image,
    instance_uuid: Option<&str>,
    named: &HashMap<&str, &str>,
    instances: &HashMap<&str, &InstanceHistory>,
    images: &[Image],
) -> (Decision, Reason) {
    let Some(instance_uuid) = instance_uuid else {
        return (Decision::Keep, Reason::NotASnapshot);
    };
    if image.properties.contains_key(BASE_IMAGE_REF) {
        return (Decision::Keep, Reason::HasBaseImageRef);
    }
    if let Some(base) = named.get(image.id.as_str()) {
        let decision = Decision::Set {
            base_image_ref: (*base).to_owned(),
        };
        return (decision, Reason::NamedByOperator);
    }
    let undecidable = |reason| {
        let decision = Decision::Undecidable {
            candidates: candidates(image, images),
        };
        (decision, reason)
    };
    let Some(instance) = instances.get(instance_uuid) else {
        return undecidable(Reason::UnknownInstance);
    };
    let image_ref = instance
        .image_ref
        .as_deref()
        .filter(|r| !r.is_empty() && *r != image.id);
    let Some(image_ref) = image_ref else {
        return undecidable(Reason::NoImageRef);
    };
    if instance.rebuilds.iter().any(|r| *r >= image.created_at) {
        return undecidable(Reason::RebuiltSince);
    }
    if instance.rebuilds.is_empty() {
        return (Decision::Keep, Reason::NeverRebuiltBefore);
    }
    let decision = Decision::Set {
        base_image_ref: image_ref.to_owned(),
    };
    (decision, Reason::RebuiltBeforeOnly)
}

/// Whether a snapshot inherits `key` from the image its instance was
/// built from: Nova's snapshot drops the non-inheritable properties and
/// namespaces, and sets `image_type`, `instance_uuid`, `base_image_ref`,
/// `owner_*`, `user_id` itself.
fn inherits(key: &str) -> bool {
    !(NON_INHERITABLE_IMAGE_PROPERTIES.contains(&key)
        || NON_INHERITABLE_IMAGE_NAMESPACES
            .iter()
            .any(|ns| key.starts_with(ns))
        || matches!(
            key,
            "image_type" | "instance_uuid" | "base_image_ref" | "image_location" | "image_state" | "user_id"
        )
        || key.starts_with("owner_"))
}

/// The images created before `image` (a rebuild's image existed before the
/// rebuild), not snapshots of the same instance and not `image` itself,
/// whose inheritable properties all appear in `image` with the same value.
fn candidates(image: &Image, images: &[Image]) -> Vec<String> {
    let own_instance = image.taken_of();
    let mut seen = HashSet::new();
    images
        .iter()
        .filter(|c| c.id != image.id && c.created_at < image.created_at)
        .filter(|c| own_instance.is_none() || c.taken_of() != own_instance)
        .filter(|c| {
            c.properties
                .iter()
                .filter(|(k, _)| inherits(k))
                .all(|(k, v)| image.properties.get(k).is_some_and(|mine| same(mine, v)))
        })
        .filter(|c| seen.insert(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect()
}

/// Equal as Glance would store them: the snapshot holds the `str()` Nova
/// stored of each inherited value.
fn same(mine: PropertyValue<'_>, theirs: PropertyValue<'_>) -> bool {
    mine == theirs
        || match (mine.as_str(), theirs.as_str()) {
            (Some(m), None) => crate::python::to_str(&theirs.to_value()) == m,
            _ => false,
        }
}

/// Marks the images whose `base_image_ref` names a damaged snapshot, and
/// lists the instances booted from one.
fn propagate(plan: &mut Plan, request: &Request<'_>) {
    // Damaged snapshot id -> its planned base, if decided.
    let damaged: HashMap<String, Option<String>> = plan
        .images
        .iter()
        .filter_map(|v| match &v.decision {
            Decision::Set { base_image_ref } => Some((v.image_id.clone(), Some(base_image_ref.clone()))),
            Decision::Undecidable { .. } => Some((v.image_id.clone(), None)),
            _ => None,
        })
        .collect();
    if damaged.is_empty() {
        return;
    }
    for (verdict, image) in plan.images.iter_mut().zip(request.images) {
        if verdict.reason != Reason::HasBaseImageRef {
            continue;
        }
        if let Some(PropertyValue::Str(names)) = image.properties.get(BASE_IMAGE_REF)
            && let Some(origin) = damaged.get(names)
        {
            verdict.decision = Decision::Propagated {
                names: names.to_owned(),
                origin: origin.clone(),
            };
            verdict.reason = Reason::NamesDamagedSnapshot;
        }
    }
    for instance in request.instances {
        if let Some(image_ref) = instance.image_ref.as_deref()
            && let Some(origin) = damaged.get(image_ref)
        {
            plan.instances.push(BootedFromDamaged {
                instance_uuid: instance.uuid.clone(),
                image_ref: image_ref.to_owned(),
                origin: origin.clone(),
            });
        }
    }
}
