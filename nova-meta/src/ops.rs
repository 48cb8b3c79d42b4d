//! One function per op of the JSON Lines contract.

use nova_sysmeta::audit::{Finding, InstanceFacts};
use nova_sysmeta::convert::Volume;
use nova_sysmeta::lineage::ImageRecord;
use nova_sysmeta::profile::SnapshotProfile;
use nova_sysmeta::python::value::Dict;
use nova_sysmeta::rebuild::BaseImageRefPolicy;
use nova_sysmeta::rows::Row;
use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, Properties, Release, RequestContext, SystemMetadata,
    audit, backup, convert, create, glance, lineage, objects, rebuild, resize, rows, shelve, snapshot,
    upload,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::request::{Failure, Request};
pub use crate::table::OPS;

/// Appends the result line for one request line to `out`: `{"ok": ...}`
/// or `{"error": ...}`, as JSON text (without the newline). The result is
/// written straight into `out`; an error drops what was written of it.
pub fn write_answer(line: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let mut req = match Request::parse(line) {
        Ok(req) => req,
        Err(failure) => {
            out.extend_from_slice(failure.to_line(None).as_bytes());
            return;
        }
    };
    let id = req.id();
    if let Some(id) = id {
        out.extend_from_slice(b"{\"id\":");
        out.extend_from_slice(id.get().as_bytes());
        out.extend_from_slice(b",\"ok\":");
    } else {
        out.extend_from_slice(b"{\"ok\":");
    }
    match dispatch(&mut req, out).and_then(|()| req.finish()) {
        Ok(()) => out.push(b'}'),
        Err(failure) => {
            out.truncate(start);
            out.extend_from_slice(failure.to_line(id).as_bytes());
        }
    }
}

/// [`write_answer`] as a string of its own.
pub fn answer_line(line: &[u8]) -> String {
    let mut out = Vec::new();
    write_answer(line, &mut out);
    // serde_json writes UTF-8 only.
    String::from_utf8_lossy(&out).into_owned()
}

/// [`answer_line`] read back exactly, as the crate's own
/// [`nova_sysmeta::Value`]: an answer may hold what serde_json's `Value`
/// cannot (an integer of thousands of digits, `Infinity`), so reading it
/// with serde_json could fail on a correct answer.
///
/// # Errors
/// Only if `nova_meta` wrote a line that is not JSON, which is a bug.
///
/// ```
/// let big = "9".repeat(400);
/// let line = format!(r#"{{"op": "to_glance", "image": {{"owner": {big}}}}}"#);
/// let answer = nova_meta::ops::answer(line.as_bytes())?;
/// assert!(answer.python_str().contains(&big), "{}", answer.python_str());
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
pub fn answer(line: &[u8]) -> Result<nova_sysmeta::Value, nova_sysmeta::Error> {
    nova_sysmeta::Value::from_json(&answer_line(line))
}

