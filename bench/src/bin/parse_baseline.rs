//! The limit `immutable-lint` is measured against: read a plan file the way the linter does
//! (one `std::fs::read`, then UTF-8 validation into a `String`) and parse the whole JSON
//! document with serde_json, discarding every value. No program that looks at every byte of
//! the plan can be much faster than this.
//!
//! ```text
//! parse-baseline FILE
//! ```

use std::process::ExitCode;

use serde::de::IgnoredAny;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("usage: parse-baseline FILE");
        }
        return ExitCode::from(2);
    };
    let result = std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| String::from_utf8(bytes).map_err(|e| e.to_string()))
        .and_then(|text| {
            serde_json::from_str::<IgnoredAny>(&text)
                .map(|_| text.len())
                .map_err(|e| e.to_string())
        });
    #[allow(clippy::print_stderr)]
    match result {
        Ok(len) => {
            eprintln!("parse-baseline: {len} bytes parsed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("parse-baseline: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
