//! `nova-sysmeta-db`: find, and repair, the instances of a Nova database
//! whose system metadata old Nova releases damaged (bug 1893618 first
//! among them), safely beside a running Nova. See `--help` and this
//! package's README.
//!
//! The modules: `cli` (arguments), `conf` (nova.conf and connection
//! URLs), `cells` (which databases, and connecting), `scan` (reading and
//! planning), `images` (the snapshots in Glance), `write` (locking and writing), `journal`, `undo`, `report`.

mod cells;
mod cli;
mod conf;
mod glance;
mod image_property;
mod images;
mod journal;
mod report;
mod scan;
mod undo;
mod write;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use nova_sysmeta::NovaConfig;
use serde::Serialize;

use cells::{Cell, Cells, DiscoveryError};
use cli::{Command, ImagesCommand, Target, Where};
use report::{Mode, Output, Progress, Report, escape};

/// The exit codes (see `cli::EXIT_CODES`).
mod code {
    pub const DONE: u8 = 0;
    pub const SKIPPED: u8 = 3;
    pub const NOTHING: u8 = 4;
    pub const CONFLICTS: u8 = 5;
    pub const CELLS_FAILED: u8 = 6;
    pub const INPUT: u8 = 127;
    pub const ERROR: u8 = 255;
}

/// Why a run stopped before it could work.
enum Failure {
    /// Bad input (exit 127).
    Input(String),
    /// Anything else (exit 255).
    Other(String),
}

impl From<DiscoveryError> for Failure {
    fn from(e: DiscoveryError) -> Self {
        match e {
            DiscoveryError::Input(e) => Failure::Input(e.0),
            DiscoveryError::Database(e) => Failure::Other(e),
        }
    }
}

fn main() -> ExitCode {
    // Two TLS providers are built in (ring for the database driver,
    // aws-lc-rs for openstack_sdk's HTTP client): name the one to use, or
    // rustls would refuse to choose at the first TLS connection.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (cli, place) = cli::parse();
    let result = match &cli.command {
        Command::Audit(scan) => scan_all(scan, &place, Mode::Audit, None),
        Command::Repair(args) => {
            let mode = if args.apply { Mode::Applied } else { Mode::DryRun };
            scan_all(&args.scan, &place, mode, args.journal.clone())
        }
        Command::Undo(args) => undo(args, &place),
        Command::Cells(args) => list_cells(&args.target, &place, args.json),
        Command::Images(ImagesCommand::Audit(args)) => images_run(args, &place, None),
        Command::Images(ImagesCommand::Repair(args)) => images_run(&args.audit, &place, Some(args)),
        Command::Images(ImagesCommand::Undo(args)) => images_undo(args),
        Command::ImageProperty(cli::ImagePropertyCommand::Show(args)) => property_show(args, &place),
        Command::ImageProperty(cli::ImagePropertyCommand::Set(args)) => property_set(args, &place),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Input(message)) => {
            eprintln!("nova-sysmeta-db: {message}");
            ExitCode::from(code::INPUT)
        }
        Err(Failure::Other(message)) => {
            eprintln!("nova-sysmeta-db: {message}");
            ExitCode::from(code::ERROR)
        }
    }
}

/// Runs `work` on each item, at most `jobs` at once, calling `done` with
/// each result as it comes.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: u64,
    work: impl Fn(&T) -> R + Sync,
    done: impl Fn(R) + Sync,
) {
    let next = AtomicUsize::new(0);
    let workers = usize::try_from(jobs).unwrap_or(1).clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    done(work(item));
                }
            });
        }
    });
}

/// The output's last line.
#[derive(Serialize)]
struct RunLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    command: &'static str,
    journal: Option<String>,
    cells: usize,
    cells_failed: usize,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

