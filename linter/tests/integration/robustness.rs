//! Arbitrary input never panics the parser or the rules (CI stands in for the fuzz target).

use immutable_lint::config::Config;
use immutable_lint::lint::Linter;
use immutable_lint::plan;
use proptest::prelude::*;

fn lint_text(text: &str) {
    if let Ok(parsed) = plan::parse("fuzz.json", text) {
        let config = Config::default();
        let mut linter = Linter::new(&config, None, time::macros::date!(2026 - 01 - 01));
        linter.lint("fuzz.json", text, 0, &parsed);
        let report = linter.finish();
        for format in [
            immutable_lint::output::Format::Human,
            immutable_lint::output::Format::Json,
            immutable_lint::output::Format::Sarif,
            immutable_lint::output::Format::Github,
            immutable_lint::output::Format::Junit,
            immutable_lint::output::Format::Markdown,
        ] {
            let mut out = Vec::new();
            immutable_lint::output::render(
                format,
                &report,
                None,
                immutable_lint::output::RenderOptions::default(),
                &mut out,
            )
            .unwrap();
        }
    }
}

fn seeds() -> Vec<String> {
    [
        "imm001_in_place_update.json",
        "imm002_destroy_before_create.json",
        "imm003_runtime_provisioner.json",
        "imm005_ssh_open_to_world.json",
    ]
    .iter()
    .map(|n| std::fs::read_to_string(crate::util::fixtures().join(n)).unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        lint_text(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_plans_never_panic(seed in 0usize..4, cut in 0usize..8000, at in 0usize..8000, byte in any::<u8>()) {
        let plans = seeds();
        let mut bytes = plans[seed].clone().into_bytes();
        let at = at % bytes.len();
        bytes[at] = byte;
        bytes.truncate(cut.max(1).min(bytes.len()));
        lint_text(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let text = format!(
        "{{\"format_version\":\"1.2\",\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(plan::parse("deep.json", &text).is_err());
}
