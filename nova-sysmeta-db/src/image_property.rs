//! `image-property show|set`: `nova-manage image_property`, with its checks
//! and exit codes, for any release from Pike, with a dry run by default, the
//! journal and `undo`.
//!
//! `set` does what Nova's command does: the instance must be STOPPED,
//! SHELVED or SHELVED_OFFLOADED; every name must be a field of the
//! release's `ImageMetaProps` (or `trait:*`); the values must pass its
//! `from_dict`; then `image_<name>` is written into the instance's system
//! metadata and, from the releases with the fix for bug 2078999 (28.3.1,
//! 29.2.1, 30.0.0), the instance's new image into its `request_specs` row,
//! which migrations read.

use mysql::TxOpts;
use mysql::prelude::Queryable;
use nova_sysmeta::{NovaConfig, Properties, Release, SystemMetadata, objects};
use serde::Serialize;

use crate::cells::{self, Cell, Cells};
use crate::cli::Timeouts;
use crate::journal::{Journal, Line, META_COLUMNS, MetaRow, Op};

/// nova-manage's exit codes for `image_property`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const UNEXPECTED: u8 = 1;
    pub const NOT_FOUND: u8 = 2;
    /// `show`: no such property; `set`: the instance's state forbids it.
    pub const PROPERTY_OR_STATE: u8 = 3;
    pub const FORMAT: u8 = 4;
    pub const NAME: u8 = 5;
    pub const VALUE: u8 = 6;
}

/// The properties, as Python's `dict()` of the pairs: a later duplicate's
/// value in the first one's place.
pub type Props = Vec<(String, String)>;

/// The states `set` allows (Nova's `InstanceState`).
const ALLOWED_STATES: [&str; 3] = ["stopped", "shelved", "shelved_offloaded"];

/// Whether `release`'s `image_property set` writes the `request_specs` row
/// (the fix for bug 2078999: 28.3.1, 29.2.1, and every release from 30.0.0).
pub fn writes_request_spec(release: Release) -> bool {
    let from = |major, minor, patch| Release::new(major, minor, patch).is_ok_and(|r| release >= r);
    match release.series() {
        28 => from(28, 3, 1),
        29 => from(29, 2, 1),
        s => s >= 30,
    }
}

/// Whether `release`'s `image_property set` takes `trait:*` names (the
/// name check skips them from 29.4.0, 30.2.0, 31.2.0 and 32.0.0; before,
/// they are invalid names, exit 5). Releases before 25.0.0, which have no
/// such command, are checked as 25.0.0 checks.
pub fn accepts_trait_names(release: Release) -> bool {
    let from = |major, minor, patch| Release::new(major, minor, patch).is_ok_and(|r| release >= r);
    match release.series() {
        29 => from(29, 4, 0),
        30 => from(30, 2, 0),
        31 => from(31, 2, 0),
        s => s >= 32,
    }
}

/// An instance found in a cell.
pub struct Found {
    pub cell: Cell,
    pub id: u64,
    pub uuid: String,
    pub vm_state: Option<String>,
    pub image_ref: Option<String>,
    /// Its live system-metadata rows, in id order.
    pub rows: Vec<MetaRow>,
}

impl Found {
    pub fn system_metadata(&self) -> SystemMetadata {
        let mut sm = SystemMetadata::new();
        for row in &self.rows {
            // Keys and values come from Nova's columns: they fit.
            let _ = sm.insert(row.key.as_str(), row.value.as_deref());
        }
        sm
    }
}

