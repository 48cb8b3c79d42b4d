//! `nova-sysmeta-db`: find, and repair, the instances of a Nova database
//! whose system metadata old Nova releases damaged (bug 1893618 first
//! among them), safely under a running Nova. See `--help` and this
//! package's README.

mod conf;
mod journal;

use std::collections::BTreeMap;
use std::error::Error;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use mysql::prelude::Queryable;
use mysql::{Params, TxOpts, Value as Sql};
use nova_sysmeta::audit::{Change, Finding, FindingKind, InstanceFacts, audit, repair};
use nova_sysmeta::{NovaConfig, Release, SystemMetadata};
use serde::Serialize;

use journal::{Journal, Line, META_COLUMNS, MetaRow, Op};

/// Find and repair Nova instances whose system metadata old Nova releases
/// damaged.
///
/// The databases come from `--url` (one cell) or from Nova's own
/// `--config-file` (its `[api_database]` gives every cell through
/// `cell_mappings`; else its `[database]`). Repairs are planned, never
/// written, unless `repair --apply` is given; every row a repair changes is
/// first written to a journal that `undo` replays backwards.
///
/// Exit codes: 0: completed, and findings were repaired (or, without
/// --apply, would be); 3: completed, but some instances were skipped
/// because they were in a transition (task_state set: run again later);
/// 4: completed, nothing to do; 127: invalid input; 255: an error (the
/// database, a file).
#[derive(Parser)]
#[command(name = "nova-sysmeta-db", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report what is wrong with each live instance's system metadata.
    Audit(Scan),
    /// Plan the repairs (a dry run, the default) or write them (--apply).
    Repair(RepairArgs),
    /// Put back the rows a repair journal recorded, newest first.
    Undo(UndoArgs),
}

#[derive(Args)]
struct Target {
    /// A cell database: `mysql://USER:PASS@HOST:PORT/DB`, or Nova's
    /// `mysql+pymysql://...` form.
    #[arg(long, env = "NOVA_DB_URL", conflicts_with = "config_file")]
    url: Option<String>,
    /// Nova's configuration file: `[api_database] connection` (every cell,
    /// from `cell_mappings`) or `[database] connection` (one cell).
    #[arg(long, value_name = "FILE")]
    config_file: Option<PathBuf>,
    /// Only the cells with this name (from `cell_mappings`; repeatable).
    #[arg(long = "cell", value_name = "NAME")]
    cells: Vec<String>,
}

