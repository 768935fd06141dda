//! The generators' command lines: reading flags and their values, refusing with the usage
//! (exit 2), and reporting the end of a run (exit 0, or 1 when writing failed).

use std::fmt::Display;
use std::process::ExitCode;
use std::str::FromStr;

/// The arguments after the program name, read flag by flag.
pub struct ArgList(std::vec::IntoIter<String>);

impl ArgList {
    /// This process's arguments.
    pub fn from_env() -> Self {
        Self(std::env::args().skip(1).collect::<Vec<_>>().into_iter())
    }

    /// The next flag, or `None` at the end.
    pub fn next_flag(&mut self) -> Option<String> {
        self.0.next()
    }

    /// The value after the flag `name` (the name is for the error message).
    pub fn value(&mut self, name: &str) -> Result<String, String> {
        self.0.next().ok_or(format!("{name} needs a value"))
    }

    /// The value after the flag `name`, as a number.
    pub fn number<T>(&mut self, name: &str) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.value(name)?
            .parse()
            .map_err(|e| format!("{name}: {e}"))
    }
}

/// The refusal of a flag the program does not take. `-h`/`--help` gives an empty message: the
/// usage alone is printed.
pub fn refuse(flag: &str) -> String {
    match flag {
        "-h" | "--help" => String::new(),
        other => format!("unknown argument `{other}`"),
    }
}

/// Reads this process's command line with `parse`. A refusal prints its message (if any) and the
/// usage, and gives exit code 2 (for `--help` too).
pub fn parse_args<T>(
    program: &str,
    usage: &str,
    parse: impl FnOnce(&mut ArgList) -> Result<T, String>,
) -> Result<T, ExitCode> {
    parse(&mut ArgList::from_env()).map_err(|message| {
        #[allow(clippy::print_stderr)]
        if message.is_empty() {
            eprintln!("{usage}");
        } else {
            eprintln!("{program}: {message}\n{usage}");
        }
        ExitCode::from(2)
    })
}

/// The end of a run that wrote to `output`: the report of what was written (exit 0), or the
/// error (exit 1), on stderr after the program's name.
pub fn finish(program: &str, output: &dyn Display, result: std::io::Result<String>) -> ExitCode {
    #[allow(clippy::print_stderr)]
    match result {
        Ok(report) => {
            eprintln!("{program}: {report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{program}: {output}: {e}");
            ExitCode::FAILURE
        }
    }
}
