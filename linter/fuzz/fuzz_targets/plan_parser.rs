//! Any bytes: parse as a plan, and lint and render whatever parses. Nothing may panic.
#![no_main]

use immutable_lint::config::Config;
use immutable_lint::lint::Linter;
use immutable_lint::output::{self, Format, RenderOptions};
use immutable_lint::plan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `parse` skips a byte-order mark and CI wrapper lines itself.
    let Ok(parsed) = plan::parse("fuzz.json", text) else {
        return;
    };
    let config = Config::default();
    let mut linter = Linter::new(&config, None, time::macros::date!(2026 - 01 - 01));
    linter.lint("fuzz.json", text, 0, &parsed);
    let report = linter.finish();
    for format in [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Junit,
        Format::Markdown,
    ] {
        let mut sink = Vec::new();
        let _ = output::render(format, &report, None, RenderOptions::default(), &mut sink);
    }
});