type Instance = (
    u64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
const INSTANCE_COLUMNS: &str = "id, uuid, vm_state, task_state, image_ref, CAST(updated_at AS CHAR)";

fn read_rows<Q: Queryable>(conn: &mut Q, uuid: &str, lock: bool) -> Result<Vec<MetaRow>, String> {
    let rows: Vec<mysql::Row> = conn
        .exec(
            format!(
                "SELECT {META_COLUMNS} FROM instance_system_metadata WHERE instance_uuid = ? \
                 AND (deleted = 0 OR deleted IS NULL) ORDER BY id{}",
                if lock { " FOR UPDATE" } else { "" }
            ),
            (uuid,),
        )
        .map_err(|e| e.to_string())?;
    rows.into_iter()
        .map(|r| MetaRow::from_sql(r).map_err(|e| e.to_string()))
        .collect()
}

/// Whether the API database maps instance `uuid` to a cell (Nova's
/// `InstanceMapping.get_by_instance_uuid`).
pub fn mapped(api: &crate::conf::Connection, uuid: &str, timeouts: Timeouts) -> Result<bool, String> {
    let mut conn = cells::connect(api, timeouts, None).map_err(|e| format!("the API database: {e}"))?;
    let cell: Option<Option<u64>> = conn
        .exec_first(
            "SELECT cell_id FROM instance_mappings WHERE instance_uuid = ?",
            (uuid,),
        )
        .map_err(|e| format!("the API database: {e}"))?;
    Ok(matches!(cell, Some(Some(_))))
}

/// The instance `uuid` (not deleted), searched in every cell.
pub fn locate(found: &Cells, uuid: &str, timeouts: Timeouts) -> Result<Option<Found>, String> {
    for cell in &found.cells {
        let mut conn = cells::connect(&cell.connection, timeouts, None)
            .map_err(|e| format!("cell {}: {e}", cell.name))?;
        let row: Option<Instance> = conn
            .exec_first(
                format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE uuid = ? AND deleted = 0"),
                (uuid,),
            )
            .map_err(|e| format!("cell {}: {e}", cell.name))?;
        if let Some((id, uuid, vm_state, _, image_ref, _)) = row {
            let rows = read_rows(&mut conn, &uuid, false).map_err(|e| format!("cell {}: {e}", cell.name))?;
            return Ok(Some(Found {
                cell: cell.clone(),
                id,
                uuid,
                vm_state,
                image_ref,
                rows,
            }));
        }
    }
    Ok(None)
}

/// Why `set` refuses, with nova-manage's exit code and message.
pub struct Refused {
    pub code: u8,
    pub message: String,
}

fn refused(code: u8, message: String) -> Refused {
    Refused { code, message }
}

/// The checks of `nova-manage image_property set`, in its order (the
/// instance's state first), for `release`. The properties as Nova's
/// `dict(prop.split('=') ...)` reads them.
pub fn validate(found: &Found, given: &[String], release: Release) -> Result<Props, Refused> {
    let state = found.vm_state.as_deref().unwrap_or("");
    if !ALLOWED_STATES.contains(&state) {
        return Err(refused(
            exit::PROPERTY_OR_STATE,
            format!(
                "Instance {} in vm_state {} cannot be image_property set (must be STOPPED, SHELVED, OR \
                 SHELVED_OFFLOADED). while the instance is in this state.",
                found.uuid,
                found.vm_state.as_deref().unwrap_or("None")
            ),
        ));
    }
    if given.iter().any(|p| !p.contains('=')) {
        return Err(refused(
            exit::FORMAT,
            "--property should use the format key=value".to_owned(),
        ));
    }
    let mut props: Props = Vec::new();
    for (i, p) in given.iter().enumerate() {
        let parts: Vec<&str> = p.split('=').collect();
        if parts.len() != 2 {
            // Python's dict() of a sequence of the wrong length: ValueError.
            return Err(refused(
                exit::VALUE,
                format!(
                    "dictionary update sequence element #{i} has length {}; 2 is required",
                    parts.len()
                ),
            ));
        }
        match props.iter_mut().find(|(k, _)| k == parts[0]) {
            Some(entry) => entry.1 = parts[1].to_owned(),
            None => props.push((parts[0].to_owned(), parts[1].to_owned())),
        }
    }
    let schema = objects::Schema::of(release);
    for name in props.iter().map(|(k, _)| k) {
        let trait_name = name.starts_with("trait:") && accepts_trait_names(release);
        if !trait_name && schema.field(name).is_none() {
            return Err(refused(
                exit::NAME,
                format!("Invalid image property name {name}."),
            ));
        }
    }
    let as_props: Properties = props.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let config = NovaConfig::for_release(release);
    if let Err(e) = objects::image_meta_props(&objects::PropsRequest::new(&as_props).config(&config)) {
        return Err(refused(exit::VALUE, e.to_string()));
    }
    Ok(props)
}

/// One system-metadata change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub key: String,
    pub old: Option<Option<String>>,
    pub new: String,
}

