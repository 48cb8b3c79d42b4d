//! The command line: subcommands, options, and where the databases come
//! from.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, CommandFactory, Parser, Subcommand, ValueEnum};
use nova_sysmeta::Release;
use nova_sysmeta::audit::FindingKind;

use crate::conf::Source;

/// The exit codes, for `--help` and the README.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    completed: repairs written (repair --apply), that would be written (a dry run),
       repairs needed (audit), rows put back (undo)
  2    bad arguments (clap's usage error)
  3    completed, but instances that need a repair were skipped: a task was running on them,
       or Nova held their rows locked (run again later)
  4    completed: nothing to repair (or to undo)
  5    undo completed, but rows Nova changed since the repair were left alone (conflicts)
  6    some cells failed (not reachable, timed out, an error); the others completed
  127  invalid input: configuration, URL, journal
  255  an unexpected error
image-property show|set exit as nova-manage image_property does:
  0 done (or a dry run), 1 an unexpected error, 2 instance not found,
  3 property not found (show) or the instance's state forbids set,
  4 invalid --property format, 5 invalid property name, 6 invalid value";

/// Find and repair Nova instances whose system metadata old Nova releases
/// damaged.
///
/// The databases come from `--url`/`--url-file`/`NOVA_DB_URL` (one cell)
/// or from Nova's own `--config-file` and `--config-dir` (its
/// `[api_database]` gives every cell through `cell_mappings`; else its
/// `[database]`). Repairs are planned, never written, unless `repair
/// --apply` is given; every row a repair changes is first written to a
/// journal that `undo` replays backwards.
#[derive(Parser)]
#[command(name = "nova-sysmeta-db", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Report what is wrong with each live instance's system metadata.
    Audit(Scan),
    /// Plan the repairs (a dry run, the default) or write them (--apply).
    Repair(RepairArgs),
    /// Put back the rows a repair journal recorded, newest first, where
    /// they still hold what the repair wrote.
    Undo(UndoArgs),
    /// List the cells the other commands would work on, and how the tool
    /// connects to each.
    Cells(CellsArgs),
    /// The snapshots already in Glance that lack the base_image_ref Nova's
    /// fixed rebuild would have given them.
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Nova's `nova-manage image_property show|set`, for any release from
    /// Pike, with a dry run by default, the journal and `undo`.
    #[command(subcommand)]
    ImageProperty(ImagePropertyCommand),
}

#[derive(Subcommand)]
pub enum ImagePropertyCommand {
    /// Print an image property of an instance (`image_<PROPERTY>` of its
    /// system metadata), or every one without PROPERTY.
    Show(PropertyShow),
    /// Set image properties of a STOPPED, SHELVED or SHELVED_OFFLOADED
    /// instance, checked against the release's ImageMetaProps (a dry run
    /// unless --apply); from 28.3.1, 29.2.1 and 30.0.0 the instance's
    /// request_specs row gets the new image too.
    Set(PropertySet),
}