fn scan_all(scan: &cli::Scan, place: &Where, mode: Mode, journal: Option<PathBuf>) -> Result<u8, Failure> {
    let timeouts = scan.target.timeouts();
    let Cells { cells, skipped } = cells::discover(place, &scan.target.cells, timeouts)?;
    let output = Output::new(scan.json);
    for s in &skipped {
        output.skipped(s);
    }
    let journal_path = (mode == Mode::Applied).then(|| {
        journal.unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            PathBuf::from(format!("nova-sysmeta-db-journal-{now}.jsonl"))
        })
    });
    let journal = match &journal_path {
        Some(path) => {
            let header = cells
                .iter()
                .map(|c| journal::JournalCell {
                    name: c.name.clone(),
                    uuid: c.uuid.clone(),
                    database: c.connection.display(),
                })
                .collect();
            let run = uuid::Uuid::new_v4().to_string();
            Some(Mutex::new(journal::Journal::create(path, &run, header).map_err(
                |e| {
                    Failure::Input(format!(
                        "the journal {}: {e} (each repair needs a new file)",
                        path.display()
                    ))
                },
            )?))
        }
        None => None,
    };
    let progress = Progress::new(std::io::stderr().is_terminal());
    let settings = scan::Settings {
        scan,
        mode,
        config: NovaConfig::for_release(scan.release),
        history: if scan.history.is_empty() {
            Vec::new()
        } else {
            scan.history.iter().copied().chain([scan.release]).collect()
        },
        timeouts,
        journal: journal.as_ref(),
        output: &output,
        progress: &progress,
    };
    let reports: Mutex<Vec<Report>> = Mutex::new(Vec::new());
    in_parallel(
        &cells,
        scan.target.jobs,
        |cell: &Cell| scan::run_cell(cell, &settings),
        |report| {
            if let Some(e) = &report.error {
                eprintln!("nova-sysmeta-db: cell {}: {}", escape(&report.cell), escape(e));
            }
            output.cell(mode, &report);
            if let Ok(mut all) = reports.lock() {
                all.push(report);
            }
        },
    );
    progress.finish();
    let reports = reports
        .into_inner()
        .map_err(|_| Failure::Other("a cell's thread failed".to_owned()))?;
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let pending: u64 = reports
        .iter()
        .map(|r| r.skipped_in_transition + r.skipped_locked)
        .sum();
    let something = match mode {
        Mode::Audit => reports.iter().any(|r| r.to_repair > 0),
        Mode::DryRun | Mode::Applied => reports.iter().any(|r| r.rows_changed() > 0),
    };
    let exit = if failed > 0 {
        code::CELLS_FAILED
    } else if pending > 0 {
        code::SKIPPED
    } else if something {
        code::DONE
    } else {
        code::NOTHING
    };
    if let Some(path) = &journal_path {
        output.text(&format!(
            "journal: {} (undo with: nova-sysmeta-db undo --journal ... and the same --config-file or --url)\n",
            path.display()
        ));
    }
    output.json(&RunLine {
        kind: "run",
        command: match mode {
            Mode::Audit => "audit",
            _ => "repair",
        },
        journal: journal_path.map(|p| p.display().to_string()),
        cells: reports.len(),
        cells_failed: failed,
        exit_code: exit,
        detail: None,
    });
    if let Some(e) = output.error() {
        return Err(Failure::Other(format!("writing the report: {e}")));
    }
    Ok(exit)
}