/// What `set` writes.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub instance: String,
    pub cell: String,
    pub changes: Vec<Change>,
    /// The `image` the `request_specs` row gets (`None`: the release does
    /// not write it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_spec_image: Option<serde_json::Value>,
}

/// The plan: every `image_<name>` whose value changes, and the instance's
/// image as `ImageMeta.from_instance` builds it from the new map (Nova
/// computes it before it saves anything: a map the release cannot type
/// fails here, exit 6, with nothing written).
pub fn plan(found: &Found, props: &Props, release: Release) -> Result<Plan, Refused> {
    let mut sm = found.system_metadata();
    let mut changes = Vec::new();
    for (name, value) in props {
        let key = format!("image_{name}");
        let old = sm.get_nullable(&key).map(|v| v.map(str::to_owned));
        if old.as_ref().and_then(|o| o.as_deref()) != Some(value.as_str()) {
            changes.push(Change {
                key: key.clone(),
                old,
                new: value.clone(),
            });
        }
        // The columns hold 255 characters: Nova's save fails there (its
        // "unexpected error").
        for (what, text) in [("key", key.as_str()), ("value", value.as_str())] {
            if text.chars().count() > 255 {
                return Err(refused(
                    exit::UNEXPECTED,
                    format!("the {what} of {key:?} is longer than the column's 255 characters"),
                ));
            }
        }
        let _ = sm.insert(key.as_str(), Some(value.as_str()));
    }
    let request_spec_image = if writes_request_spec(release) {
        let config = NovaConfig::for_release(release);
        let mut request = objects::MetaRequest::new(&sm).config(&config);
        if let Some(r) = found.image_ref.as_deref() {
            request = request.image_ref(r);
        }
        let meta = objects::image_meta_from_system_metadata(&request)
            .map_err(|e| refused(exit::VALUE, e.to_string()))?;
        Some(meta.to_primitive())
    } else {
        None
    };
    Ok(Plan {
        instance: found.uuid.clone(),
        cell: found.cell.name.clone(),
        changes,
        request_spec_image,
    })
}

/// What `--apply` did.
#[derive(Debug, Default, Serialize)]
pub struct Applied {
    pub rows_updated: u64,
    pub rows_inserted: u64,
    pub request_spec: bool,
}

