//! `images audit`: the repair plan of the snapshots already in Glance
//! (`nova_sysmeta::image_repair`), from a Glance image listing and the
//! instances' history in every cell: `image_ref` and rebuild times, soft-
//! deleted and archived (`shadow_*`) instances included.
//!
//! The listing is read from a file (`--images`): the body of Glance's
//! `GET /v2/images` (`{"images": [...]}`, pages concatenated as JSON
//! Lines) or a JSON array of image bodies. Nothing is written.

use std::collections::BTreeMap;

use mysql::Value as Sql;
use mysql::prelude::Queryable;
use nova_sysmeta::Value;
use nova_sysmeta::image_repair::{self, Image, InstanceHistory, Plan, Reason, Request, Timestamp};
use serde::Serialize;

use crate::cells::Cell;
use crate::cli::Timeouts;

/// UUIDs per `IN (...)` list.
const CHUNK: usize = 500;

/// The images of a listing file: every image body of every JSON value in
/// it (an array, a `{"images": [...]}` page, or one body), in order.
pub fn read_listing(text: &str) -> Result<Vec<Image>, String> {
    let mut images = Vec::new();
    let mut add = |body: &Value, at: &str| -> Result<(), String> {
        images.push(Image::from_glance(body).map_err(|e| format!("{at}: {e}"))?);
        Ok(())
    };
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = format!("line {}", n + 1);
        let value = Value::from_json(line).map_err(|e| format!("{at}: {e}"))?;
        match &value {
            Value::List(items) => items.iter().try_for_each(|i| add(i, &at))?,
            Value::Dict(page) if page.contains_key("images") => match page.get("images") {
                Some(Value::List(items)) => items.iter().try_for_each(|i| add(i, &at))?,
                _ => return Err(format!("{at}: `images` is not a list")),
            },
            _ => add(&value, &at)?,
        }
    }
    Ok(images)
}

