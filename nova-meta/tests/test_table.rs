//! The README's op tables are the dispatcher's table, rendered: a field
//! added to an op shows up in `--help`, the README and the property test
//! at once, or this test fails. `NOVA_META_BLESS=1` rewrites the README.

use nova_meta::table::{Group, OPS, markdown};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");

fn with_tables(readme: &str) -> String {
    let mut out = String::new();
    let mut rest = readme;
    for (group, name) in [
        (Group::Core, "core"),
        (Group::Lifecycle, "lifecycle"),
        (Group::Typed, "typed"),
        (Group::Beyond, "beyond"),
    ] {
        let marker = format!("<!-- ops:{name} ");
        let start = rest
            .find(&marker)
            .unwrap_or_else(|| panic!("README has no {marker}... marker"));
        let open_end = start + rest[start..].find("-->\n").expect("marker closed") + 4;
        let close = open_end + rest[open_end..].find("<!-- /ops -->").expect("table closed");
        out.push_str(&rest[..open_end]);
        out.push_str(&markdown(group));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_readme_op_tables_are_the_dispatchers_table() {
    let readme = std::fs::read_to_string(README).unwrap();
    let want = with_tables(&readme);
    if std::env::var_os("NOVA_META_BLESS").is_some() {
        std::fs::write(README, &want).unwrap();
        return;
    }
    assert!(
        readme == want,
        "README op tables differ from nova-meta/src/table.rs; run with NOVA_META_BLESS=1"
    );
}

#[test]
fn every_op_of_the_table_is_dispatched_and_reads_only_its_fields() {
    for op in &OPS {
        // A request with every field null: the op runs (or names a missing
        // field) but is never unknown, and reading a field the table does
        // not list would trip the dispatcher's debug assertion (an
        // `internal` answer).
        let mut request = serde_json::Map::new();
        request.insert("op".into(), op.name.into());
        for field in op.fields {
            request.insert(field.name.into(), serde_json::Value::Null);
        }
        let line = serde_json::to_string(&request).unwrap();
        let answer: serde_json::Value =
            serde_json::from_str(&nova_meta::ops::answer_line(line.as_bytes())).unwrap();
        let kind = answer["error"]["kind"].as_str().unwrap_or("ok");
        assert!(
            !["unknown_op", "internal", "invalid_request"].contains(&kind),
            "{}: {answer}",
            op.name
        );
    }
    let help = nova_meta::table::help();
    assert!(OPS.iter().all(|op| help.contains(&format!("  {}: ", op.name))));
}