fn undo(args: &cli::UndoArgs, place: &Where) -> Result<u8, Failure> {
    let read = journal::read(&args.journal, args.torn_tail).map_err(|e| Failure::Input(e.0))?;
    if let Some(n) = read.torn_tail {
        eprintln!(
            "nova-sysmeta-db: {}: line {n} is cut short and was left out (--torn-tail)",
            args.journal.display()
        );
    }
    let mut wanted: Vec<String> = read
        .cells
        .iter()
        .filter(|c| read.lines.iter().any(|l| l.cell() == Some(c.name.as_str())))
        .map(|c| c.name.clone())
        .collect();
    let spec_lines: Vec<&journal::Line> = read
        .lines
        .iter()
        .filter(|l| matches!(l, journal::Line::Spec { .. }))
        .collect();
    if wanted.is_empty() && spec_lines.is_empty() {
        // A repair that had nothing to do: nothing to undo either.
        eprintln!(
            "nova-sysmeta-db: {}: the journal records no change",
            args.journal.display()
        );
        return Ok(code::NOTHING);
    }
    if !args.target.cells.is_empty() {
        wanted.retain(|w| args.target.cells.contains(w));
        if wanted.is_empty() {
            return Err(Failure::Input(format!(
                "{}: the journal records no change in the cells named by --cell",
                args.journal.display()
            )));
        }
    }
    let timeouts = args.target.timeouts();
    let found = cells::discover(place, &wanted, timeouts).map_err(|e| match e {
        DiscoveryError::Input(e) => Failure::Input(format!(
            "{e}: the journal's cells are {wanted:?}; give undo the same --config-file or --url as the repair"
        )),
        other => Failure::from(other),
    })?;
    // The same cells: by UUID when the journal knows it, else by database.
    for cell in &found.cells {
        if let Some(recorded) = read.cells.iter().find(|c| c.name == cell.name) {
            let same = match (&recorded.uuid, &cell.uuid) {
                (Some(a), Some(b)) => a == b,
                _ => recorded.database == cell.connection.display(),
            };
            if !same {
                return Err(Failure::Input(format!(
                    "the journal's cell {:?} was {} ({}), the target's is {} ({})",
                    cell.name,
                    recorded.database,
                    recorded.uuid.as_deref().unwrap_or("no uuid"),
                    cell.connection.display(),
                    cell.uuid.as_deref().unwrap_or("no uuid"),
                )));
            }
        }
    }
    let output = Output::new(args.json);
    let reports: Mutex<Vec<undo::UndoReport>> = Mutex::new(Vec::new());
    in_parallel(
        &found.cells,
        args.target.jobs,
        |cell: &Cell| {
            let lines: Vec<&journal::Line> = read
                .lines
                .iter()
                .filter(|l| l.cell() == Some(cell.name.as_str()))
                .collect();
            undo::undo_cell(cell, &lines, timeouts, args.lock_wait)
        },
        |report| {
            if let Some(e) = &report.error {
                eprintln!("nova-sysmeta-db: cell {}: {}", escape(&report.cell), escape(e));
            }
            output.json(&report);
            output.text(&format!(
                "nova-sysmeta-db undo, cell {}: {} rows put back, {} already were, {} of batches that never committed, {} left alone\n",
                escape(&report.cell),
                report.restored,
                report.already_undone,
                report.not_committed,
                report.conflicts.len()
            ));
            for c in &report.conflicts {
                output.text(&format!(
                    "  conflict: instance {} row {} {}: {}\n",
                    escape(&c.instance_uuid),
                    c.row_id,
                    escape(&c.key),
                    c.why
                ));
            }
            if let Ok(mut all) = reports.lock() {
                all.push(report);
            }
        },
    );
    let reports = reports
        .into_inner()
        .map_err(|_| Failure::Other("a cell's thread failed".to_owned()))?;
    // The request_specs rows `image-property set` wrote, in the API database.
    let mut specs = image_property::SpecUndo::default();
    if !spec_lines.is_empty() {
        let api = api_database(place)?.ok_or_else(|| {
            Failure::Input(
                "the journal changed request_specs rows: give undo the nova.conf that names [api_database]"
                    .to_owned(),
            )
        })?;
        specs = image_property::undo_specs(&spec_lines, &api, timeouts, args.lock_wait)
            .map_err(Failure::Other)?;
        output.json(&serde_json::json!({ "kind": "request_specs", "undo": &specs }));
        output.text(&format!(
            "nova-sysmeta-db undo, request specs: {} put back, {} already were, {} left alone\n",
            specs.restored,
            specs.already_undone,
            specs.conflicts.len()
        ));
        for c in &specs.conflicts {
            output.text(&format!("  conflict: {}\n", escape(c)));
        }
    }
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let exit = if failed > 0 {
        code::CELLS_FAILED
    } else if reports.iter().any(|r| !r.conflicts.is_empty()) || !specs.conflicts.is_empty() {
        code::CONFLICTS
    } else if reports.iter().any(|r| r.restored > 0) || specs.restored > 0 {
        code::DONE
    } else {
        code::NOTHING
    };
    output.json(&RunLine {
        kind: "run",
        command: "undo",
        journal: Some(args.journal.display().to_string()),
        cells: reports.len(),
        cells_failed: failed,
        exit_code: exit,
        detail: Some(read.run.as_str()),
    });
    if let Some(e) = output.error() {
        return Err(Failure::Other(format!("writing the report: {e}")));
    }
    Ok(exit)
}