/// Runs the op of `req` and appends its `ok` result to `out`; on an
/// error, `out` may hold part of a result.
pub fn dispatch(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let op: String = match req.optional("op") {
        Ok(Some(op)) => op,
        Ok(None) => return Err(Failure::new("missing_field", "field `op` is required")),
        Err(_) => return Err(Failure::new("invalid_value", "field `op` must be a string")),
    };
    let Some(entry) = crate::table::op(&op) else {
        return Err(Failure::new("unknown_op", format!("unknown op `{op}`")));
    };
    req.set_op(entry);
    // The Nova release whose behaviour to compute (34.0.0 by default).
    let release: Release = req.or_default("release")?;
    match op.as_str() {
        "system_metadata_from_image" => system_metadata_from_image_op(req, out),
        "image_from_system_metadata" => image_from_system_metadata_op(req, out),
        "populate_for_create" => populate_for_create_op(req, out),
        "reset_image_metadata" => reset_image_metadata_op(req, out, release),
        "initialize_snapshot_metadata" => snapshot_op(req, out, release, None),
        "create_image" => {
            let image_type: ImageType = req.field("image_type")?;
            snapshot_op(req, out, release, Some(image_type))
        }
        "backup" => backup_op(req, out, release),
        "rotate_backups" => rotate_backups_op(req, out),
        "shelve" => shelve_op(req, out, release),
        "record_shelved" => record_shelved_op(req, out),
        "remove_shelved_keys" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            emit(out, shelve::remove_keys(&sm)?)
        }
        "ensure_base_image_ref" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let image_ref: String = req.field("image_ref")?;
            let config = NovaConfig::for_release(release);
            emit(
                out,
                resize::ensure_base_image_ref(&resize::Request::new(&sm, &image_ref).config(&config))?,
            )
        }
        "snapshot_volume_backed" => snapshot_volume_backed_op(req, out, release),
        "image_meta_props" => {
            let properties: Properties = req.field("properties")?;
            let config = NovaConfig::for_release(release);
            emit(
                out,
                objects::image_meta_props(&objects::PropsRequest::new(&properties).config(&config))?,
            )
        }
        "image_meta_from_system_metadata" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let config = NovaConfig::for_release(release);
            emit(
                out,
                objects::image_meta_from_system_metadata(&objects::MetaRequest::new(&sm).config(&config))?,
            )
        }
        "finalize_snapshot_upload" => finalize_snapshot_upload_op(req, out, release),
        "to_glance" => {
            let image: ImageMeta = req.field("image")?;
            emit(out, glance::to_glance(&image)?)
        }
        "from_glance" => {
            let body: Dict = req.field("image")?;
            emit(out, glance::from_glance(&body)?)
        }
        "from_rows" => {
            let given: Vec<Row> = req.field("rows")?;
            let include_deleted: bool = req.or_default("include_deleted")?;
            emit(out, rows::to_system_metadata(&given, include_deleted))
        }
        "image_from_volume" => {
            let volume: Volume = req.field("volume")?;
            emit(out, convert::image_from_volume(&volume)?)
        }
        "audit" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let facts: InstanceFacts = req.or_default("instance")?;
            emit(
                out,
                Findings {
                    findings: audit::findings(&sm, &facts, &NovaConfig::for_release(release)),
                },
            )
        }
        "repair" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let facts: InstanceFacts = req.or_default("instance")?;
            emit(out, audit::repair(&sm, &facts, &NovaConfig::for_release(release)))
        }
        "lineage" => {
            let instance: LineageInstance = req.field("instance")?;
            let image_ref = instance.image_ref.unwrap_or_default();
            let images: Vec<ImageRecord> = req.field("images")?;
            emit(out, lineage::trace(&image_ref, &images))
        }
        other => Err(Failure::new(
            "internal",
            format!("op `{other}` is in the table but not dispatched"),
        )),
    }
}

/// `lineage`'s instance: only these two fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineageInstance {
    #[serde(default)]
    #[allow(dead_code)]
    uuid: Option<String>,
    #[serde(default)]
    image_ref: Option<String>,
}

#[derive(Serialize)]
struct Findings {
    findings: Vec<Finding>,
}

/// A result of the hardened profile: the image and what it left out.
#[derive(Serialize)]
struct Profiled<'a, T: Serialize> {
    image: T,
    withheld: &'a [String],
}

/// Appends an op's result to `out`, as JSON text.
fn emit(out: &mut Vec<u8>, result: impl Serialize) -> Result<(), Failure> {
    serde_json::to_writer(out, &result).map_err(|e| Failure::new("internal", e.to_string()))
}

fn system_metadata_from_image_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let image: ImageMeta = req.field("image")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    emit(out, convert::system_metadata_from_image(&image, flavor.as_ref())?)
}

fn image_from_system_metadata_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    emit(out, convert::image_from_system_metadata(&sm))
}