#[derive(Args)]
struct Scan {
    #[command(flatten)]
    target: Target,
    /// Only these finding kinds (repeatable), e.g. missing_base_image_ref.
    #[arg(long = "only", value_name = "KIND", value_parser = parse_kind)]
    only: Vec<FindingKind>,
    /// Only this instance (repeatable).
    #[arg(long = "instance", value_name = "UUID")]
    instances: Vec<uuid::Uuid>,
    /// Only the instances of this project.
    #[arg(long)]
    project: Option<String>,
    /// The Nova release the cells run (16.0.0 to 34.x): which keys its
    /// snapshots inherit, and so which system-metadata keys would leak.
    #[arg(long, value_name = "VERSION", default_value_t = Release::LATEST)]
    release: Release,
    /// A Nova release the cells ran before (repeatable): a missing base
    /// image ref is then explained (lost by a rebuild before 21.2.1, or
    /// not by a rebuild at all).
    #[arg(long = "history", value_name = "VERSION")]
    history: Vec<Release>,
    /// Instances per batch (and per transaction), 1 to 5000.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5000))]
    batch_size: u32,
    /// Pause between batches, to spare a busy database.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    batch_delay_ms: u64,
    /// List findings and changes per instance.
    #[arg(long, short)]
    verbose: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RepairArgs {
    #[command(flatten)]
    scan: Scan,
    /// Write the repairs (without it: a dry run).
    #[arg(long)]
    apply: bool,
    /// The journal to write with --apply (default:
    /// `nova-sysmeta-db-journal-<time>.jsonl` in the current folder).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
}

#[derive(Args)]
struct UndoArgs {
    #[command(flatten)]
    target: Target,
    /// The journal a `repair --apply` wrote.
    #[arg(long, value_name = "FILE")]
    journal: PathBuf,
}

fn parse_kind(text: &str) -> Result<FindingKind, String> {
    serde_json::from_value(serde_json::Value::from(text))
        .map_err(|_| format!("unknown finding kind {text:?}"))
}

/// Why a run stopped.
enum Failure {
    /// Bad input (exit 127).
    Input(String),
    /// Anything else (exit 255).
    Other(Box<dyn Error + Send + Sync>),
}

impl Failure {
    /// Bad input, from a configuration or URL that cannot be used.
    fn input(e: conf::ConfError) -> Self {
        Failure::Input(e.0)
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Other(Box::new(e))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Audit(scan) => scan_all(scan, None),
        Command::Repair(args) => scan_all(&args.scan, Some(args)),
        Command::Undo(args) => undo(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Input(message)) => {
            eprintln!("nova-sysmeta-db: {message}");
            ExitCode::from(127)
        }
        Err(Failure::Other(e)) => {
            eprintln!("nova-sysmeta-db: {e}");
            ExitCode::from(255)
        }
    }
}

/// A cell database to work on.
struct Cell {
    name: String,
    connection: conf::Connection,
}

/// The cells `target` names.
fn cells(target: &Target) -> Result<Vec<Cell>, Failure> {
    let cell = |name: &str, connection: &str| -> Result<Cell, Failure> {
        Ok(Cell {
            name: name.to_owned(),
            connection: conf::connection(connection).map_err(Failure::input)?,
        })
    };
    let mut found = if let Some(url) = &target.url {
        vec![cell("default", url)?]
    } else if let Some(path) = &target.config_file {
        let text =
            std::fs::read_to_string(path).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
        let nova = conf::parse_nova_conf(&text);
        match (&nova.api_database, &nova.database) {
            (Some(api), _) => {
                let api = conf::connection(api).map_err(Failure::input)?;
                let mut conn = mysql::Conn::new(api.opts().map_err(Failure::input)?)?;
                let mappings: Vec<(Option<String>, String, String)> =
                    conn.query("SELECT name, uuid, database_connection FROM cell_mappings ORDER BY id")?;
                let mut cells = Vec::new();
                for (name, uuid, connection) in mappings {
                    let name = name.unwrap_or(uuid);
                    if connection.starts_with("none:") {
                        continue;
                    }
                    cells.push(cell(&name, &connection)?);
                }
                cells
            }
            (None, Some(db)) => vec![cell("default", db)?],
            (None, None) => {
                return Err(Failure::Input(format!(
                    "{}: no [api_database] or [database] connection",
                    path.display()
                )));
            }
        }
    } else {
        return Err(Failure::Input("give --url or --config-file".to_owned()));
    };
    if !target.cells.is_empty() {
        found.retain(|c| target.cells.contains(&c.name));
        if found.is_empty() {
            return Err(Failure::Input(format!("no cell named {:?}", target.cells)));
        }
    }
    Ok(found)
}

/// What one cell's run found and did.
#[derive(Default, Serialize)]
struct Report {
    cell: String,
    instances: u64,
    with_findings: u64,
    /// Instances left alone because a task was running on them.
    skipped_in_transition: u64,
    findings: BTreeMap<String, u64>,
    /// Rows updated, inserted and deleted (or that would be).
    rows_updated: u64,
    rows_inserted: u64,
    rows_deleted: u64,
    batches: u64,
    /// Batches retried after a deadlock or a lock wait timeout.
    retries: u64,
    seconds: f64,
    #[serde(skip)]
    verbose: Vec<String>,
}

/// The options of a scan, shared by the cells' threads.
struct Plan<'a> {
    scan: &'a Scan,
    apply: bool,
    journal: Option<std::sync::Mutex<Journal>>,
    config: NovaConfig,
    /// `--history` and `--release`, or nothing without `--history`.
    history: Vec<Release>,
}

