//! Hostile text (for_each keys with line breaks, pipes, markup, control characters) must not
//! break the structure of any report format.

use crate::util::process;

/// A plan whose address holds every character that means something to one of the formats.
fn hostile_plan() -> String {
    let key = "a%b\r\nc::d,e:f|g<h>&'\"]`x\u{1}\u{FFFE}\u{7f}";
    let address = format!("aws_instance.w[\"{key}\"]");
    serde_json::json!({
        "format_version": "1.2",
        "resource_changes": [{
            "address": address, "type": "aws_instance", "name": "w",
            "change": {"actions": ["update"], "before": {"ami": "a"}, "after": {"ami": "b"}}
        }]
    })
    .to_string()
}

fn lint(format: &str) -> String {
    let out = process(
        &crate::util::fixtures(),
        &["--no-config", "--format", format, "-"],
        Some(hostile_plan().as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{format}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn junit_has_no_characters_xml_forbids_or_normalises() {
    let xml = lint("junit");
    assert!(!xml.contains('\u{FFFE}') && !xml.contains('\u{1}'), "{xml}");
    assert!(
        !xml.contains('\r'),
        "a literal CR would be read back as a line feed"
    );
    let testcase = xml
        .lines()
        .find(|l| l.contains("<testcase name=\"IMM001"))
        .unwrap();
    // The attribute keeps its line break as a reference, so the element stays on one line.
    assert!(testcase.contains("&#13;&#10;c::d"), "{testcase}");
    assert!(
        testcase.contains("&lt;h&gt;&amp;&apos;&quot;"),
        "{testcase}"
    );
}

#[test]
fn markdown_rows_stay_one_line_and_show_the_address_verbatim() {
    let md = lint("markdown");
    assert!(!md.contains('\r'), "{md:?}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ❌")).collect();
    assert_eq!(rows.len(), 1, "{md}");
    let row = rows[0];
    assert!(row.ends_with(" |"), "{row}");
    // The pipe is escaped; the backtick is kept inside a longer fence; `<` cannot open a tag.
    assert!(
        row.contains("``aws_instance.w[\"a%b c::d,e:f\\|g<h>&'\"]`x"),
        "{row}"
    );
    assert!(row.contains("f\\|g&lt;h>"), "{row}");
}

#[test]
fn github_commands_escape_data_and_properties() {
    let gh = lint("github");
    let error = gh.lines().find(|l| l.starts_with("::error")).unwrap();
    assert!(error.contains("a%25b%0D%0Ac::d"), "{error}");
    assert_eq!(
        gh.lines().filter(|l| l.starts_with("::")).count(),
        gh.lines().count()
    );
}
