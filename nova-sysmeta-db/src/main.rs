//! Audit, and optionally repair, the system metadata of every instance in a
//! Nova database (MySQL or MariaDB, Nova's own schema).
//!
//! ```text
//! cargo run --release --example repair_nova_db -- --url mysql://nova:secret@db.example:3306/nova
//! cargo run --release --example repair_nova_db -- --url ... --apply
//! ```
//!
//! Instances are read in batches of `--batch-size` (keyset pagination on
//! `instances.id`, `deleted = 0` only: deleted instances are left alone),
//! with their live `instance_system_metadata` rows (`deleted = 0`;
//! soft-deleted rows are history and never read or written). Each instance
//! is checked with `nova_sysmeta::audit`; the report counts findings per
//! kind (and lists them per instance with `--verbose`). A progress line goes
//! to standard error.
//!
//! With `--apply`, `nova_sysmeta::repair`'s changes are written, one
//! transaction per batch, the rows locked while it runs, the way Nova's
//! `Instance.save()` writes system metadata
//! (`_instance_metadata_update_in_place`): a changed value updates its live
//! row(s) in place with `updated_at` set; a new key is a new row with
//! `created_at` set and `deleted = 0`; a removed key's live rows are deleted
//! (Nova hard-deletes system metadata, since its object layer also reads
//! soft-deleted rows). Repair is idempotent, so a run that is interrupted
//! (its open transaction rolls back) is finished by running it again, and a
//! second full run changes nothing.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Opts, Params, Pool, TxOpts, Value as Sql};
use nova_sysmeta::audit::{Change, Finding, InstanceFacts, audit, repair};
use nova_sysmeta::{NovaConfig, SystemMetadata};

const USAGE: &str = "usage: repair_nova_db --url mysql://USER:PASS@HOST:PORT/DB [--apply] [--verbose] \
                     [--batch-size N] [--batch-delay-ms MS]
  --url URL            the Nova database (or NOVA_DB_URL)
  --apply              write the repairs (default: report only)
  --verbose            list findings and changes per instance
  --batch-size N       instances per batch and transaction (default 500)
  --batch-delay-ms MS  pause between batches, to spare a busy database (default 0)";