#[derive(Args)]
pub struct PropertyShow {
    #[command(flatten)]
    pub target: Target,
    /// The instance's UUID.
    pub instance: String,
    /// The property (without `image_`); all of them when absent.
    pub property: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PropertySet {
    #[command(flatten)]
    pub target: Target,
    /// The instance's UUID.
    pub instance: String,
    /// A property to set, NAME=VALUE (repeatable), as nova-manage takes it.
    #[arg(long = "property", value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub properties: Vec<String>,
    /// The Nova release whose ImageMetaProps fields and values decide (and
    /// whether the request spec is written).
    #[arg(long, value_name = "VERSION", default_value_t = Release::LATEST)]
    pub release: Release,
    /// Write (without it: a dry run).
    #[arg(long)]
    pub apply: bool,
    /// The journal to create with --apply (default:
    /// `nova-sysmeta-db-journal-<time>.jsonl`); `undo --journal` reads it.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Seconds to wait for a row Nova holds locked.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub lock_wait: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ImagesCommand {
    /// Plan the repair of the snapshot and backup images in Glance from
    /// the instances' history in every cell (nothing is written): which
    /// get a base_image_ref and which, which the facts cannot decide (with
    /// the images that could be the base), which name a damaged snapshot
    /// as their base.
    Audit(ImagesAudit),
    /// Write that plan through Glance's API (a dry run unless --apply),
    /// journalling every write first.
    Repair(ImagesRepair),
    /// Remove the base_image_ref properties an images journal records,
    /// where they still hold what the repair wrote.
    Undo(ImagesUndo),
}

/// Where Glance is: the cloud of clouds.yaml, or the OS_* variables.
#[derive(Args, Clone)]
pub struct Cloud {
    /// The cloud of clouds.yaml (and secure.yaml) to use; default: OS_CLOUD,
    /// else the OS_AUTH_URL family of variables (Keystone v3: password or
    /// application credential; OS_INTERFACE and OS_REGION_NAME choose the
    /// catalog's image endpoint).
    #[arg(long, value_name = "NAME")]
    pub os_cloud: Option<String>,
}

#[derive(Args)]
pub struct ImagesAudit {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub cloud: Cloud,
    /// Read the images from this file instead of Glance: the bodies of
    /// `GET /v2/images` pages (one per line), or a JSON array of image
    /// bodies (audit only).
    #[arg(long, value_name = "FILE")]
    pub images: Option<PathBuf>,
    /// Name the base of an image the facts leave undecidable (repeatable).
    #[arg(long = "set", value_name = "IMAGE=BASE", value_parser = image_base)]
    pub bases: Vec<(String, String)>,
    /// Only the images of this project (Glance's `owner`); every image
    /// stays a candidate base.
    #[arg(long)]
    pub project: Option<String>,
    /// Only the snapshots of this instance (repeatable).
    #[arg(long = "instance", value_name = "UUID")]
    pub instances: Vec<uuid::Uuid>,
    /// Print JSON Lines: one object per image and per instance booted from
    /// a damaged snapshot, and a last one for the run.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ImagesRepair {
    #[command(flatten)]
    pub audit: ImagesAudit,
    /// Write the repairs (without it: a dry run).
    #[arg(long)]
    pub apply: bool,
    /// The journal to write (a new file; default
    /// `nova-sysmeta-db-images-journal-<time>.jsonl`).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Glance writes in flight at once, 1 to 32.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=32))]
    pub concurrency: u64,
}

#[derive(Args)]
pub struct ImagesUndo {
    #[command(flatten)]
    pub cloud: Cloud,
    /// The journal of the `images repair --apply` to undo.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// Print JSON Lines.
    #[arg(long)]
    pub json: bool,
}

fn image_base(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((image, base)) if !image.is_empty() && !base.is_empty() => {
            Ok((image.to_owned(), base.to_owned()))
        }
        _ => Err(format!("expected IMAGE=BASE, found {text:?}")),
    }
}

#[derive(Args, Clone)]
pub struct Target {
    /// A cell database: `mysql://USER:PASS@HOST:PORT/DB`, or Nova's
    /// `mysql+pymysql://...` form. A password here is visible to every
    /// user of the host: prefer --url-file, NOVA_DB_URL or --config-file.
    #[arg(long, value_name = "URL", conflicts_with_all = ["url_file", "config_file", "config_dir"])]
    pub url: Option<String>,
    /// A file holding the cell database's URL (its first line).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config_file", "config_dir"])]
    pub url_file: Option<PathBuf>,
    /// Nova's configuration file (repeatable; later ones win, as in Nova):
    /// `[api_database] connection` (every cell, from `cell_mappings`) or
    /// `[database] connection` (one cell).
    #[arg(long = "config-file", value_name = "FILE")]
    pub config_file: Vec<PathBuf>,
    /// A folder of configuration files (`*.conf`, in name order), as
    /// Nova's `--config-dir` (repeatable, in order with --config-file).
    #[arg(long = "config-dir", value_name = "DIR")]
    pub config_dir: Vec<PathBuf>,
    /// Only the cell with this name or UUID (repeatable). `cell0` is
    /// skipped unless named here.
    #[arg(long = "cell", value_name = "NAME")]
    pub cells: Vec<String>,
    /// Seconds to wait for a database connection (the URL's
    /// `connect_timeout` wins).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
    /// Seconds to wait for a database's answer (the URL's `read_timeout`
    /// and `write_timeout` win); a cell that stops answering fails, the
    /// others go on.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub read_timeout: u64,
    /// At most this many cells at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub jobs: u64,
}