/// Writes `plan`: the cell's rows in one transaction (the instance row
/// locked, its state checked again), journalled before the commit; then
/// the `request_specs` row in the API database, journalled before it is
/// written. `api` is the API database's connection, needed when the plan
/// writes the request spec.
pub fn apply(
    found: &Found,
    plan: &Plan,
    journal: &mut Journal,
    api: Option<&crate::conf::Connection>,
    timeouts: Timeouts,
    lock_wait: u64,
) -> Result<Applied, Refused> {
    let unexpected = |e: String| refused(exit::UNEXPECTED, e);
    let mut applied = Applied::default();
    // The request spec must be there before anything is written (Nova
    // reads it before it saves the instance).
    let mut api_conn = match (&plan.request_spec_image, api) {
        (Some(_), Some(api)) => Some(
            cells::connect(api, timeouts, Some(lock_wait))
                .map_err(|e| unexpected(format!("the API database: {e}")))?,
        ),
        (Some(_), None) => {
            return Err(unexpected(
                "this release writes the instance's request_specs row: give the nova.conf that names [api_database]"
                    .to_owned(),
            ));
        }
        (None, _) => None,
    };
    if let Some(conn) = api_conn.as_mut() {
        let exists: Option<u64> = conn
            .exec_first(
                "SELECT id FROM request_specs WHERE instance_uuid = ?",
                (found.uuid.as_str(),),
            )
            .map_err(|e| unexpected(e.to_string()))?;
        if exists.is_none() {
            return Err(unexpected(format!(
                "RequestSpec not found for instance {}.",
                found.uuid
            )));
        }
    }
    if !plan.changes.is_empty() {
        let mut conn =
            cells::connect(&found.cell.connection, timeouts, Some(lock_wait)).map_err(unexpected)?;
        let mut tx = conn
            .start_transaction(TxOpts::default())
            .map_err(|e| unexpected(e.to_string()))?;
        let row: Option<Instance> = tx
            .exec_first(
                format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ? AND deleted = 0 FOR UPDATE"),
                (found.id,),
            )
            .map_err(|e| unexpected(e.to_string()))?;
        let Some((_, _, vm_state, _, _, updated_at)) = row else {
            return Err(refused(
                exit::NOT_FOUND,
                format!("Instance {} could not be found.", found.uuid),
            ));
        };
        if !ALLOWED_STATES.contains(&vm_state.as_deref().unwrap_or("")) {
            return Err(refused(
                exit::PROPERTY_OR_STATE,
                format!(
                    "Instance {} changed to vm_state {} meanwhile.",
                    found.uuid,
                    vm_state.as_deref().unwrap_or("None")
                ),
            ));
        }
        let rows = read_rows(&mut tx, &found.uuid, true).map_err(unexpected)?;
        let mut lines = Vec::new();
        let mut written = Vec::new();
        for change in &plan.changes {
            let current = rows.iter().find(|r| r.key == change.key);
            let now_value = current.map(|r| r.value.clone());
            if now_value != change.old {
                return Err(unexpected(format!("{} changed meanwhile; run again", change.key)));
            }
            let id = match current {
                Some(row) => {
                    tx.exec_drop("UPDATE instance_system_metadata SET value = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?", (change.new.as_str(), row.id))
                        .map_err(|e| unexpected(e.to_string()))?;
                    applied.rows_updated += 1;
                    lines.push((Op::Update, Some(row.clone()), row.id));
                    row.id
                }
                None => {
                    tx.exec_drop(
                        "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) VALUES (UTC_TIMESTAMP(), 0, ?, ?, ?)",
                        (found.uuid.as_str(), change.key.as_str(), change.new.as_str()),
                    )
                    .map_err(|e| unexpected(e.to_string()))?;
                    let id = tx
                        .last_insert_id()
                        .ok_or_else(|| unexpected("an inserted row has no id".to_owned()))?;
                    applied.rows_inserted += 1;
                    lines.push((Op::Insert, None, id));
                    id
                }
            };
            written.push(id);
        }
        tx.exec_drop(
            "UPDATE instances SET updated_at = UTC_TIMESTAMP() WHERE id = ?",
            (found.id,),
        )
        .map_err(|e| unexpected(e.to_string()))?;
        let updated_after: Option<Option<String>> = tx
            .exec_first(
                "SELECT CAST(updated_at AS CHAR) FROM instances WHERE id = ?",
                (found.id,),
            )
            .map_err(|e| unexpected(e.to_string()))?;
        let mut after_rows = std::collections::HashMap::new();
        for id in &written {
            let row: Option<mysql::Row> = tx
                .exec_first(
                    format!("SELECT {META_COLUMNS} FROM instance_system_metadata WHERE id = ?"),
                    (id,),
                )
                .map_err(|e| unexpected(e.to_string()))?;
            let row = row.ok_or_else(|| unexpected(format!("row {id} cannot be read back")))?;
            after_rows.insert(
                *id,
                MetaRow::from_sql(row).map_err(|e| unexpected(e.to_string()))?,
            );
        }
        let mut journal_lines: Vec<Line> = lines
            .into_iter()
            .map(|(op, before, id)| Line::Row {
                cell: found.cell.name.clone(),
                batch: 0,
                op,
                before: before.map(Box::new),
                after: after_rows.remove(&id).map(Box::new),
            })
            .collect();
        let max_row_id = rows
            .iter()
            .map(|r| r.id)
            .chain(written.iter().copied())
            .max()
            .unwrap_or(0);
        journal_lines.push(Line::Instance {
            cell: found.cell.name.clone(),
            batch: 0,
            id: found.id,
            uuid: found.uuid.clone(),
            updated_at_before: updated_at,
            updated_at_after: updated_after.flatten(),
            max_row_id,
        });
        let count = journal_lines.len() as u64;
        journal
            .write(&journal_lines)
            .map_err(|e| unexpected(format!("the journal: {e}")))?;
        tx.commit().map_err(|e| unexpected(e.to_string()))?;
        journal
            .write(&[Line::Commit {
                cell: found.cell.name.clone(),
                batch: 0,
                lines: count,
            }])
            .map_err(|e| unexpected(format!("the journal: {e}")))?;
    }
    if let (Some(image), Some(conn)) = (&plan.request_spec_image, api_conn.as_mut()) {
        let mut tx = conn
            .start_transaction(TxOpts::default())
            .map_err(|e| unexpected(e.to_string()))?;
        let row: Option<(u64, String)> = tx
            .exec_first(
                "SELECT id, spec FROM request_specs WHERE instance_uuid = ? FOR UPDATE",
                (found.uuid.as_str(),),
            )
            .map_err(|e| unexpected(e.to_string()))?;
        let (id, before) =
            row.ok_or_else(|| unexpected(format!("RequestSpec not found for instance {}.", found.uuid)))?;
        let mut spec: serde_json::Value =
            serde_json::from_str(&before).map_err(|e| unexpected(format!("request_specs row {id}: {e}")))?;
        let data = spec
            .get_mut("nova_object.data")
            .and_then(|d| d.as_object_mut())
            .ok_or_else(|| unexpected(format!("request_specs row {id} is not a RequestSpec primitive")))?;
        if data.get("image") != Some(image) {
            data.insert("image".to_owned(), image.clone());
            let after = serde_json::to_string(&spec).map_err(|e| unexpected(e.to_string()))?;
            journal
                .write(&[Line::Spec {
                    id,
                    instance_uuid: found.uuid.clone(),
                    before,
                    after: after.clone(),
                }])
                .map_err(|e| unexpected(format!("the journal: {e}")))?;
            tx.exec_drop(
                "UPDATE request_specs SET spec = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                (after.as_str(), id),
            )
            .map_err(|e| unexpected(e.to_string()))?;
            tx.commit().map_err(|e| unexpected(e.to_string()))?;
            applied.request_spec = true;
        }
    }
    Ok(applied)
}

