//! What the tool prints: per-instance lines as they are found
//! (`--verbose`), a report per cell, progress on standard error. Standard
//! output carries reports only; errors go to standard error, once. A
//! report that cannot be written (a full disk, a closed pipe) is an error.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Mutex;

use serde::Serialize;

/// Text from the database, made safe to print for people: control
/// characters, backslashes and the bidirectional overrides are escaped,
/// so a key cannot forge report lines, colour the terminal or reorder
/// what is shown; quotes stay as they are.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// One cell's counts.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub cell: String,
    pub cell_uuid: Option<String>,
    pub disabled: bool,
    /// Live instances read.
    pub instances: u64,
    /// Instances with any finding (informational ones included).
    pub with_findings: u64,
    /// Instances that need a repair (before `--apply`, or those skipped).
    pub to_repair: u64,
    /// Instances repaired (with `--apply`) or that would be (a dry run).
    pub repaired: u64,
    /// Instances that need a repair but had a task running: run again later.
    pub skipped_in_transition: u64,
    /// Instances that need a repair but whose rows Nova held locked
    /// through every retry: run again later.
    pub skipped_locked: u64,
    /// Findings per kind.
    pub findings: BTreeMap<String, u64>,
    /// Rows updated, inserted and deleted (or that would be).
    pub rows_updated: u64,
    pub rows_inserted: u64,
    pub rows_deleted: u64,
    pub batches: u64,
    /// Batches retried after a deadlock.
    pub retries: u64,
    pub seconds: f64,
    /// Why the cell failed, if it did.
    pub error: Option<String>,
}

impl Report {
    /// Adds a batch's counts.
    pub fn add(&mut self, batch: &Report) {
        self.instances += batch.instances;
        self.with_findings += batch.with_findings;
        self.to_repair += batch.to_repair;
        self.repaired += batch.repaired;
        self.skipped_in_transition += batch.skipped_in_transition;
        self.skipped_locked += batch.skipped_locked;
        for (kind, n) in &batch.findings {
            *self.findings.entry(kind.clone()).or_default() += n;
        }
        self.rows_updated += batch.rows_updated;
        self.rows_inserted += batch.rows_inserted;
        self.rows_deleted += batch.rows_deleted;
    }

    pub fn rows_changed(&self) -> u64 {
        self.rows_updated + self.rows_inserted + self.rows_deleted
    }
}

/// What a run was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Audit,
    DryRun,
    Applied,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Audit => "audit",
            Mode::DryRun => "repair (dry run)",
            Mode::Applied => "repair (applied)",
        }
    }
}

/// Standard output, shared by the cells' threads. The first write error
/// is kept and ends the run.
pub struct Output {
    json: bool,
    out: Mutex<(io::Stdout, Option<io::Error>)>,
}