fn scan_all(scan: &Scan, repair_args: Option<&RepairArgs>) -> Result<u8, Failure> {
    let cells = cells(&scan.target)?;
    let apply = repair_args.is_some_and(|r| r.apply);
    let journal_path = match repair_args {
        Some(r) if r.apply => Some(r.journal.clone().unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            PathBuf::from(format!("nova-sysmeta-db-journal-{now}.jsonl"))
        })),
        _ => None,
    };
    let journal = match &journal_path {
        Some(path) => Some(std::sync::Mutex::new(
            Journal::open(path).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?,
        )),
        None => None,
    };
    let plan = Plan {
        scan,
        apply,
        journal,
        config: NovaConfig::for_release(scan.release),
        history: if scan.history.is_empty() {
            Vec::new()
        } else {
            scan.history.iter().copied().chain([scan.release]).collect()
        },
    };
    let progress = Progress::new(std::io::stderr().is_terminal());
    // Cells in parallel, one thread each.
    let results: Vec<Result<Report, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = cells
            .iter()
            .map(|cell| {
                let (plan, progress) = (&plan, &progress);
                s.spawn(move || {
                    run_cell(cell, plan, progress).map_err(|e| format!("cell {}: {e}", cell.name))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a cell's thread failed".to_owned()))
            })
            .collect()
    });
    progress.finish();
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(report) => reports.push(report),
            Err(e) => errors.push(e),
        }
    }
    print_reports(
        scan,
        repair_args.is_some(),
        apply,
        journal_path.as_deref(),
        &reports,
        &errors,
    );
    if let Some(first) = errors.into_iter().next() {
        return Err(Failure::Other(first.into()));
    }
    let changes: u64 = reports
        .iter()
        .map(|r| r.rows_updated + r.rows_inserted + r.rows_deleted)
        .sum();
    let findings: u64 = reports.iter().map(|r| r.with_findings).sum();
    let skipped: u64 = reports.iter().map(|r| r.skipped_in_transition).sum();
    let something = if repair_args.is_some() {
        changes > 0
    } else {
        findings > 0
    };
    Ok(if skipped > 0 {
        3
    } else if something {
        0
    } else {
        4
    })
}

/// `id, uuid, image_ref, vm_state, task_state` of an `instances` row.
type InstanceRow = (u64, String, Option<String>, Option<String>, Option<String>);

/// One instance of a batch, with its live rows.
struct InstanceRows {
    uuid: String,
    facts: InstanceFacts,
    in_transition: bool,
    rows: Vec<MetaRow>,
}

/// The MySQL errors that a retry of the batch cures.
fn is_transient(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1213 || m.code == 1205)
}