/// What undo did to the `request_specs` rows a journal names.
#[derive(Debug, Default, Serialize)]
pub struct SpecUndo {
    pub restored: u64,
    pub already_undone: u64,
    pub conflicts: Vec<String>,
}

/// Puts back each `request_specs` row that still holds what `set` wrote.
pub fn undo_specs(
    lines: &[&Line],
    api: &crate::conf::Connection,
    timeouts: Timeouts,
    lock_wait: u64,
) -> Result<SpecUndo, String> {
    let mut report = SpecUndo::default();
    let mut conn =
        cells::connect(api, timeouts, Some(lock_wait)).map_err(|e| format!("the API database: {e}"))?;
    for line in lines.iter().rev() {
        let Line::Spec {
            id,
            instance_uuid,
            before,
            after,
        } = line
        else {
            continue;
        };
        let mut tx = conn
            .start_transaction(TxOpts::default())
            .map_err(|e| e.to_string())?;
        let now: Option<String> = tx
            .exec_first("SELECT spec FROM request_specs WHERE id = ? FOR UPDATE", (id,))
            .map_err(|e| e.to_string())?;
        match now {
            Some(now) if now == *after => {
                tx.exec_drop(
                    "UPDATE request_specs SET spec = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                    (before.as_str(), id),
                )
                .map_err(|e| e.to_string())?;
                tx.commit().map_err(|e| e.to_string())?;
                report.restored += 1;
            }
            Some(now) if now == *before => report.already_undone += 1,
            Some(_) => report.conflicts.push(format!(
                "the request spec of instance {instance_uuid} changed since; left alone"
            )),
            None => report.conflicts.push(format!(
                "the request spec of instance {instance_uuid} is gone; left alone"
            )),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The versions read from each release's nova/cmd/manage.py.
    #[test]
    fn which_releases_write_the_request_spec_and_take_trait_names() {
        let r = |s: &str| s.parse::<Release>().unwrap();
        for (release, spec, traits) in [
            ("25.0.0", false, false),
            ("27.5.1", false, false),
            ("28.3.0", false, false),
            ("28.3.1", true, false),
            ("29.2.0", false, false),
            ("29.2.1", true, false),
            ("29.3.0", true, false),
            ("29.4.0", true, true),
            ("30.0.0", true, false),
            ("30.1.0", true, false),
            ("30.2.0", true, true),
            ("31.1.0", true, false),
            ("31.2.0", true, true),
            ("32.0.0", true, true),
            ("34.0.0", true, true),
            ("16.1.8", false, false),
        ] {
            assert_eq!(writes_request_spec(r(release)), spec, "{release}");
            assert_eq!(accepts_trait_names(r(release)), traits, "{release}");
        }
    }
}