fn list_cells(target: &Target, place: &Where, json: bool) -> Result<u8, Failure> {
    let found = cells::discover(place, &target.cells, target.timeouts())?;
    let output = Output::new(json);
    for cell in &found.cells {
        let d = cell.describe();
        output.json(&d);
        let tls = match &d.tls {
            None => "no TLS".to_owned(),
            Some(t) if !t.verify => "TLS, server not verified".to_owned(),
            Some(t) => format!(
                "TLS, verified against {}{}",
                t.ca.as_deref().unwrap_or("the public web roots"),
                if t.check_hostname {
                    ", host name checked"
                } else {
                    ", host name not checked"
                }
            ),
        };
        let disabled = if d.disabled { " (disabled)" } else { "" };
        output.text(&format!(
            "cell {}{disabled}: {} ({tls})\n",
            escape(&d.name),
            escape(&d.url)
        ));
    }
    for s in &found.skipped {
        output.skipped(s);
    }
    if let Some(e) = output.error() {
        return Err(Failure::Other(format!("writing the report: {e}")));
    }
    Ok(if found.cells.is_empty() {
        code::NOTHING
    } else {
        code::DONE
    })
}

/// `images audit` and `images repair`: the plan of the images in Glance
/// (or a listing file, for audit), from every cell's history, and with
/// `repair --apply` its writes.
fn images_run(
    args: &cli::ImagesAudit,
    place: &Where,
    repair: Option<&cli::ImagesRepair>,
) -> Result<u8, Failure> {
    use nova_sysmeta::image_repair::{Decision, Image, Plan, Verdict};
    let wanted: Vec<String> = args.instances.iter().map(ToString::to_string).collect();
    let apply = repair.is_some_and(|r| r.apply);
    let (mut listed, glance) = match &args.images {
        Some(_) if repair.is_some() => {
            return Err(Failure::Input(
                "images repair reads Glance itself: --images is for audit only".to_owned(),
            ));
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Input(format!("--images {}: {e}", path.display())))?;
            let listed = images::read_listing(&text)
                .map_err(|e| Failure::Input(format!("--images {}: {e}", path.display())))?;
            (listed, None)
        }
        None => {
            let glance = glance::Glance::connect(args.cloud.os_cloud.as_deref()).map_err(Failure::Input)?;
            let listed = images::list_from_glance(&glance, &wanted).map_err(Failure::Other)?;
            (listed, Some(glance))
        }
    };
    // The images planned: the project's, or the instances'; every listed
    // image stays a candidate base.
    let chosen = |image: &Image| {
        let instance = image.properties.get_str("instance_uuid");
        args.project
            .as_ref()
            .is_none_or(|p| image.owner.as_ref() == Some(p))
            && (wanted.is_empty()
                || instance.is_some_and(|u| wanted.iter().any(|w| w.eq_ignore_ascii_case(u))))
    };
    let mut uuids: Vec<String> = listed
        .iter()
        .filter_map(|i| i.properties.get_str("instance_uuid").map(str::to_owned))
        .collect();
    uuids.sort();
    uuids.dedup();
    let timeouts = args.target.timeouts();
    let Cells { cells, skipped } = cells::discover(place, &args.target.cells, timeouts)?;
    let output = Output::new(args.json);
    for s in &skipped {
        output.skipped(s);
    }
    let histories = images::histories(&cells, timeouts, &uuids).map_err(Failure::Other)?;
    let mut plan = images::plan(&listed, &histories, &args.bases).map_err(Failure::Input)?;
    // The candidates of an undecidable snapshot are among all the images:
    // list the others only then.
    let undecidable = plan
        .images
        .iter()
        .any(|v| matches!(v.decision, Decision::Undecidable { .. }));
    if let (Some(glance), true) = (&glance, undecidable) {
        listed.extend(images::list_others(glance, &listed).map_err(Failure::Other)?);
        plan = images::plan(&listed, &histories, &args.bases).map_err(Failure::Input)?;
    }
    let mut shown = Plan::default();
    shown.instances = plan.instances.clone();
    for (verdict, image) in plan.images.iter().zip(&listed) {
        if chosen(image) {
            shown.images.push(verdict.clone());
        }
    }
    for v in &shown.images {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            verdict: &'a Verdict,
        }
        output.json(&Line {
            kind: "image",
            verdict: v,
        });
        let what = match &v.decision {
            Decision::Set { base_image_ref } => format!("add base_image_ref={}", escape(base_image_ref)),
            Decision::Undecidable { candidates } => {
                format!("undecidable; candidates: {}", escape(&candidates.join(", ")))
            }
            Decision::Propagated { names, origin } => format!(
                "names damaged snapshot {} as its base (its origin: {})",
                escape(names),
                origin.as_deref().map_or("undecided".to_owned(), escape)
            ),
            _ => "keep".to_owned(),
        };
        let reason = images::reason_name(v.reason);
        output.text(&format!("image {}: {what} ({reason})\n", escape(&v.image_id)));
    }
    for b in &shown.instances {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            instance: &'a nova_sysmeta::image_repair::BootedFromDamaged,
        }
        output.json(&Line {
            kind: "instance",
            instance: b,
        });
        output.text(&format!(
            "instance {}: booted from damaged snapshot {}\n",
            escape(&b.instance_uuid),
            escape(&b.image_ref)
        ));
    }
    let writes: Vec<(String, String)> = shown
        .writes()
        .map(|(i, b)| (i.to_owned(), b.to_owned()))
        .collect();
    let mut exit_code = if writes.is_empty() {
        code::NOTHING
    } else {
        code::DONE
    };
    let mut journal_path = None;
    let mut refused = 0;
    if let (Some(repair), Some(glance), false) = (repair, &glance, writes.is_empty()) {
        if apply {
            let path = repair.journal.clone().unwrap_or_else(|| {
                PathBuf::from(format!("nova-sysmeta-db-images-journal-{}.jsonl", journal::now()))
            });
            let run = uuid::Uuid::new_v4().to_string();
            let journal =
                journal::Journal::create_with(&path, &images::journal_header(&run, glance.project()))
                    .map_err(|e| {
                        Failure::Input(format!(
                            "the journal {}: {e} (each repair needs a new file)",
                            path.display()
                        ))
                    })?;
            let journal = Mutex::new(journal);
            for outcome in images::write_plan(glance, &writes, &journal, repair.concurrency) {
                output.json(&outcome);
                output.text(&format!(
                    "write {}: {}{}\n",
                    escape(&outcome.image_id),
                    outcome.result,
                    outcome
                        .message
                        .as_deref()
                        .map(|m| format!(" ({})", escape(m)))
                        .unwrap_or_default()
                ));
                if outcome.result != "written" {
                    refused += 1;
                }
            }
            journal_path = Some(path.display().to_string());
            if refused > 0 {
                exit_code = code::SKIPPED;
            }
        } else {
            for (image, base) in &writes {
                output.json(&images::Outcome {
                    kind: "write",
                    image_id: image.clone(),
                    base_image_ref: base.clone(),
                    result: "would_write",
                    status: None,
                    message: None,
                });
            }
        }
    }
    let mut summary = images::Summary::of(&shown, exit_code);
    summary.refused = refused;
    summary.journal = journal_path;
    output.json(&summary);
    output.text(&format!(
        "{} images: {} to repair, {} undecidable, {} naming a damaged snapshot; {} instances on damaged snapshots{}\n",
        summary.images,
        summary.to_repair,
        summary.undecidable,
        summary.propagated,
        summary.instances_on_damaged_snapshots,
        if apply { format!("; {refused} not written") } else { String::new() }
    ));
    if let Some(e) = output.error() {
        return Err(Failure::Other(format!("writing the report: {e}")));
    }
    Ok(exit_code)
}