fn populate_for_create_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let image: ImageMeta = req.field("image")?;
    let image_ref: String = req.field("image_ref")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    let context: RequestContext = req.field("context")?;
    let existing: SystemMetadata = req.or_default("system_metadata")?;
    let mut request = create::Request::new(&image, &image_ref, &context).existing(&existing);
    if let Some(flavor) = &flavor {
        request = request.flavor(flavor);
    }
    emit(out, create::populate(&request)?)
}

fn reset_image_metadata_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let image: ImageMeta = req.field("image")?;
    // Nova stores the image id it was given (a null too), whatever the
    // image's own `id` says.
    let image_id: Option<String> = req.nullable("image_id")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    let policy: BaseImageRefPolicy = req.or_default("base_image_ref_policy")?;
    let config = NovaConfig::for_release(release);
    let mut request = rebuild::Request::new(&sm, &image, image_id.as_deref())
        .policy(policy)
        .config(&config);
    if let Some(flavor) = &flavor {
        request = request.flavor(flavor);
    }
    let rebuilt = rebuild::reset_image_metadata(&request)?;
    // Nova's compute manager keeps the map as it was (`orig_sys_metadata`).
    #[derive(Serialize)]
    struct Rebuilt<'a> {
        system_metadata: &'a SystemMetadata,
        orig_system_metadata: &'a SystemMetadata,
    }
    emit(
        out,
        Rebuilt {
            system_metadata: &rebuilt,
            orig_system_metadata: &sm,
        },
    )
}

/// The fields every snapshot-making op reads.
struct SnapshotFields {
    sm: SystemMetadata,
    instance: Instance,
    context: RequestContext,
    name: String,
    extra: Properties,
    config: NovaConfig,
}

impl SnapshotFields {
    fn read(req: &mut Request, release: Release) -> Result<Self, Failure> {
        Ok(Self {
            sm: req.field("system_metadata")?,
            instance: req.field("instance")?,
            context: req.field("context")?,
            name: req.field("name")?,
            extra: req.or_default("extra_properties")?,
            config: config(req, release)?,
        })
    }

    /// The snapshot request, reading `sm` (the fields' map, or a view of it).
    fn request<'a>(&'a self, sm: &'a SystemMetadata) -> snapshot::Request<'a> {
        snapshot::Request::new(&self.context, &self.instance, sm, &self.name)
            .extra_properties(&self.extra)
            .config(&self.config)
    }
}

fn snapshot_op(
    req: &mut Request,
    out: &mut Vec<u8>,
    release: Release,
    image_type: Option<ImageType>,
) -> Result<(), Failure> {
    let f = SnapshotFields::read(req, release)?;
    profiled(req, out, &f.sm, |sm| match image_type {
        Some(t) => snapshot::create_image(&f.request(sm), t),
        None => snapshot::initialize_metadata(&f.request(sm)),
    })
}

fn backup_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let f = SnapshotFields::read(req, release)?;
    let backup_type: String = req.field("backup_type")?;
    profiled(req, out, &f.sm, |sm| {
        backup::image_metadata(&f.request(sm), &backup_type)
    })
}

fn snapshot_volume_backed_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let f = SnapshotFields::read(req, release)?;
    let mappings: Vec<nova_sysmeta::Value> = req.or_default("image_mappings")?;
    // The hardened profile too: Nova copies `password_0` into a
    // volume-backed snapshot as into any other.
    profiled(req, out, &f.sm, |sm| {
        snapshot::volume_backed(&f.request(sm), &mappings)
    })
}

/// The release with its defaults; `non_inheritable_image_properties`, when
/// given, replaces the release's default.
fn config(req: &mut Request, release: Release) -> Result<NovaConfig, Failure> {
    let config = NovaConfig::for_release(release);
    Ok(
        match req.optional::<Vec<String>>("non_inheritable_image_properties")? {
            Some(list) => config.with_non_inheritable_image_properties(list),
            None => config,
        },
    )
}

