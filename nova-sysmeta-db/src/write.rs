//! Writing repairs beside a running Nova.
//!
//! Only the rows a repair changes are locked: the instance's row by its
//! primary key, then its metadata rows, under READ COMMITTED (no gap or
//! next-key locks, so Nova's inserts and its saves of other instances
//! never wait on the tool), with the session's short lock wait: an
//! instance whose rows Nova holds is skipped and retried later. The plan
//! is made again from the locked rows, so the repair acts on what Nova
//! last committed. Rows are written as Nova's `Instance.save()` writes
//! them (an update sets `updated_at`, a new key is a new row with
//! `created_at` and `deleted = 0`, a removed row is hard-deleted), and the
//! instance's `updated_at` moves as `save()` moves it, so the API's
//! `changes-since` filter sees the repaired instance. Every row, as it
//! was and as written, goes to the journal, synced, before the commit.

use std::collections::HashMap;
use std::fmt;

use mysql::prelude::Queryable;
use mysql::{Params, TxOpts, Value as Sql};

use crate::cells::Cell;
use crate::journal::{Line, META_COLUMNS, MetaRow, Op};
use crate::scan::{Action, INSTANCE_COLUMNS, InstanceRow, InstanceRows, Plan, Settings, placeholders, plan};

/// What a written batch did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Repaired instances, with what was written.
    pub repaired: Vec<(String, Plan)>,
    /// Instances whose rows Nova held locked past the lock wait (ids).
    pub locked: Vec<u64>,
    /// Instances that got a task meanwhile.
    pub in_transition: Vec<(String, Plan)>,
    /// Rows updated, inserted, deleted.
    pub rows: (u64, u64, u64),
}

/// Why a batch failed.
#[derive(Debug)]
pub enum WriteError {
    Database(mysql::Error),
    /// The journal could not be written: nothing was committed.
    Journal(std::io::Error),
    /// A row written could not be read back for the journal: nothing was
    /// committed.
    NotReadBack(String),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Database(e) => write!(f, "{e}"),
            WriteError::Journal(e) => write!(f, "the journal: {e} (the batch was rolled back)"),
            WriteError::NotReadBack(what) => write!(f, "{what} (the batch was rolled back)"),
        }
    }
}

impl From<mysql::Error> for WriteError {
    fn from(e: mysql::Error) -> Self {
        WriteError::Database(e)
    }
}

fn is_lock_wait(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1205)
}

fn meta_rows(rows: Vec<mysql::Row>) -> Result<Vec<MetaRow>, WriteError> {
    rows.into_iter()
        .map(|r| MetaRow::from_sql(r).map_err(|e| WriteError::Database(mysql::Error::FromRowError(e.0))))
        .collect()
}

/// What locking an instance found.
enum Locked {
    /// Nova holds its rows past the lock wait (only the statement that
    /// waited was rolled back).
    Held,
    /// The instance is gone or deleted.
    Gone,
    /// Its rows, locked, and its `updated_at`.
    Rows(InstanceRows, Option<String>),
}

/// Locks the instance `id` (by primary key), then its metadata rows.
fn lock(tx: &mut mysql::Transaction<'_>, id: u64, s: &Settings<'_>) -> Result<Locked, WriteError> {
    let row: Option<(InstanceRow, Option<i64>, Option<String>)> = match tx.exec_first(
        format!("SELECT {INSTANCE_COLUMNS}, deleted, CAST(updated_at AS CHAR) FROM instances WHERE id = ? FOR UPDATE"),
        (id,),
    ) {
        Ok(row) => row.map(|r: mysql::Row| {
            let (a, b, c, d, e, f, g) = mysql::from_row(r);
            ((a, b, c, d, e), f, g)
        }),
        Err(e) if is_lock_wait(&e) => return Ok(Locked::Held),
        Err(e) => return Err(e.into()),
    };
    let Some((columns, deleted, updated_at)) = row else {
        return Ok(Locked::Gone);
    };
    if deleted.unwrap_or(0) != 0 {
        return Ok(Locked::Gone);
    }
    let mut instance = InstanceRows::new(columns, &s.history);
    let rows: Vec<mysql::Row> = match tx.exec(
        format!("SELECT {META_COLUMNS} FROM instance_system_metadata WHERE instance_uuid = ? ORDER BY id FOR UPDATE"),
        (instance.uuid.as_str(),),
    ) {
        Ok(rows) => rows,
        Err(e) if is_lock_wait(&e) => return Ok(Locked::Held),
        Err(e) => return Err(e.into()),
    };
    instance.rows = meta_rows(rows)?;
    Ok(Locked::Rows(instance, updated_at))
}