/// `images undo`: removes what an images journal wrote, where it is
/// still what was written.
/// The API database `place` names (nova.conf's `[api_database]`), if any.
fn api_database(place: &Where) -> Result<Option<conf::Connection>, Failure> {
    match place {
        Where::Url(_) => Ok(None),
        Where::Conf(sources) => {
            let nova = conf::NovaConf::load(sources).map_err(|e| Failure::Input(e.0))?;
            match nova.api_database().map_err(|e| Failure::Input(e.0))? {
                Some(url) => Ok(Some(conf::connection(&url).map_err(|e| Failure::Input(e.0))?)),
                None => Ok(None),
            }
        }
    }
}

/// Finds the instance as nova-manage reports it: a database that cannot
/// be read is its "unexpected error" (1), no instance its 2.
fn property_instance(
    target: &Target,
    place: &Where,
    uuid: &str,
) -> Result<Result<image_property::Found, u8>, Failure> {
    let timeouts = target.timeouts();
    // nova-manage looks the instance up in the API database's mappings first.
    if let Some(api) = api_database(place)? {
        match image_property::mapped(&api, uuid, timeouts) {
            Ok(true) => {}
            Ok(false) => {
                println!("Instance {uuid} has no mapping to a cell.");
                return Ok(Err(image_property::exit::NOT_FOUND));
            }
            Err(e) => {
                println!("Unexpected error: {}", escape(&e));
                return Ok(Err(image_property::exit::UNEXPECTED));
            }
        }
    }
    let found = cells::discover(place, &target.cells, timeouts)?;
    match image_property::locate(&found, uuid, timeouts) {
        Ok(Some(found)) => Ok(Ok(found)),
        Ok(None) => {
            println!("Instance {uuid} could not be found.");
            Ok(Err(image_property::exit::NOT_FOUND))
        }
        Err(e) => {
            println!("Unexpected error: {}", escape(&e));
            Ok(Err(image_property::exit::UNEXPECTED))
        }
    }
}

