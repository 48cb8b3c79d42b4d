//! The journal of a repair: before a batch commits, every row it changes,
//! deletes or inserts (as it was and as written) and every instance whose
//! `updated_at` it moves is written to a JSON Lines file and synced to
//! disk; after the commit, a `commit` line marks the batch done. `undo`
//! reads it back (see `undo.rs`).
//!
//! The journal checks itself: its first line names the run and the cells,
//! and every line starts with `{"sum":"<SHA-256>",`, the hash of the
//! previous line's sum and of this line's text after the sum. A line cut
//! short, edited by hand, removed, reordered or taken from another
//! journal breaks the chain, and `undo` refuses the journal, naming the
//! line. (The sums find damage and careless edits; someone who can both
//! rewrite the journal and recompute the chain could as well write to the
//! database, so no secret is kept.)
//!
//! ```text
//! {"sum":"…","type":"header","journal":"nova-sysmeta-db","version":2,"run":"…","cells":[…]}
//! {"sum":"…","type":"row","cell":"cell1","batch":3,"op":"update","before":{…},"after":{…}}
//! {"sum":"…","type":"instance","cell":"cell1","batch":3,"id":7,"uuid":"…","updated_at_before":…,"updated_at_after":…}
//! {"sum":"…","type":"commit","cell":"cell1","batch":3,"lines":2}
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

use crate::images;

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

    /// Live as Nova's `metadata_to_dict` counts it: `deleted` 0 or NULL.
    pub fn is_live(&self) -> bool {
        self.deleted.unwrap_or(0) == 0
    }
}

/// What a row line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Update,
    Delete,
    Insert,
}

/// A cell as the header names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalCell {
    pub name: String,
    pub uuid: Option<String>,
    /// The database, password hidden.
    pub database: String,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Line {
    /// The first line.
    Header {
        journal: String,
        version: u32,
        run: String,
        started: u64,
        cells: Vec<JournalCell>,
    },
    /// A row changed: `before` is `None` for an insert, `after` for a delete.
    Row {
        cell: String,
        batch: u64,
        op: Op,
        before: Option<Box<MetaRow>>,
        after: Option<Box<MetaRow>>,
    },
    /// An instance whose `updated_at` the repair set, as Nova's `save()`
    /// does; `max_row_id` is the highest id among its metadata rows once
    /// the repair wrote them (a row Nova adds later has a higher one).
    Instance {
        cell: String,
        batch: u64,
        id: u64,
        uuid: String,
        updated_at_before: Option<String>,
        updated_at_after: Option<String>,
        max_row_id: u64,
    },
    /// The batch committed; `lines` row and instance lines came before it.
    Commit { cell: String, batch: u64, lines: u64 },
    /// `image-property set` is about to write a `request_specs` row of the
    /// API database (row `id`): its `spec` before, and what it writes.
    Spec {
        id: u64,
        instance_uuid: String,
        before: String,
        after: String,
    },
}

impl Line {
    /// The cell a line is about (`None` for the header).
    pub fn cell(&self) -> Option<&str> {
        match self {
            Line::Row { cell, .. } | Line::Instance { cell, .. } | Line::Commit { cell, .. } => Some(cell),
            Line::Header { .. } | Line::Spec { .. } => None,
        }
    }
}

const MAGIC: &str = "nova-sysmeta-db";
const VERSION: u32 = 2;

fn sum(previous: &str, body: &str) -> String {
    let mut input = String::with_capacity(previous.len() + body.len() + 1);
    input.push_str(previous);
    input.push('\n');
    input.push_str(body);
    digest(&SHA256, input.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An open journal, appended to and synced per batch.
pub struct Journal {
    file: File,
    last_sum: String,
}

/// Seconds since the epoch, for headers.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Journal {
    /// Creates the journal at `path` (never an existing file: each run
    /// has its own) and writes its header.
    pub fn create(path: &Path, run: &str, cells: Vec<JournalCell>) -> io::Result<Self> {
        Self::create_with(
            path,
            &Line::Header {
                journal: MAGIC.to_owned(),
                version: VERSION,
                run: run.to_owned(),
                started: now(),
                cells,
            },
        )
    }

    /// Creates a journal at `path` whose first line is `header` (the
    /// images journal has lines of its own, chained the same way).
    pub fn create_with(path: &Path, header: &impl Serialize) -> io::Result<Self> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut journal = Self {
            file,
            last_sum: String::new(),
        };
        journal.write(std::slice::from_ref(header))?;
        Ok(journal)
    }

    /// Writes lines and syncs them to disk.
    pub fn write<T: Serialize>(&mut self, lines: &[T]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for line in lines {
            let body = serde_json::to_string(line).map_err(io::Error::other)?;
            // `body` is an object: `{...}`; the sum goes first.
            let rest = body
                .strip_prefix('{')
                .ok_or_else(|| io::Error::other("a journal line is not an object"))?;
            let line_sum = sum(&self.last_sum, &body);
            text.push_str("{\"sum\":\"");
            text.push_str(&line_sum);
            text.push_str("\",");
            text.push_str(rest);
            text.push('\n');
            self.last_sum = line_sum;
        }
        self.file.write_all(text.as_bytes())?;
        self.file.sync_data()
    }
}

