//! Reading a cell as Nova reads it, and planning its repairs.
//!
//! Nova reads *every* `instance_system_metadata` row of an instance,
//! soft-deleted ones included: the `system_metadata` relationship of
//! `nova/db/main/models.py` has no `deleted` filter and
//! `nova.utils.instance_sys_meta` calls `metadata_to_dict(...,
//! include_deleted=True)`. Rows that releases before the hard delete
//! (see `_instance_metadata_update_in_place`) soft-deleted are therefore
//! still part of the instance, and where a live and a soft-deleted row
//! share a key, which one Nova sees depends on the order of a query
//! without `ORDER BY`. The plan reports each such row and removes it as
//! Nova's own code would have: a hard delete.
//!
//! Batches are read without locks (READ COMMITTED: no gap locks, no
//! waiting on Nova); only the instances that need a repair are locked,
//! one by one, by primary key, when it is written (`write.rs`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Params, Value as Sql};
use nova_sysmeta::audit::{self, InstanceFacts, Severity};
use nova_sysmeta::{NovaConfig, Release, SystemMetadata};

use crate::cells::{self, Cell};
use crate::cli::{Kind, Scan, Timeouts};
use crate::journal::{META_COLUMNS, MetaRow};
use crate::report::{ChangeLine, FindingLine, InstanceLine, Mode, Output, Progress, Report};
use crate::write::{self, Applied};

/// An instance with every one of its metadata rows.
#[derive(Debug, Clone)]
pub struct InstanceRows {
    pub id: u64,
    pub uuid: String,
    pub facts: InstanceFacts,
    pub task_state: Option<String>,
    pub rows: Vec<MetaRow>,
}

/// A finding, the library's or the tool's own (`soft_deleted_row`).
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: &'static str,
    pub severity: Severity,
    pub key: Option<String>,
    pub message: String,
}

/// A row to write.
#[derive(Debug, Clone)]
pub enum Action {
    /// Set the value of an existing live row.
    Update {
        row: MetaRow,
        new: String,
        fixes: &'static str,
    },
    /// Add a live row.
    Insert {
        key: String,
        value: String,
        fixes: &'static str,
    },
    /// Remove a row (hard delete, as Nova does).
    Delete { row: MetaRow, fixes: &'static str },
}

/// What an instance needs.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub findings: Vec<Finding>,
    pub actions: Vec<Action>,
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "info",
    }
}

impl Plan {
    /// The instance's line for `--verbose`.
    pub fn line<'a>(
        &'a self,
        cell: &'a str,
        uuid: &'a str,
        skipped: Option<&'static str>,
    ) -> InstanceLine<'a> {
        InstanceLine {
            kind: "instance",
            cell,
            uuid,
            findings: self
                .findings
                .iter()
                .map(|f| FindingLine {
                    kind: f.kind,
                    severity: severity_name(f.severity),
                    key: f.key.as_deref(),
                    message: &f.message,
                })
                .collect(),
            changes: self
                .actions
                .iter()
                .map(|a| match a {
                    Action::Update { row, new, fixes } => ChangeLine {
                        key: &row.key,
                        action: "update",
                        old: row.value.as_deref(),
                        new: Some(new),
                        soft_deleted_row: false,
                        fixes,
                    },
                    Action::Insert { key, value, fixes } => ChangeLine {
                        key,
                        action: "insert",
                        old: None,
                        new: Some(value),
                        soft_deleted_row: false,
                        fixes,
                    },
                    Action::Delete { row, fixes } => ChangeLine {
                        key: &row.key,
                        action: "delete",
                        old: row.value.as_deref(),
                        new: None,
                        soft_deleted_row: !row.is_live(),
                        fixes,
                    },
                })
                .collect(),
            skipped,
        }
    }
}