fn property_show(args: &cli::PropertyShow, place: &Where) -> Result<u8, Failure> {
    let found = match property_instance(&args.target, place, &args.instance)? {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    let sm = found.system_metadata();
    match &args.property {
        Some(name) => match sm.get(&format!("image_{name}")).filter(|v| !v.is_empty()) {
            Some(value) if args.json => {
                println!(
                    "{}",
                    serde_json::json!({ "instance": found.uuid, "property": name, "value": value })
                );
                Ok(image_property::exit::OK)
            }
            Some(value) => {
                println!("{value}");
                Ok(image_property::exit::OK)
            }
            None => {
                println!("Image property {name} not found for instance {}.", found.uuid);
                Ok(image_property::exit::PROPERTY_OR_STATE)
            }
        },
        None => {
            let all: Vec<(&str, Option<&str>)> = sm
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("image_")?, v)))
                .collect();
            if args.json {
                let map: serde_json::Map<String, serde_json::Value> = all
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::json!(v)))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({ "instance": found.uuid, "properties": map })
                );
            } else {
                for (k, v) in all {
                    println!("{}={}", escape(k), v.map_or_else(|| "NULL".to_owned(), escape));
                }
            }
            Ok(image_property::exit::OK)
        }
    }
}

fn property_set(args: &cli::PropertySet, place: &Where) -> Result<u8, Failure> {
    let found = match property_instance(&args.target, place, &args.instance)? {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    if args.properties.is_empty() {
        println!("Unexpected error: no --property NAME=VALUE given");
        return Ok(image_property::exit::UNEXPECTED);
    }
    let refuse = |r: image_property::Refused| {
        println!("{}", escape(&r.message));
        r.code
    };
    let props = match image_property::validate(&found, &args.properties, args.release) {
        Ok(props) => props,
        Err(r) => return Ok(refuse(r)),
    };
    let plan = match image_property::plan(&found, &props, args.release) {
        Ok(plan) => plan,
        Err(r) => return Ok(refuse(r)),
    };
    let api = api_database(place)?;
    if !args.apply {
        if args.json {
            println!("{}", serde_json::json!({ "dry_run": true, "plan": plan }));
        } else {
            for c in &plan.changes {
                println!(
                    "would set {}={} (was {})",
                    escape(&c.key),
                    escape(&c.new),
                    c.old.as_ref().map_or("absent".to_owned(), |o| o
                        .as_deref()
                        .map_or("NULL".to_owned(), escape))
                );
            }
            if plan.request_spec_image.is_some() {
                println!("would write the instance's image into its request_specs row");
            }
            println!("dry run: nothing written (--apply writes)");
        }
        return Ok(image_property::exit::OK);
    }
    let path = args
        .journal
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("nova-sysmeta-db-journal-{}.jsonl", journal::now())));
    let cells = vec![journal::JournalCell {
        name: found.cell.name.clone(),
        uuid: found.cell.uuid.clone(),
        database: found.cell.connection.display(),
    }];
    let mut journal = journal::Journal::create(&path, &format!("image-property set {}", found.uuid), cells)
        .map_err(|e| Failure::Input(format!("the journal {}: {e}", path.display())))?;
    match image_property::apply(
        &found,
        &plan,
        &mut journal,
        api.as_ref(),
        args.target.timeouts(),
        args.lock_wait,
    ) {
        Ok(applied) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "plan": plan, "applied": applied, "journal": path.display().to_string() })
                );
            } else {
                println!(
                    "set {} properties of instance {} ({} rows updated, {} inserted{}); journal {}",
                    plan.changes.len(),
                    found.uuid,
                    applied.rows_updated,
                    applied.rows_inserted,
                    if applied.request_spec {
                        ", request spec written"
                    } else {
                        ""
                    },
                    path.display()
                );
            }
            Ok(image_property::exit::OK)
        }
        Err(r) => Ok(refuse(r)),
    }
}