/// A journal read back and checked.
#[derive(Debug)]
pub struct Read {
    /// The run's id, from the header.
    pub run: String,
    /// The cells the header names.
    pub cells: Vec<JournalCell>,
    /// Every line after the header, in order.
    pub lines: Vec<Line>,
    /// A last line cut short (no newline, not whole), accepted with
    /// `--torn-tail`: its number.
    pub torn_tail: Option<usize>,
}

/// Why a journal cannot be used.
#[derive(Debug)]
pub struct Damaged(pub String);

/// Reads the checksummed lines of the journal at `path`, each with its
/// number: a damaged, edited, reordered or foreign line is refused, naming
/// it; a last line cut short is refused too unless `torn_tail` is set (a
/// repair killed while writing its journal leaves one; so does an
/// interrupted copy, which may have lost more), then its number is
/// returned beside the lines.
pub fn read_chain<T: serde::de::DeserializeOwned>(path: &Path, torn_tail: bool) -> Result<Chain<T>, Damaged> {
    let damaged = |n: usize, why: &str| Damaged(format!("{}: line {n}: {why}", path.display()));
    let file = File::open(path).map_err(|e| Damaged(format!("{}: {e}", path.display())))?;
    let mut reader = BufReader::new(file);
    let mut previous = String::new();
    let mut lines = Vec::new();
    let mut buf = String::new();
    let mut n = 0;
    loop {
        buf.clear();
        let read = reader
            .read_line(&mut buf)
            .map_err(|e| Damaged(format!("{}: {e}", path.display())))?;
        if read == 0 {
            break;
        }
        n += 1;
        let Some(text) = buf.strip_suffix('\n') else {
            // The last line, with no newline: cut short.
            if torn_tail && !lines.is_empty() {
                return Ok(Chain {
                    lines,
                    torn_tail: Some(n),
                });
            }
            return Err(damaged(
                n,
                "the last line is cut short (a repair killed while writing, or an interrupted copy); \
                 nothing was undone. If the repair was killed, its last batch never committed: \
                 `undo --torn-tail` undoes the rest",
            ));
        };
        let (line_sum, rest) = text
            .strip_prefix("{\"sum\":\"")
            .and_then(|t| t.split_at_checked(64))
            .and_then(|(s, r)| r.strip_prefix("\",").map(|r| (s, r)))
            .ok_or_else(|| damaged(n, "not a journal line of nova-sysmeta-db (no checksum)"))?;
        let body = format!("{{{rest}");
        if sum(&previous, &body) != line_sum {
            return Err(damaged(
                n,
                "its checksum does not match: the line was changed, or a line before it was \
                 removed, added or reordered; nothing was undone",
            ));
        }
        previous = line_sum.to_owned();
        let line: T = serde_json::from_str(&body).map_err(|e| damaged(n, &format!("unreadable ({e})")))?;
        lines.push((n, line));
    }
    Ok(Chain {
        lines,
        torn_tail: None,
    })
}

/// The lines of a journal, read back and checked ([`read_chain`]).
pub struct Chain<T> {
    /// Each line with its number (from 1).
    pub lines: Vec<(usize, T)>,
    /// The number of a last line cut short, left out.
    pub torn_tail: Option<usize>,
}