/// An instance's line for `--verbose`.
#[derive(Debug, Serialize)]
pub struct InstanceLine<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub cell: &'a str,
    pub uuid: &'a str,
    pub findings: Vec<FindingLine<'a>>,
    pub changes: Vec<ChangeLine<'a>>,
    /// `None`, or why it was left alone (`in_transition`, `locked`).
    pub skipped: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct FindingLine<'a> {
    pub kind: &'a str,
    pub severity: &'static str,
    pub key: Option<&'a str>,
    pub message: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ChangeLine<'a> {
    pub key: &'a str,
    /// `delete`, `update` or `insert`.
    pub action: &'static str,
    pub old: Option<&'a str>,
    pub new: Option<&'a str>,
    /// Whether the row changed was soft-deleted.
    pub soft_deleted_row: bool,
    pub fixes: &'a str,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self {
            json,
            out: Mutex::new((io::stdout(), None)),
        }
    }

    fn write(&self, text: &str) {
        let Ok(mut guard) = self.out.lock() else { return };
        let (out, error) = &mut *guard;
        if error.is_some() {
            return;
        }
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            *error = Some(e);
        }
    }

    /// The first write error, if any.
    pub fn error(&self) -> Option<io::Error> {
        self.out.lock().ok().and_then(|mut g| g.1.take()).or_else(|| {
            self.out
                .is_poisoned()
                .then(|| io::Error::other("the report's lock was poisoned"))
        })
    }

    fn json_line(&self, value: &impl Serialize) {
        match serde_json::to_string(value) {
            Ok(mut text) => {
                text.push('\n');
                self.write(&text);
            }
            Err(e) => self.write_error(io::Error::other(e)),
        }
    }

    fn write_error(&self, e: io::Error) {
        if let Ok(mut g) = self.out.lock()
            && g.1.is_none()
        {
            g.1 = Some(e);
        }
    }

    /// An instance's findings and changes, as soon as its batch is done.
    pub fn instance(&self, line: &InstanceLine<'_>) {
        if self.json {
            self.json_line(line);
            return;
        }
        let uuid = escape(line.uuid);
        let mut text = String::new();
        if let Some(why) = line.skipped {
            let why = match why {
                "in_transition" => "a task is running on it",
                _ => "Nova held its rows locked",
            };
            text.push_str(&format!("{uuid} skipped: {why}; run again later\n"));
        }
        for f in &line.findings {
            let key = f.key.map_or_else(|| "-".to_owned(), escape);
            text.push_str(&format!(
                "{uuid} {} {} {key}: {}\n",
                f.severity,
                f.kind,
                escape(f.message)
            ));
        }
        for c in &line.changes {
            let show =
                |v: Option<&str>| v.map_or_else(|| "(none)".to_owned(), |v| format!("\"{}\"", escape(v)));
            let row = if c.soft_deleted_row {
                " (soft-deleted row)"
            } else {
                ""
            };
            text.push_str(&format!(
                "{uuid} change {}{row}: {} -> {} (fixes {})\n",
                escape(c.key),
                show(c.old),
                show(c.new),
                c.fixes
            ));
        }
        self.write(&text);
    }

    /// A cell's report.
    pub fn cell(&self, mode: Mode, report: &Report) {
        if self.json {
            #[derive(Serialize)]
            struct Cell<'a> {
                #[serde(rename = "type")]
                kind: &'static str,
                command: &'static str,
                #[serde(flatten)]
                report: &'a Report,
            }
            self.json_line(&Cell {
                kind: "cell",
                command: mode.name(),
                report,
            });
            return;
        }
        if report.error.is_some() {
            // Said once, on standard error, by the run.
            return;
        }
        let disabled = if report.disabled { " (disabled)" } else { "" };
        let mut text = format!(
            "nova-sysmeta-db {}, cell {}{disabled}: {} instances, {} with findings, {} to repair",
            mode.name(),
            escape(&report.cell),
            report.instances,
            report.with_findings,
            report.to_repair,
        );
        if mode == Mode::Applied {
            text.push_str(&format!(", {} repaired", report.repaired));
        }
        text.push_str(&format!(
            ", {} skipped in a transition, {} skipped as locked ({:.1} s)\n",
            report.skipped_in_transition, report.skipped_locked, report.seconds
        ));
        for (kind, n) in &report.findings {
            text.push_str(&format!("  {kind:<26} {n}\n"));
        }
        if mode != Mode::Audit {
            let verb = if mode == Mode::Applied {
                "written"
            } else {
                "planned (run with --apply to write them)"
            };
            text.push_str(&format!(
                "rows {verb}: {} updated, {} inserted, {} deleted, in {} batches ({} retried)\n",
                report.rows_updated,
                report.rows_inserted,
                report.rows_deleted,
                report.batches,
                report.retries
            ));
        }
        self.write(&text);
    }

    /// A cell left out.
    pub fn skipped(&self, skipped: &crate::cells::Skipped) {
        if self.json {
            #[derive(Serialize)]
            struct Line<'a> {
                #[serde(rename = "type")]
                kind: &'static str,
                #[serde(flatten)]
                skipped: &'a crate::cells::Skipped,
            }
            self.json_line(&Line {
                kind: "skipped_cell",
                skipped,
            });
        } else {
            self.write(&format!(
                "cell {} skipped: {}\n",
                escape(&skipped.name),
                skipped.why
            ));
        }
    }

    /// Free text (human output only) or a JSON object (JSON output only).
    pub fn text(&self, text: &str) {
        if !self.json {
            self.write(text);
        }
    }

    pub fn json(&self, value: &impl Serialize) {
        if self.json {
            self.json_line(value);
        }
    }
}

/// Progress on standard error: on a terminal, a bar per cell (indicatif);
/// elsewhere, a line a batch.
pub struct Progress {
    bars: Option<indicatif::MultiProgress>,
    cells: Mutex<BTreeMap<String, indicatif::ProgressBar>>,
}

impl Progress {
    pub fn new(terminal: bool) -> Self {
        Self {
            bars: terminal.then(indicatif::MultiProgress::new),
            cells: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn batch(&self, cell: &str, instances: u64) {
        let cell = escape(cell);
        let Some(bars) = &self.bars else {
            eprintln!("cell {cell}: {instances} instances read");
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
        bar.set_message(format!("cell {cell}: {instances} instances read"));
        bar.tick();
    }

    pub fn finish(&self) {
        if let Ok(cells) = self.cells.lock() {
            for bar in cells.values() {
                bar.finish();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escaping_keeps_quotes_and_stops_forgery() {
        assert_eq!(escape("it's \"fine\""), "it's \"fine\"");
        assert_eq!(
            escape("a\nb\x1b[31m\u{202e}c\\"),
            "a\\nb\\u{1b}[31m\\u{202e}c\\\\"
        );
        assert_eq!(escape("Ж é"), "Ж é");
    }
}