fn run_cell(
    cell: &Cell,
    plan: &Plan<'_>,
    progress: &Progress,
) -> Result<Report, Box<dyn Error + Send + Sync>> {
    let started = Instant::now();
    let mut conn = mysql::Conn::new(cell.connection.opts()?)?;
    let mut report = Report {
        cell: cell.name.clone(),
        ..Report::default()
    };
    let mut last_id: u64 = 0;
    loop {
        let mut attempt = 0;
        let next = loop {
            match run_batch(&mut conn, cell, plan, last_id, &mut report) {
                Ok(next) => break next,
                Err(e) if is_transient(&e) && attempt < 6 => {
                    // A deadlock or lock wait with a running Nova: the
                    // batch rolled back; wait and run it again.
                    attempt += 1;
                    report.retries += 1;
                    std::thread::sleep(Duration::from_millis(50 << attempt));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let Some(next) = next else { break };
        last_id = next;
        report.batches += 1;
        progress.batch(&cell.name, report.instances);
        if plan.scan.batch_delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(plan.scan.batch_delay_ms));
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The next batch after `last_id`: audited and, with --apply, repaired in
/// one transaction, the instances' rows and their metadata locked together
/// (so that the facts the repair acts on are those of the rows it writes).
/// `Ok(None)` when there are no more instances. The report is updated only
/// when the batch is done.
fn run_batch(
    conn: &mut mysql::Conn,
    cell: &Cell,
    plan: &Plan<'_>,
    last_id: u64,
    report: &mut Report,
) -> mysql::Result<Option<u64>> {
    let scan = plan.scan;
    let mut tx = conn.start_transaction(TxOpts::default())?;
    let lock = if plan.apply { " FOR UPDATE" } else { "" };
    let mut conditions = String::from("deleted = 0 AND id > ?");
    let mut params: Vec<Sql> = vec![Sql::from(last_id)];
    if let Some(project) = &scan.project {
        conditions.push_str(" AND project_id = ?");
        params.push(Sql::from(project.as_str()));
    }
    if !scan.instances.is_empty() {
        conditions.push_str(&format!(
            " AND uuid IN ({})",
            vec!["?"; scan.instances.len()].join(", ")
        ));
        params.extend(scan.instances.iter().map(|u| Sql::from(u.to_string())));
    }
    params.push(Sql::from(u64::from(scan.batch_size)));
    let rows: Vec<InstanceRow> = tx.exec(
        format!(
            "SELECT id, uuid, image_ref, vm_state, task_state FROM instances WHERE {conditions} \
             ORDER BY id LIMIT ?{lock}"
        ),
        Params::Positional(params),
    )?;
    let Some(next_id) = rows.last().map(|r| r.0) else {
        tx.rollback()?;
        return Ok(None);
    };
    let mut instances: Vec<InstanceRows> = rows
        .into_iter()
        .map(|(_, uuid, image_ref, vm_state, task_state)| {
            let mut facts = InstanceFacts::new();
            facts.uuid = uuid.parse().ok();
            facts.image_ref = image_ref;
            facts.vm_state = vm_state;
            facts.release_history.clone_from(&plan.history);
            InstanceRows {
                uuid,
                facts,
                in_transition: task_state.is_some(),
                rows: Vec::new(),
            }
        })
        .collect();
    // The database matches UUIDs as its collation does (case and trailing
    // blanks ignored): the rows are matched back the same way.
    let index: BTreeMap<String, usize> = instances
        .iter()
        .enumerate()
        .map(|(n, i)| (uuid_key(&i.uuid), n))
        .collect();
    let placeholders = vec!["?"; instances.len()].join(", ");
    let meta: Vec<mysql::Row> = tx.exec(
        format!(
            "SELECT {META_COLUMNS} FROM instance_system_metadata \
             WHERE deleted = 0 AND instance_uuid IN ({placeholders}) ORDER BY id{lock}"
        ),
        Params::Positional(instances.iter().map(|i| Sql::from(i.uuid.as_str())).collect()),
    )?;
    for row in meta {
        let row = MetaRow::from_sql(row).map_err(|e| mysql::Error::FromRowError(e.0))?;
        if let Some(&n) = index.get(&uuid_key(&row.instance_uuid)) {
            instances[n].rows.push(row);
        }
    }

    let mut batch = Report::default();
    let mut lines = Vec::new();
    let batch_number = report.batches + 1;
    for instance in &instances {
        batch.instances += 1;
        if instance.in_transition {
            batch.skipped_in_transition += 1;
            if scan.verbose {
                batch.verbose.push(format!(
                    "{} skipped: a task is running on it",
                    escape(&instance.uuid)
                ));
            }
            continue;
        }
        let map = to_map(&instance.rows);
        let findings: Vec<Finding> = audit(&map, &instance.facts, &plan.config)
            .into_iter()
            .filter(|f| scan.only.is_empty() || scan.only.contains(&f.kind))
            .collect();
        if findings.is_empty() {
            continue;
        }
        batch.with_findings += 1;
        for f in &findings {
            *batch.findings.entry(f.kind.to_string()).or_default() += 1;
        }
        let changes: Vec<Change> = repair(&map, &instance.facts, &plan.config)
            .changes
            .into_iter()
            .filter(|c| scan.only.is_empty() || scan.only.contains(&c.fixes))
            .collect();
        if scan.verbose {
            describe(&mut batch.verbose, &instance.uuid, &findings, &changes);
        }
        let written = if plan.apply {
            write_changes(&mut tx, instance, &changes, &cell.name, batch_number, &mut lines)?
        } else {
            planned(instance, &changes)
        };
        batch.rows_updated += written.0;
        batch.rows_inserted += written.1;
        batch.rows_deleted += written.2;
    }
    if plan.apply {
        if let Some(journal) = &plan.journal {
            // The rows go to the journal, synced, before the batch commits.
            read_back_inserts(&mut tx, &mut lines)?;
            let mut journal = journal
                .lock()
                .map_err(|_| io_error("the journal's lock was poisoned"))?;
            journal.write_batch(&lines).map_err(mysql::Error::IoError)?;
        }
        tx.commit()?;
    } else {
        tx.rollback()?;
    }
    report.instances += batch.instances;
    report.with_findings += batch.with_findings;
    report.skipped_in_transition += batch.skipped_in_transition;
    for (kind, n) in batch.findings {
        *report.findings.entry(kind).or_default() += n;
    }
    report.rows_updated += batch.rows_updated;
    report.rows_inserted += batch.rows_inserted;
    report.rows_deleted += batch.rows_deleted;
    report.verbose.extend(batch.verbose);
    Ok(Some(next_id))
}

/// Replaces the batch's insert lines with the rows as the database wrote
/// them, read in one query (not one per insert); an insert whose row cannot
/// be read back is left out of the journal.
fn read_back_inserts(tx: &mut mysql::Transaction, lines: &mut Vec<Line>) -> mysql::Result<()> {
    let ids: Vec<Sql> = lines
        .iter()
        .filter(|l| l.op == Op::Insert)
        .map(|l| Sql::from(l.row.id))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let placeholders = vec!["?"; ids.len()].join(", ");
    let rows: Vec<mysql::Row> = tx.exec(
        format!("SELECT {META_COLUMNS} FROM instance_system_metadata WHERE id IN ({placeholders})"),
        Params::Positional(ids),
    )?;
    let mut written = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        let row = MetaRow::from_sql(row).map_err(|e| mysql::Error::FromRowError(e.0))?;
        written.insert(row.id, row);
    }
    lines.retain_mut(|line| {
        if line.op != Op::Insert {
            return true;
        }
        match written.remove(&line.row.id) {
            Some(row) => {
                line.row = row;
                true
            }
            None => false,
        }
    });
    Ok(())
}

fn io_error(message: &str) -> mysql::Error {
    mysql::Error::IoError(std::io::Error::other(message.to_owned()))
}

/// A UUID as the database's collation compares it.
fn uuid_key(uuid: &str) -> String {
    uuid.trim_end_matches(' ').to_ascii_lowercase()
}

/// The map Nova builds from live rows (later rows win; a NULL value is a
/// null entry, as in Nova's `DictOfNullableStringsField`).
fn to_map(rows: &[MetaRow]) -> SystemMetadata {
    rows.iter().map(|row| (&row.key, row.value.as_deref())).collect()
}

/// What a change does to the instance's live rows of its key.
enum RowAction<'a> {
    /// A new value for every row of the key.
    Update(&'a str, Vec<&'a MetaRow>),
    /// A new row: the key has none.
    Insert(&'a str),
    /// Every row of the key removed.
    Delete(Vec<&'a MetaRow>),
}

impl<'a> RowAction<'a> {
    fn of(instance: &'a InstanceRows, change: &'a Change) -> Self {
        let rows: Vec<&MetaRow> = instance.rows.iter().filter(|r| r.key == change.key).collect();
        match change.new.as_deref() {
            Some(new) if rows.is_empty() => RowAction::Insert(new),
            Some(new) => RowAction::Update(new, rows),
            None => RowAction::Delete(rows),
        }
    }
}

/// The rows `changes` would update, insert and delete.
fn planned(instance: &InstanceRows, changes: &[Change]) -> (u64, u64, u64) {
    let mut counts = (0, 0, 0);
    for change in changes {
        match RowAction::of(instance, change) {
            RowAction::Update(_, rows) => counts.0 += rows.len() as u64,
            RowAction::Insert(_) => counts.1 += 1,
            RowAction::Delete(rows) => counts.2 += rows.len() as u64,
        }
    }
    counts
}

/// Writes one instance's changes as Nova's `Instance.save()` would, and
/// records each row in `lines` for the journal: rows updated and deleted
/// as they were, rows inserted as written.
fn write_changes(
    tx: &mut mysql::Transaction,
    instance: &InstanceRows,
    changes: &[Change],
    cell: &str,
    batch: u64,
    lines: &mut Vec<Line>,
) -> mysql::Result<(u64, u64, u64)> {
    let mut counts = (0, 0, 0);
    let line = |op, row: &MetaRow| Line {
        cell: cell.to_owned(),
        batch,
        op,
        row: row.clone(),
    };
    for change in changes {
        match RowAction::of(instance, change) {
            RowAction::Update(new, rows) => {
                for row in rows {
                    lines.push(line(Op::Update, row));
                    tx.exec_drop(
                        "UPDATE instance_system_metadata SET value = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        (new, row.id),
                    )?;
                    counts.0 += tx.affected_rows();
                }
            }
            RowAction::Insert(new) => {
                tx.exec_drop(
                    "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
                     VALUES (UTC_TIMESTAMP(), 0, ?, ?, ?)",
                    (instance.uuid.as_str(), change.key.as_str(), new),
                )?;
                // The row as written (its created_at from the server) is
                // read back with the batch's other inserts: see
                // `read_back_inserts`.
                let inserted = MetaRow {
                    id: tx.last_insert_id().unwrap_or(0),
                    created_at: None,
                    updated_at: None,
                    deleted_at: None,
                    key: change.key.clone(),
                    value: Some(new.to_owned()),
                    instance_uuid: instance.uuid.clone(),
                    deleted: Some(0),
                };
                lines.push(line(Op::Insert, &inserted));
                counts.1 += 1;
            }
            RowAction::Delete(rows) => {
                for row in rows {
                    lines.push(line(Op::Delete, row));
                    tx.exec_drop("DELETE FROM instance_system_metadata WHERE id = ?", (row.id,))?;
                    counts.2 += tx.affected_rows();
                }
            }
        }
    }
    Ok(counts)
}

/// Text from the database, made safe to print for people: control
/// characters (a newline, an escape sequence) are escaped, so a key cannot
/// forge report lines or colour the terminal.
fn escape(text: &str) -> String {
    text.escape_debug().to_string()
}

fn describe(out: &mut Vec<String>, uuid: &str, findings: &[Finding], changes: &[Change]) {
    let uuid = escape(uuid);
    for f in findings {
        let key = f.key.as_deref().map_or_else(|| "-".to_owned(), escape);
        out.push(format!(
            "{uuid} {:?} {} {key}: {}",
            f.severity,
            f.kind,
            escape(&f.message)
        ));
    }
    for c in changes {
        let show = |v: &Option<String>| {
            v.as_deref()
                .map_or_else(|| "(none)".to_owned(), |v| format!("\"{}\"", escape(v)))
        };
        out.push(format!(
            "{uuid} change {}: {} -> {} (fixes {})",
            escape(&c.key),
            show(&c.old),
            show(&c.new),
            c.fixes
        ));
    }
}

fn print_reports(
    scan: &Scan,
    is_repair: bool,
    applied: bool,
    journal: Option<&Path>,
    reports: &[Report],
    errors: &[String],
) {
    let mut out = std::io::stdout().lock();
    if scan.json {
        #[derive(Serialize)]
        struct Json<'a> {
            command: &'static str,
            applied: bool,
            journal: Option<String>,
            cells: &'a [Report],
            errors: &'a [String],
        }
        let json = Json {
            command: if is_repair { "repair" } else { "audit" },
            applied,
            journal: journal.map(|p| p.display().to_string()),
            cells: reports,
            errors,
        };
        let _ = serde_json::to_writer_pretty(&mut out, &json);
        let _ = writeln!(out);
        return;
    }
    for report in reports {
        for line in &report.verbose {
            let _ = writeln!(out, "{line}");
        }
        let mode = match (is_repair, applied) {
            (false, _) => "audit",
            (true, false) => "repair (dry run)",
            (true, true) => "repair (applied)",
        };
        let _ = writeln!(
            out,
            "nova-sysmeta-db {mode}, cell {}: {} instances audited, {} with findings, {} skipped in a transition ({:.1} s)",
            escape(&report.cell),
            report.instances,
            report.with_findings,
            report.skipped_in_transition,
            report.seconds
        );
        for (kind, n) in &report.findings {
            let _ = writeln!(out, "  {kind:<26} {n}");
        }
        if is_repair {
            let verb = if applied {
                "written"
            } else {
                "planned (run with --apply to write them)"
            };
            let _ = writeln!(
                out,
                "rows {verb}: {} updated, {} inserted, {} deleted, in {} batches ({} retried)",
                report.rows_updated,
                report.rows_inserted,
                report.rows_deleted,
                report.batches,
                report.retries
            );
        }
    }
    if let Some(path) = journal {
        let _ = writeln!(
            out,
            "journal: {} (undo with: nova-sysmeta-db undo --journal ...)",
            path.display()
        );
    }
    for e in errors {
        let _ = writeln!(out, "error: {}", escape(e));
    }
}

/// Progress on standard error: on a terminal, a bar per cell (indicatif);
/// elsewhere, a line a batch.
struct Progress {
    bars: Option<indicatif::MultiProgress>,
    cells: std::sync::Mutex<BTreeMap<String, indicatif::ProgressBar>>,
}

impl Progress {
    fn new(terminal: bool) -> Self {
        Self {
            bars: terminal.then(indicatif::MultiProgress::new),
            cells: std::sync::Mutex::new(BTreeMap::new()),
        }
    }

    fn batch(&self, cell: &str, instances: u64) {
        let cell = escape(cell);
        let Some(bars) = &self.bars else {
            eprintln!("cell {cell}: {instances} instances audited");
            return;
        };
        let Ok(mut cells) = self.cells.lock() else { return };
        let bar = cells.entry(cell.clone()).or_insert_with(|| {
            let bar = bars.add(indicatif::ProgressBar::new_spinner());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        });
        bar.set_message(format!("cell {cell}: {instances} instances audited"));
        bar.tick();
    }

    fn finish(&self) {
        if let Ok(cells) = self.cells.lock() {
            for bar in cells.values() {
                bar.finish();
            }
        }
    }
}

fn undo(args: &UndoArgs) -> Result<u8, Failure> {
    let lines = journal::read(&args.journal)
        .map_err(|e| Failure::Input(format!("{}: {e}", args.journal.display())))?;
    let cells = cells(&args.target)?;
    let mut restored_total = 0;
    for cell in &cells {
        let of_cell: Vec<&Line> = lines.iter().filter(|l| l.cell == cell.name).collect();
        if of_cell.is_empty() {
            continue;
        }
        let mut conn = mysql::Conn::new(cell.connection.opts().map_err(Failure::input)?)?;
        let restored = journal::undo(&mut conn, &of_cell)?;
        println!(
            "nova-sysmeta-db undo, cell {}: {} rows put back",
            escape(&cell.name),
            restored
        );
        restored_total += restored;
    }
    Ok(if restored_total > 0 { 0 } else { 4 })
}
