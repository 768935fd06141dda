//! The committed rule pages must match what the rules' doc comments generate.

use std::path::Path;

use immutable_lint::{docs, rules};

use crate::util::run;

#[test]
fn committed_rule_pages_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules");
    for (name, expected) in docs::pages() {
        let actual = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/rules/{name} is stale; regenerate with `{}`",
            docs::REGENERATE
        );
    }
}

#[test]
fn explain_prints_the_rule_page_body() {
    for info in rules::infos() {
        let by_code = run(&["--explain", info.code]);
        assert_eq!(by_code.code, 0);
        assert!(by_code.stdout.contains("### Why is this bad?"));
        assert!(by_code.stdout.contains(&info.explain()));
        let by_name = run(&["--explain", info.name]);
        assert_eq!(by_name.stdout, by_code.stdout);
    }
    let unknown = run(&["--explain", "IMM999"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stdout.is_empty());
    assert!(unknown.stderr.contains("unknown rule"));
}