/// The tool's settings for a run.
pub struct Settings<'a> {
    pub scan: &'a Scan,
    pub mode: Mode,
    pub config: NovaConfig,
    /// `--history` and `--release`, or nothing without `--history`.
    pub history: Vec<Release>,
    pub timeouts: Timeouts,
    pub journal: Option<&'a std::sync::Mutex<crate::journal::Journal>>,
    pub output: &'a Output,
    pub progress: &'a Progress,
}

impl Settings<'_> {
    fn wants(&self, kind: &str) -> bool {
        self.scan.only.is_empty() || self.scan.only.iter().any(|k| k.as_str() == kind)
    }
}

/// What `instance` needs: the findings on its rows as Nova reads them, and
/// the row writes that repair them.
pub fn plan(instance: &InstanceRows, s: &Settings<'_>) -> Plan {
    let mut plan = Plan::default();
    let live: Vec<&MetaRow> = instance.rows.iter().filter(|r| r.is_live()).collect();
    let soft_kind = Kind::SoftDeletedRow.as_str();
    if s.wants(soft_kind) {
        for row in instance.rows.iter().filter(|r| !r.is_live()) {
            let shadowed = live.iter().find(|l| l.key == row.key);
            let (severity, what) = match shadowed {
                Some(l) if l.value == row.value => (Severity::Warning, "beside a live row of the same value"),
                Some(_) => (
                    Severity::Error,
                    "beside a live row of another value: which one Nova reads depends on the database's row order",
                ),
                None => (
                    Severity::Error,
                    "and no live row has this key: Nova reads this value",
                ),
            };
            plan.findings.push(Finding {
                kind: soft_kind,
                severity,
                key: Some(row.key.clone()),
                message: format!(
                    "row {} was soft-deleted{} by an old release, yet Nova reads it ({what})",
                    row.id,
                    row.deleted_at
                        .as_deref()
                        .map(|t| format!(" at {t}"))
                        .unwrap_or_default()
                ),
            });
            plan.actions.push(Action::Delete {
                row: row.clone(),
                fixes: soft_kind,
            });
        }
    }
    // The instance as it is once those rows are gone: its live rows (a
    // later row wins, as in Nova's dict).
    let map: SystemMetadata = live
        .iter()
        .map(|r| (r.key.as_str(), r.value.as_deref()))
        .collect();
    for f in audit::findings(&map, &instance.facts, &s.config) {
        let kind = f.kind.as_str();
        if s.wants(kind) {
            plan.findings.push(Finding {
                kind,
                severity: f.severity,
                key: f.key,
                message: f.message,
            });
        }
    }
    for change in audit::repair(&map, &instance.facts, &s.config).changes {
        let fixes = change.fixes.as_str();
        if !s.wants(fixes) {
            continue;
        }
        let rows: Vec<&MetaRow> = live.iter().copied().filter(|r| r.key == change.key).collect();
        match change.new {
            Some(new) if rows.is_empty() => plan.actions.push(Action::Insert {
                key: change.key,
                value: new,
                fixes,
            }),
            Some(new) => plan.actions.extend(rows.into_iter().map(|row| Action::Update {
                row: row.clone(),
                new: new.clone(),
                fixes,
            })),
            None => plan.actions.extend(rows.into_iter().map(|row| Action::Delete {
                row: row.clone(),
                fixes,
            })),
        }
    }
    plan
}

/// `id, uuid, image_ref, vm_state, task_state` of an `instances` row.
pub type InstanceRow = (u64, String, Option<String>, Option<String>, Option<String>);

pub const INSTANCE_COLUMNS: &str = "id, uuid, image_ref, vm_state, task_state";

impl InstanceRows {
    pub fn new((id, uuid, image_ref, vm_state, task_state): InstanceRow, history: &[Release]) -> Self {
        let mut facts = InstanceFacts::new();
        facts.uuid = uuid.parse().ok();
        facts.image_ref = image_ref;
        facts.vm_state = vm_state;
        facts.release_history = history.to_vec();
        Self {
            id,
            uuid,
            facts,
            task_state,
            rows: Vec::new(),
        }
    }
}

