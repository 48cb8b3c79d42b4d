//! The journal of a repair, and `undo`: before a batch commits, every row
//! it changes, deletes or inserts is written to a JSON Lines file and
//! synced to disk; `undo` puts those rows back exactly as they were.
//!
//! One line a row:
//!
//! ```text
//! {"cell":"cell1","batch":3,"op":"update","row":{"id":7,"created_at":"2026-01-01 10:00:00",...}}
//! {"cell":"cell1","batch":3,"op":"delete","row":{...}}
//! {"cell":"cell1","batch":3,"op":"insert","row":{...}}
//! ```
//!
//! `update` and `delete` record the row as it was; `insert` the row as
//! written. Undo is idempotent: an update is set back, a deleted row is put
//! back if it is missing, an inserted row is removed if it is still the
//! one written. A batch whose transaction did not commit is undone
//! harmlessly.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use mysql::Value as Sql;
use mysql::prelude::Queryable;
use serde::{Deserialize, Serialize};

/// A row of `instance_system_metadata`, every column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaRow {
    pub id: u64,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub deleted_at: Option<String>,
    pub key: String,
    pub value: Option<String>,
    pub instance_uuid: String,
    pub deleted: Option<i64>,
}

/// The columns of [`MetaRow`], in its order, as SQL reads them (times as
/// text, so that they come back exactly).
pub const META_COLUMNS: &str = "id, CAST(created_at AS CHAR), CAST(updated_at AS CHAR), CAST(deleted_at AS CHAR), \
     `key`, value, instance_uuid, deleted";

impl MetaRow {
    pub fn from_sql(row: mysql::Row) -> Result<Self, mysql::FromRowError> {
        let (id, created_at, updated_at, deleted_at, key, value, instance_uuid, deleted) =
            mysql::from_row_opt(row)?;
        Ok(Self {
            id,
            created_at,
            updated_at,
            deleted_at,
            key,
            value,
            instance_uuid,
            deleted,
        })
    }
}

/// What a journal line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Update,
    Delete,
    Insert,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    pub cell: String,
    pub batch: u64,
    pub op: Op,
    pub row: MetaRow,
}

/// An open journal, appended to and synced per batch.
pub struct Journal {
    file: File,
}

impl Journal {
    /// Opens (creating or appending to) the journal at `path`.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { file })
    }

    /// Writes a batch's lines and syncs them to disk (before the batch's
    /// transaction commits).
    pub fn write_batch(&mut self, lines: &[Line]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = Vec::new();
        for line in lines {
            serde_json::to_writer(&mut text, line).map_err(io::Error::other)?;
            text.push(b'\n');
        }
        self.file.write_all(&text)?;
        self.file.sync_data()
    }
}

/// The lines of a journal file, in order. A last line cut short by a crash
/// (before its batch could commit) is ignored.
pub fn read(path: &Path) -> io::Result<Vec<Line>> {
    let reader = BufReader::new(File::open(path)?);
    let mut lines = Vec::new();
    let all: Vec<String> = reader.lines().collect::<io::Result<_>>()?;
    let count = all.len();
    for (n, text) in all.into_iter().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&text) {
            Ok(line) => lines.push(line),
            Err(_) if n + 1 == count => {}
            Err(e) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: line {}: {e}", path.display(), n + 1),
                ));
            }
        }
    }
    Ok(lines)
}

/// Undoes `lines` (all of one cell) on `conn`, newest first, in one
/// transaction. Returns how many rows were put back.
pub fn undo(conn: &mut mysql::Conn, lines: &[&Line]) -> mysql::Result<u64> {
    let mut tx = conn.start_transaction(mysql::TxOpts::default())?;
    let mut restored = 0;
    for line in lines.iter().rev() {
        let r = &line.row;
        match line.op {
            Op::Update => {
                tx.exec_drop(
                    "UPDATE instance_system_metadata SET value = ?, updated_at = ?, created_at = ?, \
                     deleted_at = ?, deleted = ?, `key` = ?, instance_uuid = ? WHERE id = ?",
                    (
                        &r.value,
                        &r.updated_at,
                        &r.created_at,
                        &r.deleted_at,
                        r.deleted,
                        &r.key,
                        &r.instance_uuid,
                        r.id,
                    ),
                )?;
                restored += tx.affected_rows();
            }
            Op::Delete => {
                tx.exec_drop(
                    "INSERT IGNORE INTO instance_system_metadata \
                     (id, created_at, updated_at, deleted_at, `key`, value, instance_uuid, deleted) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.id,
                        &r.created_at,
                        &r.updated_at,
                        &r.deleted_at,
                        &r.key,
                        &r.value,
                        &r.instance_uuid,
                        r.deleted,
                    ),
                )?;
                restored += tx.affected_rows();
            }
            Op::Insert => {
                tx.exec_drop(
                    "DELETE FROM instance_system_metadata WHERE id = ? AND `key` = ? AND instance_uuid = ? \
                     AND value <=> ?",
                    (r.id, &r.key, &r.instance_uuid, Sql::from(r.value.as_deref())),
                )?;
                restored += tx.affected_rows();
            }
        }
    }
    tx.commit()?;
    Ok(restored)
}
