//! `undo`: the rows a repair journal recorded, put back newest first, but
//! only where they still hold what the repair wrote.
//!
//! Each of the repair's transactions is undone in one transaction of its
//! own, its instances locked first (by primary key, READ COMMITTED). Every
//! row is compared and set in the same statement or under the same lock:
//!
//! - an updated row gets its old value back only if it still holds, in
//!   every column, what the repair wrote;
//! - an inserted row is removed only if it is still the one written;
//! - a deleted row is put back only if its id is free and Nova wrote no
//!   live row of its key since the repair: for a live row, no live row of
//!   the key exists; for a soft-deleted one, none was added since (a
//!   higher id than the repair saw) or changed since (a later second).
//!   Put back beside Nova's newer row, it would shadow it: Nova reads both;
//! - rows of an instance deleted since are never touched.
//!
//! Everything else is a conflict: reported, left alone, and the exit
//! status says so. A row already back as it was is counted as such, so
//! undo can be run again. Instances whose rows undo changes get a new
//! `updated_at`, as Nova's `save()` would give them (the API's
//! `changes-since` then sees the undo too).

use std::collections::{BTreeMap, BTreeSet};

use mysql::TxOpts;
use mysql::prelude::Queryable;
use serde::Serialize;

use crate::cells::Cell;
use crate::cli::Timeouts;
use crate::journal::{Line, META_COLUMNS, MetaRow, Op};

/// One row left alone.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub instance_uuid: String,
    pub row_id: u64,
    pub key: String,
    pub why: String,
}

/// What undo did in one cell.
#[derive(Debug, Default, Serialize)]
pub struct UndoReport {
    pub cell: String,
    /// Rows put back as they were before the repair.
    pub restored: u64,
    /// Rows that already were (an undo run before).
    pub already_undone: u64,
    /// Rows of a batch that never committed, as the repair left them.
    pub not_committed: u64,
    /// Rows left alone because Nova changed them, or deleted their
    /// instance, since the repair.
    pub conflicts: Vec<Conflict>,
    pub error: Option<String>,
}

fn current(tx: &mut mysql::Transaction<'_>, id: u64) -> mysql::Result<Option<MetaRow>> {
    let row: Option<mysql::Row> = tx.exec_first(
        format!("SELECT {META_COLUMNS} FROM instance_system_metadata WHERE id = ? FOR UPDATE"),
        (id,),
    )?;
    row.map(|r| MetaRow::from_sql(r).map_err(|e| mysql::Error::FromRowError(e.0)))
        .transpose()
}

/// The instances a batch's lines touch.
fn instances_of(lines: &[&Line]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| match l {
            Line::Row { before: Some(r), .. } | Line::Row { after: Some(r), .. } => {
                Some(r.instance_uuid.clone())
            }
            Line::Instance { uuid, .. } => Some(uuid.clone()),
            _ => None,
        })
        .collect()
}

/// Undoes one cell's lines.
pub fn undo_cell(cell: &Cell, lines: &[&Line], timeouts: Timeouts, lock_wait: u64) -> UndoReport {
    let mut report = UndoReport {
        cell: cell.name.clone(),
        ..UndoReport::default()
    };
    if let Err(e) = undo_batches(cell, lines, timeouts, lock_wait, &mut report) {
        report.error = Some(e);
    }
    report
}

fn undo_batches(
    cell: &Cell,
    lines: &[&Line],
    timeouts: Timeouts,
    lock_wait: u64,
    report: &mut UndoReport,
) -> Result<(), String> {
    let mut conn = crate::cells::connect(&cell.connection, timeouts, Some(lock_wait))?;
    let mut batches: BTreeMap<u64, Vec<&Line>> = BTreeMap::new();
    let mut committed = BTreeSet::new();
    for line in lines {
        match line {
            Line::Commit { batch, .. } => {
                committed.insert(*batch);
            }
            Line::Row { batch, .. } | Line::Instance { batch, .. } => {
                batches.entry(*batch).or_default().push(line)
            }
            Line::Header { .. } | Line::Spec { .. } => {}
        }
    }
    for (batch, lines) in batches.iter().rev() {
        let mut tries = 0;
        loop {
            let mut attempt = UndoReport::default();
            match undo_batch(&mut conn, lines, committed.contains(batch), &mut attempt) {
                Ok(()) => {
                    report.restored += attempt.restored;
                    report.already_undone += attempt.already_undone;
                    report.not_committed += attempt.not_committed;
                    report.conflicts.extend(attempt.conflicts);
                    break;
                }
                Err(e) if crate::scan::is_transient(&e) && tries < 6 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50 << tries));
                }
                Err(e) => return Err(format!("batch {batch}: {e}")),
            }
        }
    }
    Ok(())
}