/// `?, ?, ...`: `n` placeholders for an `IN (...)` list.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A UUID as the database's collation compares it (case and trailing
/// blanks ignored).
pub fn uuid_key(uuid: &str) -> String {
    uuid.trim_end_matches(' ').to_ascii_lowercase()
}

/// The next batch of live instances after `last_id`, with all their rows,
/// read without locks.
fn read_batch(conn: &mut mysql::Conn, s: &Settings<'_>, last_id: u64) -> mysql::Result<Vec<InstanceRows>> {
    let scan = s.scan;
    let mut conditions = String::from("deleted = 0 AND id > ?");
    let mut params: Vec<Sql> = vec![Sql::from(last_id)];
    if let Some(project) = &scan.project {
        conditions.push_str(" AND project_id = ?");
        params.push(Sql::from(project.as_str()));
    }
    if !scan.instances.is_empty() {
        conditions.push_str(&format!(" AND uuid IN ({})", placeholders(scan.instances.len())));
        params.extend(scan.instances.iter().map(|u| Sql::from(u.to_string())));
    }
    params.push(Sql::from(u64::from(scan.batch_size)));
    let rows: Vec<InstanceRow> = conn.exec(
        format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE {conditions} ORDER BY id LIMIT ?"),
        Params::Positional(params),
    )?;
    let mut instances: Vec<InstanceRows> = rows
        .into_iter()
        .map(|r| InstanceRows::new(r, &s.history))
        .collect();
    if instances.is_empty() {
        return Ok(instances);
    }
    let index: BTreeMap<String, usize> = instances
        .iter()
        .enumerate()
        .map(|(n, i)| (uuid_key(&i.uuid), n))
        .collect();
    let placeholders = placeholders(instances.len());
    let meta: Vec<mysql::Row> = conn.exec(
        format!("SELECT {META_COLUMNS} FROM instance_system_metadata WHERE instance_uuid IN ({placeholders}) ORDER BY id"),
        Params::Positional(instances.iter().map(|i| Sql::from(i.uuid.as_str())).collect()),
    )?;
    for row in meta {
        let row = MetaRow::from_sql(row).map_err(|e| mysql::Error::FromRowError(e.0))?;
        if let Some(&n) = index.get(&uuid_key(&row.instance_uuid)) {
            instances[n].rows.push(row);
        }
    }
    Ok(instances)
}

/// The MySQL errors that a retry of the batch cures.
pub fn is_transient(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1213 || m.code == 1205)
}