fn images_undo(args: &cli::ImagesUndo) -> Result<u8, Failure> {
    let writes = images::read_journal(&args.journal).map_err(Failure::Input)?;
    if writes.is_empty() {
        eprintln!(
            "nova-sysmeta-db: {}: the journal records no write",
            args.journal.display()
        );
        return Ok(code::NOTHING);
    }
    let glance = glance::Glance::connect(args.cloud.os_cloud.as_deref()).map_err(Failure::Input)?;
    let output = Output::new(args.json);
    let done = images::undo(&glance, &writes);
    let count = |r: &str| done.iter().filter(|d| d.result == r).count();
    for d in &done {
        output.json(d);
        output.text(&format!(
            "image {}: {}{}\n",
            escape(&d.image_id),
            d.result,
            d.detail
                .as_deref()
                .map(|m| format!(" ({})", escape(m)))
                .unwrap_or_default()
        ));
    }
    let exit_code = if count("conflict") + count("refused") > 0 {
        code::CONFLICTS
    } else if count("removed") > 0 {
        code::DONE
    } else {
        code::NOTHING
    };
    #[derive(Serialize)]
    struct Run {
        #[serde(rename = "type")]
        kind: &'static str,
        removed: usize,
        already_gone: usize,
        conflicts: usize,
        refused: usize,
        exit_code: u8,
    }
    output.json(&Run {
        kind: "run",
        removed: count("removed"),
        already_gone: count("already_gone"),
        conflicts: count("conflict"),
        refused: count("refused"),
        exit_code,
    });
    output.text(&format!(
        "{} removed, {} already gone, {} conflicts, {} refused\n",
        count("removed"),
        count("already_gone"),
        count("conflict"),
        count("refused")
    ));
    if let Some(e) = output.error() {
        return Err(Failure::Other(format!("writing the report: {e}")));
    }
    Ok(exit_code)
}