/// Repairs the instances `ids` in one transaction, journal line `batch`.
pub fn apply(
    conn: &mut mysql::Conn,
    cell: &Cell,
    s: &Settings<'_>,
    ids: &[u64],
    batch: u64,
) -> Result<Applied, WriteError> {
    let mut tx = conn.start_transaction(TxOpts::default())?;
    let mut applied = Applied::default();
    let mut lines: Vec<Line> = Vec::new();
    // Lines whose `after` is read back once the batch is written.
    let mut read_back: Vec<usize> = Vec::new();
    for &id in ids {
        let (instance, updated_at) = match lock(&mut tx, id, s)? {
            Locked::Held => {
                applied.locked.push(id);
                continue;
            }
            Locked::Gone => continue,
            Locked::Rows(instance, updated_at) => (instance, updated_at),
        };
        let plan = plan(&instance, s);
        if plan.actions.is_empty() {
            continue;
        }
        if instance.task_state.is_some() {
            applied.in_transition.push((instance.uuid.clone(), plan));
            continue;
        }
        let mut max_row_id = instance.rows.iter().map(|r| r.id).max().unwrap_or(0);
        for action in &plan.actions {
            let line = |op, before: Option<&MetaRow>, after: Option<MetaRow>| Line::Row {
                cell: cell.name.clone(),
                batch,
                op,
                before: before.cloned().map(Box::new),
                after: after.map(Box::new),
            };
            match action {
                Action::Update { row, new, .. } => {
                    tx.exec_drop(
                        "UPDATE instance_system_metadata SET value = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        (new, row.id),
                    )?;
                    applied.rows.0 += tx.affected_rows();
                    read_back.push(lines.len());
                    lines.push(line(Op::Update, Some(row), Some(placeholder(row.id))));
                }
                Action::Insert { key, value, .. } => {
                    tx.exec_drop(
                        "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
                         VALUES (UTC_TIMESTAMP(), 0, ?, ?, ?)",
                        (instance.uuid.as_str(), key.as_str(), value.as_str()),
                    )?;
                    let id = tx.last_insert_id().ok_or_else(|| {
                        WriteError::NotReadBack(format!(
                            "the row inserted for {key:?} of instance {} has no id",
                            instance.uuid
                        ))
                    })?;
                    applied.rows.1 += 1;
                    max_row_id = max_row_id.max(id);
                    read_back.push(lines.len());
                    lines.push(line(Op::Insert, None, Some(placeholder(id))));
                }
                Action::Delete { row, .. } => {
                    tx.exec_drop("DELETE FROM instance_system_metadata WHERE id = ?", (row.id,))?;
                    applied.rows.2 += tx.affected_rows();
                    lines.push(line(Op::Delete, Some(row), None));
                }
            }
        }
        // As Nova's save() of system metadata: the instance's updated_at
        // moves (set, and read back, for the whole batch below).
        lines.push(Line::Instance {
            cell: cell.name.clone(),
            batch,
            id: instance.id,
            uuid: instance.uuid.clone(),
            updated_at_before: updated_at,
            updated_at_after: None,
            max_row_id,
        });
        applied.repaired.push((instance.uuid, plan));
    }
    if lines.is_empty() {
        tx.rollback()?;
        return Ok(applied);
    }
    fill_after_images(&mut tx, &mut lines, &read_back)?;
    touch_instances(&mut tx, &mut lines)?;
    let count = lines.len() as u64;
    if let Some(journal) = s.journal {
        let mut journal = journal
            .lock()
            .map_err(|_| WriteError::Journal(std::io::Error::other("the journal's lock was poisoned")))?;
        // Synced before the commit: a batch that commits is journalled.
        journal.write(&lines).map_err(WriteError::Journal)?;
        tx.commit()?;
        journal
            .write(&[Line::Commit {
                cell: cell.name.clone(),
                batch,
                lines: count,
            }])
            .map_err(WriteError::Journal)?;
    } else {
        return Err(WriteError::Journal(std::io::Error::other("no journal is open")));
    }
    Ok(applied)
}

/// Sets `updated_at` of the batch's repaired instances, as Nova's save()
/// does, and reads it back for their journal lines, in two statements.
fn touch_instances(tx: &mut mysql::Transaction<'_>, lines: &mut [Line]) -> Result<(), WriteError> {
    let ids: Vec<Sql> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Instance { id, .. } => Some(Sql::from(*id)),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let placeholders = placeholders(ids.len());
    tx.exec_drop(
        format!("UPDATE instances SET updated_at = UTC_TIMESTAMP() WHERE id IN ({placeholders})"),
        Params::Positional(ids.clone()),
    )?;
    let now: HashMap<u64, Option<String>> = tx
        .exec::<(u64, Option<String>), _, _>(
            format!("SELECT id, CAST(updated_at AS CHAR) FROM instances WHERE id IN ({placeholders})"),
            Params::Positional(ids),
        )?
        .into_iter()
        .collect();
    for line in lines {
        if let Line::Instance {
            id, updated_at_after, ..
        } = line
        {
            *updated_at_after = now.get(id).cloned().flatten();
        }
    }
    Ok(())
}

/// A row to be replaced by what the database holds.
fn placeholder(id: u64) -> MetaRow {
    MetaRow {
        id,
        created_at: None,
        updated_at: None,
        deleted_at: None,
        key: String::new(),
        value: None,
        instance_uuid: String::new(),
        deleted: None,
    }
}

/// Reads back, in one query, every row the batch updated or inserted, as
/// the database wrote it (its times from the server). A row that cannot
/// be read back fails the batch: the journal must hold every row written.
fn fill_after_images(
    tx: &mut mysql::Transaction<'_>,
    lines: &mut [Line],
    which: &[usize],
) -> Result<(), WriteError> {
    if which.is_empty() {
        return Ok(());
    }
    let ids: Vec<u64> = which
        .iter()
        .filter_map(|&i| match &lines[i] {
            Line::Row { after: Some(a), .. } => Some(a.id),
            _ => None,
        })
        .collect();
    let placeholders = placeholders(ids.len());
    let rows: Vec<mysql::Row> = tx.exec(
        format!("SELECT {META_COLUMNS} FROM instance_system_metadata WHERE id IN ({placeholders})"),
        Params::Positional(ids.iter().map(|&id| Sql::from(id)).collect()),
    )?;
    let written: HashMap<u64, MetaRow> = meta_rows(rows)?.into_iter().map(|r| (r.id, r)).collect();
    for &i in which {
        if let Line::Row {
            after: Some(after), ..
        } = &mut lines[i]
        {
            **after = written.get(&after.id).cloned().ok_or_else(|| {
                WriteError::NotReadBack(format!("row {} was written but cannot be read back", after.id))
            })?;
        }
    }
    Ok(())
}