fn rotate_backups_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let instance_uuid: uuid::Uuid = req.field("instance_uuid")?;
    let backup_type: String = req.field("backup_type")?;
    let rotation: usize = req.field("rotation")?;
    let images: Vec<backup::Image> = req.field("images")?;
    emit(
        out,
        json!({"delete": backup::rotate(&instance_uuid, &backup_type, rotation, &images)}),
    )
}

fn shelve_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let instance: Instance = req.field("instance")?;
    let context: RequestContext = req.field("context")?;
    let volume_backed: bool = req.or_default("volume_backed")?;
    let profile = profile(req)?;
    let config = config(req, release)?;
    let request = shelve::Request::new(&context, &instance, &sm)
        .volume_backed(volume_backed)
        .config(&config);
    let mut shelved = shelve::start(&request)?;
    // The hardened profile: the snapshot reads the healed map's view.
    let mut withheld = None;
    if let (SnapshotProfile::Hardened { .. }, Some(image)) = (&profile, &mut shelved.image) {
        let view = profile.apply(&shelved.system_metadata);
        let name = shelve::image_name(&instance);
        let request =
            snapshot::Request::new(&context, &instance, &view.system_metadata, &name).config(&config);
        *image = snapshot::create_image(&request, ImageType::Snapshot)?;
        withheld = Some(view.withheld);
    } else if matches!(profile, SnapshotProfile::Hardened { .. }) {
        withheld = Some(Vec::new());
    }
    #[derive(Serialize)]
    struct Shelved<'a> {
        system_metadata: &'a SystemMetadata,
        image: &'a Option<ImageMeta>,
        #[serde(skip_serializing_if = "Option::is_none")]
        withheld: Option<&'a [String]>,
    }
    emit(
        out,
        Shelved {
            system_metadata: &shelved.system_metadata,
            image: &shelved.image,
            withheld: withheld.as_deref(),
        },
    )
}

fn record_shelved_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let image_id: String = req.field("image_id")?;
    let host: String = req.field("host")?;
    let shelved_at: String = req.field("shelved_at")?;
    let record = shelve::Record::new(&shelved_at, &image_id, &host);
    emit(out, shelve::record(&sm, &record)?)
}

fn finalize_snapshot_upload_op(
    req: &mut Request,
    out: &mut Vec<u8>,
    release: Release,
) -> Result<(), Failure> {
    let image: ImageMeta = req.field("image")?;
    let sm: SystemMetadata = req.field("system_metadata")?;
    let instance: Instance = req.field("instance")?;
    let disk_format: String = req.field("disk_format")?;
    let config = NovaConfig::for_release(release);
    let request = upload::Request::new(&image, &sm, &instance, &disk_format).config(&config);
    emit(out, upload::finalize(&request)?)
}

/// The snapshot profile: `profile` (`nova` or `hardened`) and `allow`.
fn profile(req: &mut Request) -> Result<SnapshotProfile, Failure> {
    let name: Option<String> = req.optional("profile")?;
    let allow: Vec<String> = req.or_default("allow")?;
    match name.as_deref() {
        None | Some("nova") => Ok(SnapshotProfile::Nova),
        Some("hardened") => Ok(SnapshotProfile::Hardened { allow }),
        Some(other) => Err(Failure::new(
            "invalid_value",
            format!("field `profile`: expected nova or hardened, found {other:?}"),
        )),
    }
}

/// Runs a snapshot-making op on the view of `sm` the profile allows; with
/// `hardened`, the result is `{image, withheld}`.
fn profiled(
    req: &mut Request,
    out: &mut Vec<u8>,
    sm: &SystemMetadata,
    make: impl FnOnce(&SystemMetadata) -> nova_sysmeta::Result<ImageMeta>,
) -> Result<(), Failure> {
    let profile = profile(req)?;
    let view = profile.apply(sm);
    let image = make(&view.system_metadata)?;
    match profile {
        SnapshotProfile::Nova => emit(out, image),
        SnapshotProfile::Hardened { .. } => emit(
            out,
            Profiled {
                image,
                withheld: &view.withheld,
            },
        ),
    }
}