/// Runs one cell to the end. A failure is recorded in the report (the
/// other cells go on).
pub fn run_cell(cell: &Cell, s: &Settings<'_>) -> Report {
    let started = Instant::now();
    let mut report = Report {
        cell: cell.name.clone(),
        cell_uuid: cell.uuid.clone(),
        disabled: cell.disabled,
        ..Report::default()
    };
    if let Err(e) = scan_cell(cell, s, &mut report) {
        report.error = Some(e);
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

fn scan_cell(cell: &Cell, s: &Settings<'_>, report: &mut Report) -> Result<(), String> {
    let lock_wait = (s.mode == Mode::Applied).then_some(s.scan.lock_wait);
    let mut conn = cells::connect(&cell.connection, s.timeouts, lock_wait)?;
    let mut last_id = 0;
    let mut locked: Vec<u64> = Vec::new();
    // The UUIDs of the instances locked, for the report.
    let mut locked_uuids: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    // Each write transaction's number in the journal.
    let mut txn = 0;
    loop {
        let instances = read_batch(&mut conn, s, last_id).map_err(|e| e.to_string())?;
        let Some(last) = instances.last() else { break };
        last_id = last.id;
        report.batches += 1;
        let mut batch = Report::default();
        let mut candidates = Vec::new();
        for instance in &instances {
            batch.instances += 1;
            let plan = plan(instance, s);
            if !plan.findings.is_empty() {
                batch.with_findings += 1;
                for f in &plan.findings {
                    *batch.findings.entry(f.kind.to_owned()).or_default() += 1;
                }
            }
            let needs_repair = !plan.actions.is_empty();
            // An audit reads every instance; a repair leaves those with a
            // task alone (as `nova-manage placement heal_allocations`).
            let skipped = (needs_repair && instance.task_state.is_some() && s.mode != Mode::Audit)
                .then_some("in_transition");
            if needs_repair {
                batch.to_repair += 1;
                if skipped.is_some() {
                    batch.skipped_in_transition += 1;
                } else if s.mode == Mode::Applied {
                    candidates.push(instance.id);
                } else {
                    batch.repaired += u64::from(s.mode == Mode::DryRun);
                    count_rows(&plan, &mut batch);
                }
            }
            let show_now = s.mode != Mode::Applied || !needs_repair || skipped.is_some();
            if s.scan.verbose && show_now && (!plan.findings.is_empty() || skipped.is_some()) {
                s.output.instance(&plan.line(&cell.name, &instance.uuid, skipped));
            }
        }
        report.add(&batch);
        if !candidates.is_empty() {
            let applied = apply_with_retries(&mut conn, cell, s, &candidates, report, &mut txn)?;
            locked.extend(applied.locked.iter().copied());
            for id in &applied.locked {
                if let Some(i) = instances.iter().find(|i| i.id == *id) {
                    locked_uuids.insert(*id, i.uuid.clone());
                }
            }
            account(&applied, cell, s, report);
        }
        s.progress.batch(&cell.name, report.instances);
        if s.scan.batch_delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(s.scan.batch_delay_ms));
        }
    }
    // Instances whose rows Nova held locked: a few more tries, then
    // reported (exit 3: run again later).
    for pause in [1, 2, 4] {
        if locked.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_secs(pause));
        let applied = apply_with_retries(&mut conn, cell, s, &locked, report, &mut txn)?;
        locked.clone_from(&applied.locked);
        account(&applied, cell, s, report);
    }
    report.skipped_locked += locked.len() as u64;
    if s.scan.verbose {
        for id in &locked {
            let uuid = locked_uuids
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("(instance id {id})"));
            s.output
                .instance(&Plan::default().line(&cell.name, &uuid, Some("locked")));
        }
    }
    Ok(())
}

fn count_rows(plan: &Plan, report: &mut Report) {
    for action in &plan.actions {
        match action {
            Action::Update { .. } => report.rows_updated += 1,
            Action::Insert { .. } => report.rows_inserted += 1,
            Action::Delete { .. } => report.rows_deleted += 1,
        }
    }
}

/// What a written batch adds to the report and the verbose output.
fn account(applied: &Applied, cell: &Cell, s: &Settings<'_>, report: &mut Report) {
    report.repaired += applied.repaired.len() as u64;
    report.skipped_in_transition += applied.in_transition.len() as u64;
    report.rows_updated += applied.rows.0;
    report.rows_inserted += applied.rows.1;
    report.rows_deleted += applied.rows.2;
    if s.scan.verbose {
        for (uuid, plan) in &applied.repaired {
            s.output.instance(&plan.line(&cell.name, uuid, None));
        }
        for (uuid, plan) in &applied.in_transition {
            s.output
                .instance(&plan.line(&cell.name, uuid, Some("in_transition")));
        }
    }
}

/// Writes the repairs of `ids` in one transaction, retried after a
/// deadlock with a growing pause, up to six times.
fn apply_with_retries(
    conn: &mut mysql::Conn,
    cell: &Cell,
    s: &Settings<'_>,
    ids: &[u64],
    report: &mut Report,
    txn: &mut u64,
) -> Result<Applied, String> {
    let mut attempt = 0;
    loop {
        *txn += 1;
        match write::apply(conn, cell, s, ids, *txn) {
            Ok(applied) => return Ok(applied),
            Err(write::WriteError::Database(e)) if is_transient(&e) && attempt < 6 => {
                attempt += 1;
                report.retries += 1;
                std::thread::sleep(Duration::from_millis(50 << attempt));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