struct Args {
    url: String,
    apply: bool,
    verbose: bool,
    batch_size: usize,
    batch_delay: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: std::env::var("NOVA_DB_URL").unwrap_or_default(),
        apply: false,
        verbose: false,
        batch_size: 500,
        batch_delay: Duration::ZERO,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--url" => args.url = value("--url")?,
            "--apply" => args.apply = true,
            "--verbose" | "-v" => args.verbose = true,
            "--batch-size" => {
                args.batch_size = value("--batch-size")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--batch-size takes a positive integer")?
            }
            "--batch-delay-ms" => {
                let ms: u64 = value("--batch-delay-ms")?
                    .parse()
                    .map_err(|_| "--batch-delay-ms takes milliseconds")?;
                args.batch_delay = Duration::from_millis(ms);
            }
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.url.is_empty() {
        return Err(format!("--url is required\n{USAGE}"));
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(report) => {
            report.print(args.apply);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("repair_nova_db: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the run found and did.
#[derive(Default)]
struct Report {
    instances: u64,
    with_findings: u64,
    findings: BTreeMap<&'static str, u64>,
    changes: u64,
    batches: u64,
}

impl Report {
    fn print(&self, applied: bool) {
        let mode = if applied { "apply" } else { "dry run" };
        println!(
            "nova-sysmeta repair ({mode}): {} instances audited, {} with findings",
            self.instances, self.with_findings
        );
        for (kind, n) in &self.findings {
            println!("  {kind:<26} {n}");
        }
        if applied {
            println!(
                "changes: {} written in {} transactions",
                self.changes, self.batches
            );
        } else {
            println!(
                "changes: {} planned (run with --apply to write them)",
                self.changes
            );
        }
    }
}

/// The id to continue after, and the instances of a batch.
type Batch = (u64, Vec<InstanceRows>);

/// One instance of a batch, with its live rows.
struct InstanceRows {
    uuid: String,
    facts: InstanceFacts,
    /// (row id, key, value) in id order.
    rows: Vec<(u64, String, Option<String>)>,
}

fn run(args: &Args) -> Result<Report, Box<dyn Error>> {
    let pool = Pool::new(Opts::from_url(&args.url)?)?;
    let mut conn = pool.get_conn()?;
    let total: u64 = conn
        .query_first("SELECT COUNT(*) FROM instances WHERE deleted = 0")?
        .unwrap_or(0);
    let mut report = Report::default();
    let mut last_id: u64 = 0;
    let config = NovaConfig::default();
    loop {
        let mut tx = conn.start_transaction(TxOpts::default())?;
        let batch = read_batch(&mut tx, last_id, args.batch_size, args.apply)?;
        let Some((next_id, instances)) = batch else {
            tx.rollback()?;
            break;
        };
        last_id = next_id;
        for instance in &instances {
            let map = to_map(&instance.rows);
            let findings = audit(&map, &instance.facts, &config);
            let fixed = repair(&map, &instance.facts, &config);
            report.instances += 1;
            if !findings.is_empty() {
                report.with_findings += 1;
            }
            for f in &findings {
                *report.findings.entry(f.kind.as_str()).or_default() += 1;
            }
            report.changes += fixed.changes.len() as u64;
            if args.verbose {
                print_instance(&instance.uuid, &findings, &fixed.changes);
            }
            if args.apply {
                write_changes(&mut tx, instance, &fixed.changes)?;
            }
        }
        if args.apply {
            tx.commit()?;
        } else {
            tx.rollback()?;
        }
        report.batches += 1;
        eprint!(
            "\rrepair_nova_db: {}/{} instances audited",
            report.instances, total
        );
        let _ = std::io::stderr().flush();
        std::thread::sleep(args.batch_delay);
    }
    eprintln!();
    Ok(report)
}

/// The next batch of live instances after `last_id`, with their live rows
/// (locked for update when `lock`). `None` when there are no more.
fn read_batch(
    tx: &mut mysql::Transaction,
    last_id: u64,
    size: usize,
    lock: bool,
) -> Result<Option<Batch>, Box<dyn Error>> {
    let rows: Vec<(u64, String, Option<String>, Option<String>)> = tx.exec(
        "SELECT id, uuid, image_ref, vm_state FROM instances WHERE deleted = 0 AND id > ? ORDER BY id LIMIT ?",
        (last_id, size as u64),
    )?;
    let Some(next_id) = rows.last().map(|r| r.0) else {
        return Ok(None);
    };
    let mut instances: Vec<InstanceRows> = rows
        .into_iter()
        .map(|(_, uuid, image_ref, vm_state)| InstanceRows {
            facts: {
                let mut facts = InstanceFacts::new();
                facts.uuid = uuid.parse().ok();
                facts.image_ref = image_ref;
                facts.vm_state = vm_state;
                facts
            },
            uuid,
            rows: Vec::new(),
        })
        .collect();
    let placeholders = vec!["?"; instances.len()].join(", ");
    let query = format!(
        "SELECT id, instance_uuid, `key`, value FROM instance_system_metadata \
         WHERE deleted = 0 AND instance_uuid IN ({placeholders}) ORDER BY id{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let params = Params::Positional(instances.iter().map(|i| Sql::from(i.uuid.as_str())).collect());
    let meta: Vec<(u64, String, String, Option<String>)> = tx.exec(query, params)?;
    let index: BTreeMap<String, usize> = instances
        .iter()
        .enumerate()
        .map(|(n, i)| (i.uuid.clone(), n))
        .collect();
    for (id, uuid, key, value) in meta {
        if let Some(&n) = index.get(&uuid) {
            instances[n].rows.push((id, key, value));
        }
    }
    Ok(Some((next_id, instances)))
}

/// The map Nova builds from live rows (later rows win; a NULL value is a
/// null entry, as in Nova's `DictOfNullableStringsField`).
fn to_map(rows: &[(u64, String, Option<String>)]) -> SystemMetadata {
    let mut map = SystemMetadata::with_capacity(rows.len());
    for (_, key, value) in rows {
        map.insert(key.as_str(), value.as_deref());
    }
    map
}

/// Writes one instance's changes as Nova's `Instance.save()` would.
fn write_changes(
    tx: &mut mysql::Transaction,
    instance: &InstanceRows,
    changes: &[Change],
) -> Result<(), Box<dyn Error>> {
    for change in changes {
        let ids: Vec<Sql> = instance
            .rows
            .iter()
            .filter(|(_, k, _)| *k == change.key)
            .map(|(id, _, _)| Sql::from(*id))
            .collect();
        let in_ids = vec!["?"; ids.len()].join(", ");
        match (&change.new, ids.is_empty()) {
            (Some(new), false) => {
                let mut params = vec![Sql::from(new.as_str())];
                params.extend(ids);
                tx.exec_drop(
                    format!("UPDATE instance_system_metadata SET value = ?, updated_at = UTC_TIMESTAMP() WHERE id IN ({in_ids})"),
                    Params::Positional(params),
                )?;
            }
            (Some(new), true) => tx.exec_drop(
                "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
                 VALUES (UTC_TIMESTAMP(), 0, ?, ?, ?)",
                (instance.uuid.as_str(), change.key.as_str(), new.as_str()),
            )?,
            (None, false) => tx.exec_drop(
                format!("DELETE FROM instance_system_metadata WHERE id IN ({in_ids})"),
                Params::Positional(ids),
            )?,
            (None, true) => {}
        }
    }
    Ok(())
}

fn print_instance(uuid: &str, findings: &[Finding], changes: &[Change]) {
    for f in findings {
        let key = f.key.as_deref().unwrap_or("-");
        println!("{uuid} {:?} {} {key}: {}", f.severity, f.kind, f.message);
    }
    for c in changes {
        println!(
            "{uuid} change {}: {:?} -> {:?} (fixes {})",
            c.key,
            c.old.as_deref(),
            c.new.as_deref(),
            c.fixes
        );
    }
}
