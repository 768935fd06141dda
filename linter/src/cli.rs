//! The command line: arguments, the run, exit status (0 clean, 1 findings, 2 error).

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

use crate::catalog::Catalog;
use crate::config::{self, Config};
use crate::lint::Linter;
use crate::output::{self, Format, RenderOptions};
use crate::source::{SourceError, SourceMap};
use crate::tfconfig::{self, Configuration};
use crate::{docs, input, plan, rules};

/// Exit status: no error-severity finding.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status: at least one error-severity finding.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: usage or input error.
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Rejects Terraform/OpenTofu plans that would change servers in place, replace them
/// destroy-first, or configure them at runtime.
///
/// Exit status: 0 no error-severity finding, 1 findings, 2 usage or input error.
#[derive(Debug, Parser)]
#[allow(clippy::struct_excessive_bools)] // each bool is a command-line flag
#[command(name = "immutable-lint", version, about, long_about = None, max_term_width = 100)]
pub struct Args {
    /// Plan files: `terraform show -json` output, `-` for standard input, or binary plan
    /// files (converted with `terraform show -json`); or Terraform configuration directories,
    /// linted without a plan (configuration mode)
    #[arg(value_name = "PLAN|DIR")]
    pub plans: Vec<String>,

    /// Configuration mode: a tfvars file for the root module of each DIR (repeatable; after
    /// terraform.tfvars and *.auto.tfvars, as in Terraform)
    #[arg(long, value_name = "FILE")]
    pub var_file: Vec<PathBuf>,

    /// Report format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Config file [default: .immutable-lint.toml found upward from the working directory]
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore any .immutable-lint.toml
    #[arg(long)]
    pub no_config: bool,

    /// Terraform configuration directory: file:line locations and inline ignores
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,

    /// Any update of an instance-bearing resource is a finding, benign attributes included
    #[arg(long)]
    pub strict: bool,

    /// Program that converts binary plans (`terraform`, `tofu`, a path)
    #[arg(
        long,
        value_name = "BIN",
        default_value = "terraform",
        env = "IMMUTABLE_LINT_TERRAFORM"
    )]
    pub terraform_bin: String,

    /// List the rules and exit
    #[arg(long)]
    pub list_rules: bool,

    /// List the catalogue of instance-bearing resource types and exit
    #[arg(long)]
    pub list_types: bool,

    /// Print a rule's documentation (IMM001 or in-place-update) and exit
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,

    /// When to color the human report
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// More logging on standard error (-v info, -vv debug)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Write the rule documentation pages into DIR and exit
    #[arg(long, value_name = "DIR", hide = true)]
    pub generate_docs: Option<PathBuf>,
}

fn print_diagnostic(err: &mut dyn Write, diagnostic: &dyn Diagnostic) {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut text = String::new();
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    if handler.render_report(&mut text, diagnostic).is_err() {
        text = format!("error: {diagnostic}\n");
    }
    let _ = writeln!(err, "{text}");
}

fn usage_error(err: &mut dyn Write, message: &str) -> u8 {
    let _ = writeln!(
        err,
        "error: {message}\n\nFor more information, try '--help'."
    );
    EXIT_ERROR
}

