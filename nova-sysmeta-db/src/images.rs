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
    pub exit_code: u8,
}

impl Summary {
    pub fn of(plan: &Plan, exit_code: u8) -> Self {
        let mut by_reason = BTreeMap::new();
        for v in &plan.images {
            let name = serde_json::to_value(v.reason)
                .ok()
                .and_then(|r| r.as_str().map(str::to_owned))
                .unwrap_or_default();
            *by_reason.entry(name).or_default() += 1;
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
            exit_code,
        }
    }
}