fn undo_batch(
    conn: &mut mysql::Conn,
    lines: &[&Line],
    committed: bool,
    r: &mut UndoReport,
) -> mysql::Result<()> {
    let mut tx = conn.start_transaction(TxOpts::default())?;
    // Lock the instances first, in one order (no deadlock between undos).
    let mut live: BTreeSet<String> = BTreeSet::new();
    for uuid in instances_of(lines) {
        let row: Option<(u64, Option<i64>)> = tx.exec_first(
            "SELECT id, deleted FROM instances WHERE uuid = ? FOR UPDATE",
            (uuid.as_str(),),
        )?;
        if matches!(row, Some((_, d)) if d.unwrap_or(0) == 0) {
            live.insert(uuid);
        }
    }
    // Per instance, the repair's time and the highest row id once it had
    // written: a live row with a higher id, or changed later, is Nova's.
    let repaired_at: BTreeMap<&str, (&str, u64)> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Instance {
                uuid,
                updated_at_after: Some(t),
                max_row_id,
                ..
            } => Some((uuid.as_str(), (t.as_str(), *max_row_id))),
            _ => None,
        })
        .collect();
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let conflict = |r: &mut UndoReport, row: &MetaRow, why: String| {
        if committed {
            r.conflicts.push(Conflict {
                instance_uuid: row.instance_uuid.clone(),
                row_id: row.id,
                key: row.key.clone(),
                why,
            });
        } else {
            r.not_committed += 1;
        }
    };
    for line in lines.iter().rev() {
        let Line::Row {
            op, before, after, ..
        } = line
        else {
            continue;
        };
        let Some(subject) = after.as_ref().or(before.as_ref()) else {
            continue;
        };
        if !live.contains(&subject.instance_uuid) {
            conflict(
                r,
                subject,
                "the instance was deleted since the repair: its rows are left alone".to_owned(),
            );
            continue;
        }
        let now = current(&mut tx, subject.id)?;
        match (op, before, after) {
            (Op::Update, Some(b), Some(a)) => {
                if now.as_ref() == Some(a) {
                    tx.exec_drop(
                        "UPDATE instance_system_metadata SET value = ?, updated_at = ? WHERE id = ?",
                        (b.value.as_deref(), b.updated_at.as_deref(), b.id),
                    )?;
                    r.restored += 1;
                    touched.insert(b.instance_uuid.clone());
                } else if now.as_ref().is_some_and(|n| n.value == b.value && n.key == b.key) {
                    r.already_undone += 1;
                } else {
                    conflict(r, a, describe_change(now.as_ref(), a));
                }
            }
            (Op::Insert, None, Some(a)) => {
                if now.as_ref() == Some(a) {
                    tx.exec_drop("DELETE FROM instance_system_metadata WHERE id = ?", (a.id,))?;
                    r.restored += 1;
                    touched.insert(a.instance_uuid.clone());
                } else if now.is_none() {
                    r.already_undone += 1;
                } else {
                    conflict(r, a, describe_change(now.as_ref(), a));
                }
            }
            (Op::Delete, Some(b), None) => {
                if now.as_ref() == Some(b) {
                    r.already_undone += 1;
                    continue;
                }
                if now.is_some() {
                    conflict(r, b, "its id now holds another row".to_owned());
                    continue;
                }
                let (since, max_id) = repaired_at
                    .get(b.instance_uuid.as_str())
                    .copied()
                    .unwrap_or(("", 0));
                // A live row of the key that the repair deleted: any live row
                // of it now is Nova's. Beside a soft-deleted one: those Nova
                // added (a higher id) or changed (a later time) since.
                let newer: Option<u64> = tx.exec_first(
                    "SELECT id FROM instance_system_metadata WHERE instance_uuid = ? AND `key` = ? \
                     AND (deleted = 0 OR deleted IS NULL) \
                     AND (? OR ? = 0 OR id > ? OR updated_at > ?) LIMIT 1",
                    (
                        b.instance_uuid.as_str(),
                        b.key.as_str(),
                        b.is_live(),
                        max_id,
                        max_id,
                        since,
                    ),
                )?;
                if let Some(id) = newer {
                    conflict(
                        r,
                        b,
                        format!(
                            "Nova wrote a live row of this key since the repair (row {id}): putting this one back would hide it"
                        ),
                    );
                    continue;
                }
                tx.exec_drop(
                    "INSERT INTO instance_system_metadata \
                     (id, created_at, updated_at, deleted_at, `key`, value, instance_uuid, deleted) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        b.id,
                        b.created_at.as_deref(),
                        b.updated_at.as_deref(),
                        b.deleted_at.as_deref(),
                        b.key.as_str(),
                        b.value.as_deref(),
                        b.instance_uuid.as_str(),
                        b.deleted,
                    ),
                )?;
                r.restored += 1;
                touched.insert(b.instance_uuid.clone());
            }
            _ => conflict(r, subject, "a journal line of an unknown shape".to_owned()),
        }
    }
    for uuid in &touched {
        tx.exec_drop(
            "UPDATE instances SET updated_at = UTC_TIMESTAMP() WHERE uuid = ? AND deleted = 0",
            (uuid.as_str(),),
        )?;
    }
    tx.commit()
}

fn describe_change(now: Option<&MetaRow>, written: &MetaRow) -> String {
    match now {
        None => "Nova removed the row since the repair".to_owned(),
        Some(n) if n.value != written.value => format!(
            "Nova changed it since the repair (now {:?})",
            n.value.as_deref().unwrap_or("NULL")
        ),
        Some(_) => "Nova rewrote it since the repair".to_owned(),
    }
}