/// Reads and checks the journal of a database repair at `path` (see
/// [`read_chain`]): it starts with its header, has one, and names only
/// the header's cells.
pub fn read(path: &Path, torn_tail: bool) -> Result<Read, Damaged> {
    let damaged = |n: usize, why: &str| Damaged(format!("{}: line {n}: {why}", path.display()));
    let Chain {
        lines: chain,
        torn_tail: torn,
    } = read_chain::<serde_json::Value>(path, torn_tail)?;
    let mut header: Option<(String, Vec<JournalCell>)> = None;
    let mut lines = Vec::new();
    for (n, value) in chain {
        if header.is_none() && value.get("journal").and_then(|j| j.as_str()) == Some(images::MAGIC) {
            return Err(damaged(
                n,
                "a journal of `images repair`: undo it with `images undo`",
            ));
        }
        let line: Line =
            serde_json::from_value(value).map_err(|e| damaged(n, &format!("unreadable ({e})")))?;
        match (&header, line) {
            (
                None,
                Line::Header {
                    journal,
                    version,
                    run,
                    cells,
                    ..
                },
            ) => {
                if journal != MAGIC || version != VERSION {
                    return Err(damaged(
                        n,
                        &format!("a {journal} journal of version {version}, not {MAGIC} {VERSION}"),
                    ));
                }
                header = Some((run, cells));
            }
            (None, _) => return Err(damaged(n, "the journal does not start with its header")),
            (Some(_), Line::Header { .. }) => return Err(damaged(n, "a second header: two journals joined")),
            // A request spec lives in the API database, in no cell.
            (Some(_), line @ Line::Spec { .. }) => lines.push(line),
            (Some((_, cells)), line) => {
                let cell = line.cell().unwrap_or_default();
                if !cells.iter().any(|c| c.name == cell) {
                    return Err(damaged(
                        n,
                        &format!("names cell {cell:?}, which the header does not"),
                    ));
                }
                lines.push(line);
            }
        }
    }
    let (run, cells) = header.ok_or_else(|| Damaged(format!("{}: empty: not a journal", path.display())))?;
    Ok(Read {
        run,
        cells,
        lines,
        torn_tail: torn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, value: &str) -> MetaRow {
        MetaRow {
            id,
            created_at: Some("2026-01-01 00:00:00".into()),
            updated_at: None,
            deleted_at: None,
            key: "image_base_image_ref".into(),
            value: Some(value.into()),
            instance_uuid: "u".into(),
            deleted: Some(0),
        }
    }

    fn sample(dir: &Path) -> std::path::PathBuf {
        let path = dir.join(format!("journal-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let cells = vec![JournalCell {
            name: "cell1".into(),
            uuid: None,
            database: "mysql://nova:***@db/nova".into(),
        }];
        let mut j = Journal::create(&path, "run-1", cells.clone()).unwrap();
        assert!(
            Journal::create(&path, "run-2", cells).is_err(),
            "an existing journal is never reused"
        );
        j.write(&[
            Line::Row {
                cell: "cell1".into(),
                batch: 1,
                op: Op::Insert,
                before: None,
                after: Some(Box::new(row(7, "img-a"))),
            },
            Line::Commit {
                cell: "cell1".into(),
                batch: 1,
                lines: 1,
            },
        ])
        .unwrap();
        path
    }

    #[test]
    fn a_journal_reads_back_whole() {
        let dir = std::env::temp_dir();
        let path = sample(&dir);
        let read = read(&path, false).unwrap();
        assert_eq!(
            (read.run.as_str(), read.lines.len(), read.torn_tail),
            ("run-1", 2, None)
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn damaged_edited_and_cut_journals_are_refused() {
        let dir = std::env::temp_dir().join(format!("nsdb-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = sample(&dir);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let check = |content: String, torn_ok: bool| {
            std::fs::write(&path, content).unwrap();
            read(&path, torn_ok).map(|r| r.lines.len()).map_err(|e| e.0)
        };
        // A forged value.
        let forged = text.replace("img-a", "img-x");
        assert!(
            check(forged, false)
                .unwrap_err()
                .contains("line 2: its checksum does not match")
        );
        // A line removed.
        let removed = format!("{}\n{}\n", lines[0], lines[2]);
        assert!(check(removed, false).unwrap_err().contains("line 2"));
        // Cut mid-line: refused, or the whole lines with --torn-tail.
        let cut = &text[..text.len() - 10];
        assert!(check(cut.to_owned(), false).unwrap_err().contains("cut short"));
        assert_eq!(check(cut.to_owned(), true).unwrap(), 1);
        // Not a journal.
        assert!(
            check("{\"cell\":\"c\"}\n".to_owned(), false)
                .unwrap_err()
                .contains("no checksum")
        );
        assert!(check(String::new(), false).unwrap_err().contains("empty"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