/// Where the databases are, once the arguments are read.
#[derive(Debug, Clone)]
pub enum Where {
    /// One cell's URL.
    Url(String),
    /// Nova's configuration, in command-line order.
    Conf(Vec<Source>),
}

/// The timeouts the URL leaves to the tool.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
}

impl Target {
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(self.connect_timeout),
            read: Duration::from_secs(self.read_timeout),
        }
    }
}

/// Finding kinds, as `--only` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Kind {
    /// No image_base_image_ref (bug 1893618): snapshots lose base_image_ref.
    MissingBaseImageRef,
    /// A soft-deleted row that Nova still reads (an old release's).
    SoftDeletedRow,
    /// An image property value over Nova's 255 bytes, or any value over the column.
    ValueTooLong,
    /// A key over the 255-character column.
    KeyTooLong,
    /// image_min_ram or image_min_disk that is not an integer.
    NonIntegerInheritable,
    /// A key Nova never stores (mappings, block_device_mapping, ...).
    SkipKeyStored,
    /// shelved_* keys on an instance that is not shelved.
    StaleShelvedKeys,
    /// An unprefixed key copied into every snapshot (not repaired).
    WouldLeak,
    /// image_base_image_ref differs from image_ref (not repaired).
    ImageRefMismatch,
}

impl Kind {
    /// The name, as `--only` and the reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SoftDeletedRow => "soft_deleted_row",
            Kind::MissingBaseImageRef => FindingKind::MissingBaseImageRef.as_str(),
            Kind::ValueTooLong => FindingKind::ValueTooLong.as_str(),
            Kind::KeyTooLong => FindingKind::KeyTooLong.as_str(),
            Kind::NonIntegerInheritable => FindingKind::NonIntegerInheritable.as_str(),
            Kind::SkipKeyStored => FindingKind::SkipKeyStored.as_str(),
            Kind::StaleShelvedKeys => FindingKind::StaleShelvedKeys.as_str(),
            Kind::WouldLeak => FindingKind::WouldLeak.as_str(),
            Kind::ImageRefMismatch => FindingKind::ImageRefMismatch.as_str(),
        }
    }
}

#[derive(Args)]
pub struct Scan {
    #[command(flatten)]
    pub target: Target,
    /// Only these finding kinds (repeatable).
    #[arg(long = "only", value_name = "KIND")]
    pub only: Vec<Kind>,
    /// Only this instance (repeatable).
    #[arg(long = "instance", value_name = "UUID")]
    pub instances: Vec<uuid::Uuid>,
    /// Only the instances of this project.
    #[arg(long)]
    pub project: Option<String>,
    /// The Nova release the cells run (16.0.0 to 34.x): which keys its
    /// snapshots inherit, and so which system-metadata keys would leak.
    #[arg(long, value_name = "VERSION", default_value_t = Release::LATEST)]
    pub release: Release,
    /// A Nova release the cells ran before (repeatable): a missing base
    /// image ref is then explained (lost by a rebuild before 21.2.1, or
    /// not by a rebuild at all).
    #[arg(long = "history", value_name = "VERSION")]
    pub history: Vec<Release>,
    /// Instances per batch, 1 to 5000.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub batch_size: u32,
    /// Pause between batches, to spare a busy database.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub batch_delay_ms: u64,
    /// Seconds to wait for a row Nova holds locked before skipping its
    /// instance (retried at the end of the cell, then reported).
    #[arg(long, value_name = "SECONDS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub lock_wait: u64,
    /// List findings and changes per instance, as they are found.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print JSON Lines: one object per instance with --verbose, one per
    /// cell, and a last one for the run.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub scan: Scan,
    /// Write the repairs (without it: a dry run).
    #[arg(long)]
    pub apply: bool,
    /// The journal to create with --apply (a new file; default:
    /// `nova-sysmeta-db-journal-<time>.jsonl` in the current folder).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
}