/// Runs the linter with command-line `args`; returns the exit status.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                write!(err, "{text}")
            } else {
                write!(out, "{text}")
            };
            return code;
        }
    };
    init_logging(args.verbose);
    match execute(&args, out, err) {
        Ok(code) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_CLEAN,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            EXIT_ERROR
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("IMMUTABLE_LINT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Escape codes only for a terminal: CI logs and redirected stderr get plain text.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // A second init (tests calling run twice) is harmless.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}

fn execute(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<u8> {
    if let Some(dir) = &args.generate_docs {
        docs::write(dir)?;
        writeln!(
            err,
            "wrote {} pages to {}",
            docs::pages().len(),
            dir.display()
        )?;
        return Ok(EXIT_CLEAN);
    }
    if let Some(rule) = &args.explain {
        let Some(info) = rules::find(rule) else {
            return Ok(usage_error(
                err,
                &format!("unknown rule {rule:?}; `immutable-lint --list-rules` lists them"),
            ));
        };
        write!(
            out,
            "# {}: {}\n\nDefault severity: {}\nConfiguration mode: {}\n\n{}",
            info.code,
            info.name,
            info.default_severity.as_str(),
            if info.config_form() { "yes" } else { "no" },
            info.explain()
        )?;
        return Ok(EXIT_CLEAN);
    }
    if args.list_rules {
        for r in rules::infos() {
            writeln!(
                out,
                "{}  {:<8} {:<24} {}",
                r.code,
                r.default_severity.as_str(),
                r.name,
                r.summary
            )?;
        }
        return Ok(EXIT_CLEAN);
    }

    let config = match load_config(args) {
        Ok(config) => config,
        Err(diagnostic) => {
            print_diagnostic(err, diagnostic.as_ref());
            return Ok(EXIT_ERROR);
        }
    };
    if args.list_types {
        list_types(&config.catalog, out)?;
        return Ok(EXIT_CLEAN);
    }
    if args.plans.is_empty() {
        return Ok(usage_error(
            err,
            &format!(
                "no plan given; pass plan JSON files or `-` for standard input (make one with `{}`), or a Terraform directory to lint its configuration",
                plan::HOW_TO_MAKE_A_PLAN
            ),
        ));
    }
    let mut config = config;
    config.strict |= args.strict;

    let source = match &args.source {
        None => None,
        Some(dir) => match SourceMap::load(dir) {
            Ok(map) => Some(map),
            Err(e) => {
                print_diagnostic(err, &e);
                return Ok(EXIT_ERROR);
            }
        },
    };

    // Configuration directories are read first: the report borrows their source maps.
    let configurations = load_configurations(args, err);
    let report = lint_inputs(args, &config, source.as_ref(), &configurations, err);
    if report.plans.is_empty() {
        // Nothing was linted: a report would only look like a pass.
        return Ok(EXIT_ERROR);
    }

    let options = RenderOptions {
        color: use_color(args),
        width: 100,
    };
    let mut sink = std::io::BufWriter::new(match &args.output {
        Some(path) => Box::new(std::fs::File::create(path)?) as Box<dyn Write + '_>,
        // Standard output is line-buffered: unbuffered, a long report costs a write per line.
        None => Box::new(&mut *out),
    });
    let merged = merged_files(source.as_ref(), &configurations);
    output::render(
        args.format,
        &report,
        merged.as_ref().or(source.as_ref()),
        options,
        &mut sink,
    )?;
    sink.flush()?;
    drop(sink);
    out.flush()?;
    Ok(report.exit_code())
}

fn use_color(args: &Args) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

/// With configurations among the inputs, the files of every source map: the human report
/// quotes the .tf files of every input.
fn merged_files(source: Option<&SourceMap>, configurations: &[Loaded]) -> Option<SourceMap> {
    let loaded: Vec<&SourceMap> = configurations
        .iter()
        .filter_map(|(_, c)| c.as_ref().map(|c| &c.source))
        .collect();
    (!loaded.is_empty()).then(|| SourceMap::files_of(source.into_iter().chain(loaded)))
}

/// Whether a command-line input is a configuration directory rather than a plan.
fn is_configuration(arg: &str) -> bool {
    arg != "-" && Path::new(arg).is_dir()
}

/// A configuration directory as given, and what reading it produced.
type Loaded = (String, Option<Configuration>);

/// Reads every configuration directory among the inputs; problems are printed (a directory
/// that cannot be read at all is remembered as `None`).
fn load_configurations(args: &Args, err: &mut dyn Write) -> Vec<Loaded> {
    args.plans
        .iter()
        .filter(|arg| is_configuration(arg))
        .map(|arg| match tfconfig::load(Path::new(arg), &args.var_file) {
            Ok(configuration) => {
                tracing::info!(
                    "{arg}: {} files, {} resources",
                    configuration.files,
                    configuration.resources.len()
                );
                for e in &configuration.errors {
                    print_diagnostic(err, e);
                }
                (arg.clone(), Some(configuration))
            }
            Err(e) => {
                print_diagnostic(err, &e);
                (arg.clone(), None)
            }
        })
        .collect()
}

/// Reads, parses and lints every plan and configuration; input errors are printed and
/// remembered.
fn lint_inputs<'a>(
    args: &Args,
    config: &'a Config,
    source: Option<&'a SourceMap>,
    configurations: &'a [Loaded],
    err: &mut dyn Write,
) -> crate::report::Report {
    let today = time::OffsetDateTime::now_utc().date();
    let mut linter = Linter::new(config, source, today);
    let mut configurations = configurations.iter();
    for arg in &args.plans {
        if is_configuration(arg) {
            match configurations.next() {
                Some((name, Some(configuration))) => {
                    // A file that does not parse is an input error (exit 2); the rest of
                    // the directory is still linted and reported.
                    for e in &configuration.errors {
                        linter.input_failed(&error_path(e));
                    }
                    linter.lint_configuration(name, configuration);
                }
                Some((name, None)) => linter.input_failed(name),
                None => linter.input_failed(arg),
            }
            continue;
        }
        let input = match input::read(arg, &args.terraform_bin, args.source.as_deref()) {
            Ok(input) => input,
            Err(e) => {
                print_diagnostic(err, &e);
                linter.input_failed(if arg == "-" { input::STDIN_NAME } else { arg });
                continue;
            }
        };
        if input.json.start > 0 || input.json.end < input.text.len() {
            tracing::info!(
                "{}: ignored lines a CI wrapper added around the JSON",
                input.name
            );
        }
        // `parse` skips the wrapper lines itself, so positions count them.
        match plan::parse_within(&input.name, &input.text, input.json.clone()) {
            Ok(parsed) => linter.lint(&input.name, &input.text, 0, &parsed),
            Err(e) => {
                print_diagnostic(err, &e);
                linter.input_failed(&input.name);
            }
        }
    }
    linter.finish()
}

/// The file a source error is about.
fn error_path(e: &SourceError) -> String {
    match e {
        SourceError::Read { path, .. }
        | SourceError::Parse { path, .. }
        | SourceError::NoConfiguration { path }
        | SourceError::NoTerraformFiles { path } => path.display().to_string(),
    }
}

fn load_config(args: &Args) -> Result<Config, Box<dyn Diagnostic + Send + Sync>> {
    if args.no_config {
        return Ok(Config::default());
    }
    let path = match &args.config {
        Some(path) => Some(path.clone()),
        None => std::env::current_dir()
            .ok()
            .and_then(|dir| config::find_upward(&dir).map(|found| relative_to(&dir, &found))),
    };
    match path {
        None => Ok(Config::default()),
        Some(path) => {
            tracing::info!("config: {}", path.display());
            Config::load(&path).map_err(|e| Box::new(e) as Box<dyn Diagnostic + Send + Sync>)
        }
    }
}

/// `found` (in `dir` or an ancestor of it) as `../../.immutable-lint.toml`, for messages.
fn relative_to(dir: &std::path::Path, found: &std::path::Path) -> PathBuf {
    let Some(config_dir) = found.parent() else {
        return found.to_owned();
    };
    if !dir.starts_with(config_dir) {
        return found.to_owned();
    }
    let levels = dir.components().count() - config_dir.components().count();
    let mut relative: PathBuf = std::iter::repeat_n("..", levels).collect();
    relative.push(config::FILE_NAME);
    relative
}

fn list_types(catalog: &Catalog, out: &mut dyn Write) -> std::io::Result<()> {
    for (name, info) in catalog.entries() {
        let benign = if info.benign.is_empty() {
            String::new()
        } else {
            info.benign.join(", ")
        };
        writeln!(
            out,
            "{name:<48} {:<13} {:<9} {benign}",
            info.provider,
            info.kind.as_str()
        )?;
    }
    writeln!(
        out,
        "\nBenign on every type: {}",
        crate::catalog::COMMON_BENIGN.join(", ")
    )
}