/// A MySQL date-time as ISO 8601 (Nova stores UTC without a zone).
fn timestamp(value: &Sql) -> Option<Timestamp> {
    match value {
        Sql::Date(y, mo, d, h, mi, s, us) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
            .parse()
            .ok(),
        Sql::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

/// The history of the instances named `uuids` in one cell: the live
/// table, then the shadow table, each instance counted once (the live row
/// first); rebuild start times from `instance_actions` and its shadow.
pub fn read_histories(conn: &mut mysql::Conn, uuids: &[String]) -> mysql::Result<Vec<InstanceHistory>> {
    let mut found: BTreeMap<String, InstanceHistory> = BTreeMap::new();
    for chunk in uuids.chunks(CHUNK) {
        let marks = crate::scan::placeholders(chunk.len());
        let params = mysql::Params::Positional(chunk.iter().map(|u| Sql::from(u.as_str())).collect());
        for table in ["instances", "shadow_instances"] {
            let rows: Vec<(String, Option<String>)> = conn.exec(
                format!("SELECT uuid, image_ref FROM {table} WHERE uuid IN ({marks})"),
                params.clone(),
            )?;
            for (uuid, image_ref) in rows {
                found
                    .entry(uuid.clone())
                    .or_insert_with(|| InstanceHistory::new(uuid, image_ref.as_deref()));
            }
        }
        for table in ["instance_actions", "shadow_instance_actions"] {
            let rows: Vec<(String, Sql)> = conn.exec(
                format!(
                    "SELECT instance_uuid, COALESCE(start_time, created_at) FROM {table} \
                     WHERE action = 'rebuild' AND instance_uuid IN ({marks})"
                ),
                params.clone(),
            )?;
            for (uuid, at) in rows {
                if let (Some(h), Some(at)) = (found.get_mut(&uuid), timestamp(&at)) {
                    h.rebuilds.push(at);
                }
            }
        }
    }
    for h in found.values_mut() {
        h.rebuilds.sort();
        h.rebuilds.dedup();
    }
    Ok(found.into_values().collect())
}

/// The histories from every cell (an instance lives in one).
pub fn histories(
    cells: &[Cell],
    timeouts: Timeouts,
    uuids: &[String],
) -> Result<Vec<InstanceHistory>, String> {
    let mut all = Vec::new();
    for cell in cells {
        let mut conn = crate::cells::connect(&cell.connection, timeouts, None)
            .map_err(|e| format!("cell {}: {e}", cell.name))?;
        all.extend(read_histories(&mut conn, uuids).map_err(|e| format!("cell {}: {e}", cell.name))?);
    }
    Ok(all)
}

/// Plans over `images` (filtered to `project` when given; every image
/// stays a candidate) with the histories of the instances they name.
pub fn plan(
    images: &[Image],
    histories: &[InstanceHistory],
    bases: &[(String, String)],
) -> Result<Plan, String> {
    let mut request = Request::new(images, histories);
    for (image, base) in bases {
        request = request.base(image, base);
    }
    image_repair::plan(&request).map_err(|e| e.to_string())
}

/// The run's last line.
#[derive(Serialize)]
pub struct Summary {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub images: usize,
    pub to_repair: usize,
    pub undecidable: usize,
    pub propagated: usize,
    pub instances_on_damaged_snapshots: usize,
    pub by_reason: BTreeMap<String, usize>,
    /// Planned writes not made (`repair --apply`).
    pub refused: usize,
    /// The journal written (`repair --apply`).
    pub journal: Option<String>,
    pub exit_code: u8,
}

/// A reason's name, as the JSON report spells it (its serde name).
pub fn reason_name(reason: Reason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|r| r.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Summary {
    pub fn of(plan: &Plan, exit_code: u8) -> Self {
        let mut by_reason = BTreeMap::new();
        for v in &plan.images {
            *by_reason.entry(reason_name(v.reason)).or_default() += 1;
        }
        Summary {
            kind: "run",
            images: plan.images.len(),
            to_repair: plan.writes().count(),
            undecidable: plan
                .images
                .iter()
                .filter(|v| matches!(v.decision, image_repair::Decision::Undecidable { .. }))
                .count(),
            propagated: plan.count(Reason::NamesDamagedSnapshot),
            instances_on_damaged_snapshots: plan.instances.len(),
            by_reason,
            refused: 0,
            journal: None,
            exit_code,
        }
    }
}

/// The first field of an images journal's header.
pub const MAGIC: &str = "nova-sysmeta-db-images";
const VERSION: u32 = 1;

/// One line of the journal of `images repair`, chained and checked as the
/// database journal is (`journal::read_chain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum JournalLine {
    /// The first line: the run and the session's project.
    Header {
        journal: String,
        version: u32,
        run: String,
        started: u64,
        project: Option<String>,
    },
    /// About to add `property` = `value` to the image, which lacked it
    /// (synced before the request: a write whose answer never came is
    /// known).
    Intent {
        image: String,
        property: String,
        value: String,
    },
    /// Glance answered the write: the image now has the property.
    Written {
        image: String,
        property: String,
        value: String,
    },
    /// Glance refused the write; the image is as it was.
    Refused {
        image: String,
        status: Option<u16>,
        message: String,
    },
}

/// What happened to one planned write.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub image_id: String,
    pub base_image_ref: String,
    /// `written`, `would_write`, `refused`, `changed_since` (it has a
    /// `base_image_ref` now), `unknown` (Glance did not answer).
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The snapshots and backups of Glance's listing (filtered by Glance on
/// `image_type`, and on `instance_uuid` for each `--instance`).
pub fn list_from_glance(glance: &crate::glance::Glance, instances: &[String]) -> Result<Vec<Image>, String> {
    let mut bodies = Vec::new();
    for image_type in ["snapshot", "backup"] {
        if instances.is_empty() {
            bodies.extend(
                glance
                    .list(&[("image_type", image_type)])
                    .map_err(|e| format!("listing: {e}"))?,
            );
        }
        for uuid in instances {
            bodies.extend(
                glance
                    .list(&[("image_type", image_type), ("instance_uuid", uuid)])
                    .map_err(|e| format!("listing: {e}"))?,
            );
        }
    }
    to_images(&bodies)
}

/// Every other image the session sees, for the candidates of an
/// undecidable snapshot (listed only when one is).
pub fn list_others(glance: &crate::glance::Glance, known: &[Image]) -> Result<Vec<Image>, String> {
    let known: std::collections::HashSet<&str> = known.iter().map(|i| i.id.as_str()).collect();
    let others: Vec<serde_json::Value> = glance
        .list(&[])
        .map_err(|e| format!("listing: {e}"))?
        .into_iter()
        .filter(|b| b["id"].as_str().is_some_and(|id| !known.contains(id)))
        .collect();
    to_images(&others)
}

fn to_images(bodies: &[serde_json::Value]) -> Result<Vec<Image>, String> {
    bodies
        .iter()
        .map(|b| {
            let value = Value::from(b.clone());
            Image::from_glance(&value).map_err(|e| format!("image {}: {e}", b["id"]))
        })
        .collect()
}

/// Writes each planned `base_image_ref` through Glance, at most `jobs` at
/// once: the image is read again first (a property someone set since is
/// left alone), the intent journalled and synced, the patch sent, its
/// answer journalled. A refusal (403, 404, 409, ...) is reported and the
/// run goes on.
pub fn write_plan(
    glance: &crate::glance::Glance,
    writes: &[(String, String)],
    journal: &std::sync::Mutex<crate::journal::Journal>,
    jobs: u64,
) -> Vec<Outcome> {
    let outcomes = std::sync::Mutex::new(Vec::with_capacity(writes.len()));
    let journal_write = |line: JournalLine| -> Result<(), String> {
        journal
            .lock()
            .map_err(|_| "the journal's lock".to_owned())?
            .write(&[line])
            .map_err(|e| format!("the journal: {e}"))
    };
    crate::in_parallel(
        writes,
        jobs,
        |(image, base)| {
            let outcome = |result, status, message| Outcome {
                kind: "write",
                image_id: image.clone(),
                base_image_ref: base.clone(),
                result,
                status,
                message,
            };
            match glance.get(image) {
                Ok(body) if body.get(nova_sysmeta::keys::BASE_IMAGE_REF).is_some() => {
                    return outcome(
                        "changed_since",
                        None,
                        Some("it has a base_image_ref now".to_owned()),
                    );
                }
                Ok(_) => {}
                Err(e) => return outcome("refused", e.status, Some(e.message)),
            }
            let intent = JournalLine::Intent {
                image: image.clone(),
                property: nova_sysmeta::keys::BASE_IMAGE_REF.to_owned(),
                value: base.clone(),
            };
            if let Err(e) = journal_write(intent) {
                return outcome("unknown", None, Some(format!("not written: {e}")));
            }
            match glance.add(image, nova_sysmeta::keys::BASE_IMAGE_REF, base) {
                Ok(_) => {
                    let line = JournalLine::Written {
                        image: image.clone(),
                        property: nova_sysmeta::keys::BASE_IMAGE_REF.to_owned(),
                        value: base.clone(),
                    };
                    match journal_write(line) {
                        Ok(()) => outcome("written", None, None),
                        Err(e) => outcome("written", None, Some(e)),
                    }
                }
                Err(e) if e.status.is_none() => outcome("unknown", None, Some(e.message)),
                Err(e) => {
                    let line = JournalLine::Refused {
                        image: image.clone(),
                        status: e.status,
                        message: e.message.clone(),
                    };
                    let _ = journal_write(line);
                    outcome("refused", e.status, Some(e.message))
                }
            }
        },
        |o| {
            if let Ok(mut all) = outcomes.lock() {
                all.push(o);
            }
        },
    );
    let mut all = outcomes.into_inner().unwrap_or_default();
    all.sort_by(|a, b| a.image_id.cmp(&b.image_id));
    all
}

/// The header of a new images journal.
pub fn journal_header(run: &str, project: Option<String>) -> JournalLine {
    JournalLine::Header {
        journal: MAGIC.to_owned(),
        version: VERSION,
        run: run.to_owned(),
        started: crate::journal::now(),
        project,
    }
}

/// A write an images journal records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalWrite {
    pub image: String,
    pub property: String,
    pub value: String,
}

/// The writes an images journal records that may have reached Glance (a
/// `written` line, or an `intent` without an answer), newest first.
pub fn read_journal(path: &std::path::Path) -> Result<Vec<JournalWrite>, String> {
    let lines = crate::journal::read_chain::<serde_json::Value>(path, false)
        .map_err(|e| e.0)?
        .lines;
    let mut pending: Vec<JournalWrite> = Vec::new();
    for (i, (n, value)) in lines.into_iter().enumerate() {
        let at = |why: String| format!("{}: line {n}: {why}", path.display());
        if i == 0 && value.get("journal").and_then(|j| j.as_str()) != Some(MAGIC) {
            return Err(at(
                "not a journal of `images repair` (undo a database repair with `undo`)".to_owned(),
            ));
        }
        let line: JournalLine = serde_json::from_value(value).map_err(|e| at(format!("unreadable ({e})")))?;
        match (i, line) {
            (0, JournalLine::Header { version, .. }) => {
                if version != VERSION {
                    return Err(at(format!("version {version}, not {VERSION}")));
                }
            }
            (0, _) => return Err(at("the journal does not start with its header".to_owned())),
            (_, JournalLine::Header { .. }) => {
                return Err(at("a second header: two journals joined".to_owned()));
            }
            (
                _,
                JournalLine::Intent {
                    image,
                    property,
                    value,
                },
            ) => pending.push(JournalWrite {
                image,
                property,
                value,
            }),
            (_, JournalLine::Written { .. }) => {}
            (_, JournalLine::Refused { image, .. }) => pending.retain(|w| w.image != image),
        }
    }
    pending.reverse();
    Ok(pending)
}

/// What undo did with one write.
#[derive(Debug, Clone, Serialize)]
pub struct Undone {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub image_id: String,
    /// `removed`, `already_gone` (the property is not there), `conflict`
    /// (someone set another value since: left alone), `refused`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Removes each journalled property that still holds the value written.
pub fn undo(glance: &crate::glance::Glance, writes: &[JournalWrite]) -> Vec<Undone> {
    writes
        .iter()
        .map(
            |JournalWrite {
                 image,
                 property,
                 value,
             }| {
                let undone = |result, detail| Undone {
                    kind: "undo",
                    image_id: image.clone(),
                    result,
                    detail,
                };
                match glance.get(image) {
                    Err(e) => undone("refused", Some(e.to_string())),
                    Ok(body) => match body.get(property) {
                        None => undone("already_gone", None),
                        Some(now) if now.as_str() == Some(value) => match glance.remove(image, property) {
                            Ok(_) => undone("removed", None),
                            Err(e) => undone("refused", Some(e.to_string())),
                        },
                        Some(now) => undone(
                            "conflict",
                            Some(format!("{property} is {now} now, not {value:?}")),
                        ),
                    },
                }
            },
        )
        .collect()
}
