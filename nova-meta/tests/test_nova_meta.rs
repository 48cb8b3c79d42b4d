//! `nova_meta`'s JSON Lines framing: one answer per non-blank line, in
//! order, errors as lines, nothing lost after a bad line.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

fn nova_meta() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nova_meta"))
}

fn run(input: &[u8]) -> (Vec<Value>, i32) {
    let mut child = Command::new(nova_meta())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nova_meta runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, out.status.code().unwrap_or(-1))
}

fn kind(v: &Value) -> &str {
    v["error"]["kind"].as_str().unwrap_or("ok")
}

#[test]
fn every_non_blank_line_gets_one_answer_in_order() {
    let mut input = Vec::new();
    input.extend_from_slice(
        b"{\"op\": \"remove_shelved_keys\", \"system_metadata\": {\"shelved_at\": \"t\"}}\n",
    );
    input.extend_from_slice(b"\n   \n");
    input.extend_from_slice(b"not json\n");
    input.extend_from_slice(
        b"{\"op\": \"image_from_system_metadata\", \"system_metadata\": {\"k\": \"\xff\"}}\n",
    );
    input.extend_from_slice(b"[1, 2]\n");
    input.extend_from_slice(b"{\"system_metadata\": {}}\n");
    input.extend_from_slice(b"{\"op\": 7}\n");
    input.extend_from_slice(b"{\"op\": \"fly\"}\n");
    input.extend_from_slice(b"{\"op\": \"ensure_base_image_ref\", \"system_metadata\": {}}\n");
    input.extend_from_slice(
        b"{\"op\": \"ensure_base_image_ref\", \"system_metadata\": {\"a\": [1]}, \"image_ref\": \"i\"}\n",
    );
    input.extend_from_slice(b"{\"op\": \"system_metadata_from_image\", \"image\": {\"min_disk\": \"x\"}, \"flavor\": {\"root_gb\": 1}}\n");
    // The last line has no newline and must still be answered.
    input.extend_from_slice(
        b"{\"op\": \"ensure_base_image_ref\", \"system_metadata\": {}, \"image_ref\": \"i\"}",
    );
    let (lines, code) = run(&input);
    assert_eq!(code, 0);
    let kinds: Vec<&str> = lines.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "ok",
            "invalid_json",
            "invalid_json",
            "invalid_request",
            "missing_field",
            "invalid_value",
            "unknown_op",
            "missing_field",
            "invalid_value",
            "not_an_integer",
            "ok"
        ]
    );
    assert_eq!(lines[0]["ok"], serde_json::json!({}));
    assert_eq!(lines[10]["ok"]["image_base_image_ref"], "i");
    for line in &lines[1..10] {
        assert!(!line["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn the_bundled_sample_runs() {
    let sample = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/sample.jsonl")).unwrap();
    let (lines, code) = run(&sample);
    assert_eq!(code, 0);
    let non_blank = sample
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    assert_eq!(lines.len(), non_blank);
    assert_eq!(
        lines[2]["ok"]["properties"]["base_image_ref"],
        "bbbbbbbb-0000-4000-8000-00000000000b"
    );
}

/// The sample's answers, byte for byte, are `sample.answers.jsonl`: a
/// change of any answer shows up here (and in review, as a diff of that
/// file). `NOVA_META_BLESS=1` writes the file anew.
#[test]
fn the_bundled_sample_answers_as_its_golden_file() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let sample = std::fs::read(format!("{dir}/sample.jsonl")).unwrap();
    let out = Command::new(nova_meta())
        .arg(format!("{dir}/sample.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!sample.is_empty() && !out.stdout.is_empty());
    let golden = format!("{dir}/sample.answers.jsonl");
    if std::env::var_os("NOVA_META_BLESS").is_some() {
        std::fs::write(&golden, &out.stdout).unwrap();
    }
    let want = std::fs::read(&golden).expect("sample.answers.jsonl (NOVA_META_BLESS=1 writes it)");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&want),
        "the sample's answers changed; if on purpose, run with NOVA_META_BLESS=1 and review the diff"
    );
}

#[test]
fn deeply_nested_and_huge_inputs_are_answered_not_crashed() {
    let deep = format!(
        "{{\"op\": \"system_metadata_from_image\", \"image\": {{\"properties\": {{\"p\": {}{}}}}}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let huge = format!(
        "{{\"op\": \"system_metadata_from_image\", \"image\": {{\"properties\": {{\"p\": \"{}\"}}}}}}\n",
        "é".repeat(1_000_000)
    );
    let big_int = "{\"op\": \"system_metadata_from_image\", \"image\": {\"properties\": {\"p\": 123456789012345678901234567890}}}\n";
    let (lines, code) = run(format!("{deep}{huge}{big_int}").as_bytes());
    assert_eq!(code, 0);
    // The line is JSON (its text is scanned without recursion); reading the
    // field into a value meets the crate's depth limit, not a stack overflow.
    assert_eq!(kind(&lines[0]), "invalid_value", "{}", lines[0]);
    assert!(
        lines[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deeper than 1000 levels")
    );
    assert_eq!(lines[1]["ok"]["image_p"].as_str().unwrap().len(), 254);
    assert_eq!(lines[2]["ok"]["image_p"], "123456789012345678901234567890");
}

#[test]
fn every_snapshot_op_honours_the_hardened_profile() {
    let common = r#""profile": "hardened", "allow": ["owner_user_name"],
        "system_metadata": {"image_os_type": "linux", "password_0": "c2VjcmV0", "owner_user_name": "alice"},
        "instance": {"uuid": "11111111-2222-4333-8444-555555555555", "project_id": "p",
                     "image_ref": "img", "display_name": "web"},
        "context": {"user_id": "u", "project_id": "p""#;
    let lines: Vec<String> = [
        r#""op": "initialize_snapshot_metadata", "name": "s""#,
        r#""op": "create_image", "image_type": "snapshot", "name": "s""#,
        r#""op": "backup", "backup_type": "daily", "name": "s""#,
        r#""op": "shelve""#,
        r#""op": "snapshot_volume_backed", "name": "s""#,
    ]
    .iter()
    .map(|op| format!("{{{op}, {}}}}}", common.replace('\n', " ")))
    .collect();
    let (answers, code) = run(lines.join("\n").as_bytes());
    assert_eq!(code, 0);
    assert_eq!(answers.len(), 5);
    for (line, answer) in lines.iter().zip(&answers) {
        assert_eq!(
            answer["ok"]["withheld"],
            serde_json::json!(["password_0"]),
            "{line}"
        );
        let props = &answer["ok"]["image"]["properties"];
        assert!(props.get("password_0").is_none(), "{line}: {answer}");
        assert_eq!(props["owner_user_name"], "alice", "{line}");
    }
}

#[test]
fn a_misspelt_field_inside_an_object_the_crate_defines_is_refused_by_its_path() {
    let snapshot = r#""system_metadata": {}, "name": "s", "instance": {"uuid": "00000000-0000-0000-0000-000000000001", "project_id": "p"}"#;
    let input = format!(
        r#"{{"op": "initialize_snapshot_metadata", {snapshot}, "context": {{"user_idd": "u", "project_id": "p"}}}}
{{"op": "initialize_snapshot_metadata", "system_metadata": {{}}, "name": "s", "context": {{"user_id": "u"}}, "instance": {{"uuid": "00000000-0000-0000-0000-000000000001", "project_id": "p", "displayname": "x"}}}}
{{"op": "system_metadata_from_image", "image": {{}}, "flavor": {{"root_gbs": 20}}}}
{{"op": "system_metadata_from_image", "image": {{}}, "flavor": {{"root_gb": 20, "name": "m1.small", "extra_specs": {{}}}}}}
{{"op": "lineage", "instance": {{"uuid": "u", "image_ref": "i", "imageref": "j"}}, "images": []}}
{{"op": "audit", "system_metadata": {{}}, "instance": {{"vmstate": "active"}}}}
{{"op": "to_glance", "image": {{"id": "i", "status": "active", "anything": [1]}}}}
"#
    );
    let (answers, code) = run(input.as_bytes());
    assert_eq!(code, 0);
    for (at, path) in [
        (0, "context.user_idd"),
        (1, "instance.displayname"),
        (2, "flavor.root_gbs"),
        (4, "instance.imageref"),
        (5, "instance.vmstate"),
    ] {
        assert_eq!(kind(&answers[at]), "invalid_request", "{}", answers[at]);
        let message = answers[at]["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{path}`")), "{message}");
    }
    // Nova's own flavor fields, and the image attributes Nova passes
    // through, are accepted.
    assert_eq!(answers[3]["ok"]["image_min_disk"], "20", "{}", answers[3]);
    assert!(answers[6]["ok"].is_object(), "{}", answers[6]);
}