#[derive(Args)]
pub struct UndoArgs {
    #[command(flatten)]
    pub target: Target,
    /// The journal a `repair --apply` wrote.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// Accept a journal whose last line is cut short (a repair killed
    /// while writing it) and undo the whole lines before it.
    #[arg(long)]
    pub torn_tail: bool,
    /// Seconds to wait for a row Nova holds locked.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub lock_wait: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct CellsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The subcommand's `--config-file` and `--config-dir` values, in the
/// order they were given (oslo.config reads them so).
fn sources(matches: &ArgMatches) -> Vec<Source> {
    let mut all: Vec<(usize, Source)> = Vec::new();
    for (id, make) in [
        ("config_file", Source::File as fn(PathBuf) -> Source),
        ("config_dir", Source::Dir as fn(PathBuf) -> Source),
    ] {
        if let (Some(values), Some(indices)) = (matches.get_many::<PathBuf>(id), matches.indices_of(id)) {
            all.extend(indices.zip(values.cloned().map(make)));
        }
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, s)| s).collect()
}

/// Parses the command line. A missing database is clap's usage error
/// (exit 2); `NOVA_DB_URL` is read only when no flag names a database.
pub fn parse() -> (Cli, Where) {
    let matches = Cli::command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let sub = match matches.subcommand() {
        // `images audit`: the arguments are the inner subcommand's.
        Some(("images" | "image-property", m)) => m.subcommand().map(|(_, m)| m),
        other => other.map(|(_, m)| m),
    };
    let target = match &cli.command {
        Command::Audit(s) => &s.target,
        Command::Repair(r) => &r.scan.target,
        Command::Undo(u) => &u.target,
        Command::Cells(c) => &c.target,
        Command::Images(ImagesCommand::Audit(a)) => &a.target,
        Command::Images(ImagesCommand::Repair(r)) => &r.audit.target,
        Command::ImageProperty(ImagePropertyCommand::Show(a)) => &a.target,
        Command::ImageProperty(ImagePropertyCommand::Set(a)) => &a.target,
        // It reaches Glance only.
        Command::Images(ImagesCommand::Undo(_)) => return (cli, Where::Url(String::new())),
    };
    let sources = sub.map(sources).unwrap_or_default();
    let found = if let Some(url) = &target.url {
        Ok(Where::Url(url.clone()))
    } else if let Some(path) = &target.url_file {
        match std::fs::read_to_string(path) {
            Ok(text) => match text.lines().next().map(str::trim).filter(|l| !l.is_empty()) {
                Some(url) => Ok(Where::Url(url.to_owned())),
                None => Err(format!("--url-file {}: empty", path.display())),
            },
            Err(e) => Err(format!("--url-file {}: {e}", path.display())),
        }
    } else if !sources.is_empty() {
        Ok(Where::Conf(sources))
    } else if let Some(url) = std::env::var("NOVA_DB_URL").ok().filter(|u| !u.is_empty()) {
        Ok(Where::Url(url))
    } else {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "no database: give --config-file /etc/nova/nova.conf (every cell), --url, --url-file, \
                 or set NOVA_DB_URL",
            )
            .exit()
    };
    match found {
        Ok(place) => (cli, place),
        Err(message) => {
            eprintln!("nova-sysmeta-db: {message}");
            std::process::exit(127)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own checks of the whole command tree (duplicate names,
    /// conflicts naming missing arguments), which it runs only when a
    /// subcommand is parsed.
    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
