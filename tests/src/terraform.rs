//! A throw-away Terraform working directory wired to the provider under test and to moto.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::moto::signal_pid;
use crate::{
    Moto, PROVIDER_BINARY, PROVIDER_SOURCE, REGION, TEST_ACCESS_KEY, TEST_SECRET_KEY, provider_dir,
    scratch_dir, terraform_binary,
};

/// Name of the saved plan that [`TerraformWorkdir::plan_json`] writes.
pub const PLAN_FILE: &str = "e2e.tfplan";
/// Upper bound for one terraform command unless `E2E_TERRAFORM_TIMEOUT_SECS` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_mins(5);
/// After SIGINT Terraform asks providers to Stop and exits; give it this long before SIGKILL.
const INTERRUPT_GRACE: Duration = Duration::from_secs(30);

/// Inherited variables that are useful when debugging and cannot send anything off-box.
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "TMPDIR",
    "LANG",
    "TF_LOG",
    "TF_LOG_CORE",
    "TF_LOG_PROVIDER",
    "TF_LOG_PATH",
    "RUST_LOG",
    "RUST_BACKTRACE",
];

/// Subcommands that get `-no-color` through `TF_CLI_ARGS_<name>`, so that output in panic
/// messages is readable.
const NO_COLOR_COMMANDS: &[&str] = &[
    "plan", "apply", "destroy", "import", "validate", "show", "refresh", "output",
];

/// A temporary directory holding `.tf` files, the Terraform CLI config and an isolated `HOME`,
/// plus the environment every command runs with (see [`TerraformWorkdir::env`]).
///
/// Layout: `<root>/cli.tfrc`, `<root>/home/`, `<root>/work/` (the working directory). The root
/// lives under `<repo>/.e2e/`; it is removed on drop unless the test is panicking, in which
/// case it is kept and its path printed.
#[derive(Debug)]
pub struct TerraformWorkdir {
    root: TempDir,
    work: PathBuf,
    terraform: PathBuf,
    env: BTreeMap<String, String>,
    timeout: Duration,
}

/// What one terraform command did.
#[derive(Debug, Clone)]
pub struct TfOutput {
    pub args: Vec<String>,
    pub dir: PathBuf,
    /// `None` if terraform was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl TfOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl fmt::Display for TfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.map_or_else(
            || "killed by a signal".to_owned(),
            |code| format!("exit {code}"),
        );
        writeln!(
            f,
            "terraform {} (in {}): {code} after {:.1}s",
            self.args.join(" "),
            self.dir.display(),
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

impl TerraformWorkdir {
    /// A working directory whose CLI config points `dev_overrides` for [`PROVIDER_SOURCE`] at
    /// the built provider. Panics with "run cargo build -p terraform-provider-immutable" if the
    /// binary does not exist, and with "run scripts/setup-venv.sh" if Terraform is missing.
    /// Terraform is [`terraform_binary`]: `.venv`'s 1.0.3 unless `$IMMUTABLE_TERRAFORM` is set.
    pub fn new(moto: &Moto) -> Self {
        Self::create(moto, Some(&provider_dir()))
    }

    /// A working directory that cannot load any provider (its `dev_overrides` point at an empty
    /// directory): for checks of the harness itself and of provider-free configuration.
    pub fn without_provider(moto: &Moto) -> Self {
        Self::create(moto, None)
    }

    fn create(moto: &Moto, provider_dir: Option<&Path>) -> Self {
        let terraform = terraform_binary().to_path_buf();
        let root = tempfile::Builder::new()
            .prefix("tf-")
            .tempdir_in(scratch_dir())
            .unwrap_or_else(|err| panic!("cannot create a temporary directory: {err}"));
        let work = root.path().join("work");
        let home = root.path().join("home");
        let empty_dir = root.path().join("no-providers");
        for dir in [&work, &home, &empty_dir] {
            fs::create_dir_all(dir)
                .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
        }
        let override_dir = provider_dir.unwrap_or(&empty_dir);

        // dev_overrides and no installation method: nothing is ever downloaded, and `terraform
        // init` is neither needed nor wanted (Terraform's CLI configuration docs, "Development
        // Overrides for Provider Developers").
        let cli_config = root.path().join("cli.tfrc");
        write_file(
            &cli_config,
            &format!(
                "disable_checkpoint = true\n\nprovider_installation {{\n  dev_overrides {{\n    {} = {}\n  }}\n}}\n",
                hcl_string(PROVIDER_SOURCE),
                hcl_string(&override_dir.display().to_string()),
            ),
        );

        let mut env = BTreeMap::new();
        for name in PASSED_THROUGH {
            if let Ok(value) = std::env::var(name) {
                env.insert((*name).to_owned(), value);
            }
        }
        let path_of = |p: &Path| p.display().to_string();
        let fixed = [
            ("HOME", path_of(&home)),
            ("TF_CLI_CONFIG_FILE", path_of(&cli_config)),
            ("CHECKPOINT_DISABLE", "1".to_owned()),
            ("TF_IN_AUTOMATION", "1".to_owned()),
            ("TF_INPUT", "0".to_owned()),
            ("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
            ("AWS_ENDPOINT_URL", moto.endpoint().to_owned()),
            // Nothing may ask the instance metadata service (a non-loopback address).
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            // No profile files from the real HOME; `home/` has none.
            ("AWS_CONFIG_FILE", path_of(&home.join(".aws/config"))),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                path_of(&home.join(".aws/credentials")),
            ),
        ];
        for (name, value) in fixed {
            env.insert(name.to_owned(), value);
        }
        for command in NO_COLOR_COMMANDS {
            env.insert(format!("TF_CLI_ARGS_{command}"), "-no-color".to_owned());
        }

        let timeout = std::env::var("E2E_TERRAFORM_TIMEOUT_SECS")
            .ok()
            .and_then(|secs| secs.parse().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);

        Self {
            root,
            work,
            terraform,
            env,
            timeout,
        }
    }

    /// The working directory (where the `.tf` files and the state live).
    pub fn path(&self) -> &Path {
        &self.work
    }

    /// The environment terraform runs with. Everything else from the test process is dropped,
    /// `AWS_PROFILE` and `TF_VAR_*` included.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// Runs terraform (and so the provider) with this AWS access key id: the fault proxy scopes
    /// faults and call counts by it, while moto keeps one shared account for every key.
    #[must_use]
    pub fn with_access_key(mut self, access_key: &str) -> Self {
        self.set_env("AWS_ACCESS_KEY_ID", access_key);
        self
    }

    /// The AWS access key id terraform runs with.
    pub fn access_key(&self) -> &str {
        self.env
            .get("AWS_ACCESS_KEY_ID")
            .map_or(TEST_ACCESS_KEY, String::as_str)
    }

    /// Upper bound for each terraform command of this workdir (default 5 minutes, or
    /// `E2E_TERRAFORM_TIMEOUT_SECS`); a longer environment setting wins.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = self.timeout.max(timeout);
    }

    /// Sets (or replaces) one variable of the environment terraform runs with.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.insert(name.to_owned(), value.to_owned());
    }

    /// Writes (or replaces) a file in the working directory.
    pub fn write(&self, name: &str, contents: &str) {
        write_file(&self.work.join(name), contents);
    }

    /// Copies the regular files of `source` (not recursively) into the working directory.
    pub fn copy_from(&self, source: &Path) {
        let entries = fs::read_dir(source)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", source.display()));
        for entry in entries {
            let entry =
                entry.unwrap_or_else(|err| panic!("cannot read {}: {err}", source.display()));
            if entry.file_type().is_ok_and(|kind| kind.is_file()) {
                let target = self.work.join(entry.file_name());
                fs::copy(entry.path(), &target).unwrap_or_else(|err| {
                    panic!(
                        "cannot copy {} to {}: {err}",
                        entry.path().display(),
                        target.display()
                    )
                });
            }
        }
    }

    /// Runs `terraform <args>` and returns what it did, whatever its exit code. Panics only if
    /// terraform cannot be started or exceeds the timeout (it is then interrupted, and killed
    /// by PID if it does not stop).
    pub fn try_run(&self, args: &[&str]) -> TfOutput {
        self.spawn(args).wait()
    }

    /// Starts `terraform <args>` in the background, for scenarios that act while it runs
    /// (signals, faults during a gate). [`RunningTerraform::wait`] collects the result.
    pub fn spawn(&self, args: &[&str]) -> RunningTerraform {
        let started = Instant::now();
        let mut child = Command::new(&self.terraform)
            .args(args)
            .current_dir(&self.work)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", self.terraform.display()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let collectors = [
            collect(child.stdout.take(), Arc::clone(&stdout)),
            collect(child.stderr.take(), Arc::clone(&stderr)),
        ];
        RunningTerraform {
            child,
            args: args.iter().map(|&arg| arg.to_owned()).collect(),
            dir: self.work.clone(),
            started,
            timeout: self.timeout,
            stdout,
            stderr,
            collectors,
        }
    }

    /// Runs `terraform <args>` and panics with the full output unless it exits 0.
    pub fn run(&self, args: &[&str]) -> TfOutput {
        self.run_expecting(args, &[0])
    }

    /// Runs `terraform <args>` and panics with the full output unless it exits with one of
    /// `codes`.
    pub fn run_expecting(&self, args: &[&str], codes: &[i32]) -> TfOutput {
        let output = self.try_run(args);
        assert!(
            output.code.is_some_and(|code| codes.contains(&code)),
            "expected exit code {codes:?}\n{output}"
        );
        output
    }

    /// `terraform apply -auto-approve -input=false <extra>`.
    pub fn apply(&self, extra: &[&str]) -> TfOutput {
        let mut args = vec!["apply", "-auto-approve", "-input=false"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Applies the plan saved by the last [`TerraformWorkdir::plan_json`], i.e. exactly the
    /// changes that were asserted on.
    pub fn apply_saved_plan(&self) -> TfOutput {
        self.run(&["apply", "-input=false", PLAN_FILE])
    }

    /// `terraform destroy -auto-approve -input=false <extra>`.
    pub fn destroy(&self, extra: &[&str]) -> TfOutput {
        let mut args = vec!["destroy", "-auto-approve", "-input=false"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `terraform plan -out=e2e.tfplan <args>` then `terraform show -json e2e.tfplan`, parsed.
    pub fn plan_json(&self, args: &[&str]) -> Value {
        let out_arg = format!("-out={PLAN_FILE}");
        let mut plan_args = vec!["plan", "-input=false", out_arg.as_str()];
        plan_args.extend_from_slice(args);
        self.run(&plan_args);
        self.show_json(&[PLAN_FILE])
    }

    /// `terraform show -json <args>` parsed (the state when `args` is empty).
    pub fn show_json(&self, args: &[&str]) -> Value {
        let mut show_args = vec!["show", "-json"];
        show_args.extend_from_slice(args);
        let output = self.run(&show_args);
        serde_json::from_str(&output.stdout).unwrap_or_else(|err| {
            panic!("terraform show -json printed invalid JSON: {err}\n{output}")
        })
    }

    /// `terraform plan -detailed-exitcode <args>`: `false` for exit 0 (no changes), `true` for
    /// exit 2 (changes); any other exit panics with the output.
    pub fn plan_has_changes(&self, args: &[&str]) -> (bool, TfOutput) {
        let mut plan_args = vec!["plan", "-input=false", "-detailed-exitcode"];
        plan_args.extend_from_slice(args);
        let output = self.run_expecting(&plan_args, &[0, 2]);
        (output.code == Some(2), output)
    }

    /// Panics, showing the plan, unless `terraform plan -detailed-exitcode` reports no changes.
    pub fn assert_no_changes(&self, context: &str) {
        let (changed, output) = self.plan_has_changes(&[]);
        assert!(
            !changed,
            "{context}: expected a plan with no changes, but terraform proposes some\n{output}"
        );
    }

    /// The `values` of one resource in the current state, or `None` if it is not in the state.
    pub fn state_values(&self, address: &str) -> Option<Value> {
        let state = self.show_json(&[]);
        crate::plan::module_resources(&state["values"]["root_module"])
            .into_iter()
            .find(|resource| resource["address"] == address)
            .map(|resource| resource["values"].clone())
    }

    /// `terraform output -json`, parsed: `{ "<name>": { "value": …, … } }`.
    pub fn outputs(&self) -> Value {
        let output = self.run(&["output", "-json"]);
        serde_json::from_str(&output.stdout).unwrap_or_else(|err| {
            panic!("terraform output -json printed invalid JSON: {err}\n{output}")
        })
    }
}

impl Drop for TerraformWorkdir {
    fn drop(&mut self) {
        if thread::panicking() {
            self.root.disable_cleanup(true);
            eprintln!(
                "[terraform] kept the working directory of the failed test: {}",
                self.work.display()
            );
        }
    }
}

/// An HCL string literal (JSON escapes are valid HCL; `${` and `%{` are escaped as templates).
pub(crate) fn hcl_string(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted.replace("${", "$${").replace("%{", "%%{")
}

fn write_file(path: &Path, contents: &str) {
    fs::write(path, contents)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
}

/// Copies a pipe into `buffer` as it arrives, so a running command's output can be read.
fn collect<R: Read + Send + 'static>(
    pipe: Option<R>,
    buffer: Arc<Mutex<Vec<u8>>>,
) -> Option<JoinHandle<()>> {
    pipe.map(|mut pipe| {
        thread::spawn(move || {
            let mut chunk = [0_u8; 8192];
            // A read error truncates the output; what was read is still worth showing.
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                lock(&buffer).extend_from_slice(&chunk[..n]);
            }
        })
    })
}

fn lock(buffer: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    // A collector that panicked leaves its bytes valid; keep using them.
    buffer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn text_of(buffer: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&lock(buffer)).into_owned()
}

/// A terraform command running in the background (see [`TerraformWorkdir::spawn`]).
#[derive(Debug)]
pub struct RunningTerraform {
    child: Child,
    args: Vec<String>,
    dir: PathBuf,
    started: Instant,
    timeout: Duration,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    collectors: [Option<JoinHandle<()>>; 2],
}

impl RunningTerraform {
    /// PID of the terraform process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Time since it was started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whether terraform has not exited yet.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What terraform printed to stderr so far (TF_LOG output goes there).
    pub fn stderr_so_far(&self) -> String {
        text_of(&self.stderr)
    }

    /// What terraform printed to stdout so far.
    pub fn stdout_so_far(&self) -> String {
        text_of(&self.stdout)
    }

    /// Ctrl-C as a terminal delivers it: SIGINT to terraform and every process below it, each
    /// by PID. Terraform 1.0 runs under panicwrap: the process we started ignores SIGINT and a
    /// child terraform does the work; that one asks its providers to Stop, and the providers
    /// themselves must ignore the signal.
    pub fn interrupt(&self) {
        interrupt_tree(self.pid());
    }

    /// PIDs of the provider processes terraform runs now: processes below it whose executable
    /// is [`PROVIDER_BINARY`], newest first. Found through `/proc`, never by name alone.
    pub fn provider_pids(&self) -> Vec<u32> {
        self.children()
            .into_iter()
            .filter(|(_, exe)| {
                exe.rsplit('/')
                    .next()
                    // A binary rebuilt while it runs reads as "<name> (deleted)".
                    .is_some_and(|name| name.starts_with(PROVIDER_BINARY))
            })
            .map(|(pid, _)| pid)
            .collect()
    }

    /// Every process below terraform with its executable, newest first.
    pub fn children(&self) -> Vec<(u32, String)> {
        descendants(self.pid())
            .into_iter()
            .map(|(pid, _)| {
                let exe = fs::read_link(format!("/proc/{pid}/exe"))
                    .map_or_else(|err| format!("<{err}>"), |exe| exe.display().to_string());
                (pid, exe)
            })
            .collect()
    }

    /// Waits for terraform to exit and returns what it did, whatever its exit code. Panics if
    /// it exceeds the workdir's timeout (it is then interrupted, and killed if need be).
    pub fn wait(mut self) -> TfOutput {
        let remaining = self.timeout.saturating_sub(self.elapsed());
        let status = wait_or_stop(&mut self.child, remaining);
        for collector in &mut self.collectors {
            if let Some(handle) = collector.take() {
                let _ = handle.join();
            }
        }
        let output = TfOutput {
            args: self.args.clone(),
            dir: self.dir.clone(),
            code: status.as_ref().and_then(ExitStatus::code),
            stdout: text_of(&self.stdout),
            stderr: text_of(&self.stderr),
            elapsed: self.started.elapsed(),
        };
        let Some(status) = status else {
            panic!(
                "terraform exceeded its {}s timeout (E2E_TERRAFORM_TIMEOUT_SECS) and was stopped\n{output}",
                self.timeout.as_secs()
            );
        };
        eprintln!(
            "[terraform] {} -> {status} in {:.1}s",
            output.args.join(" "),
            output.elapsed.as_secs_f64()
        );
        output
    }
}

/// SIGINT to `root` and every process below it, by PID.
fn interrupt_tree(root: u32) {
    signal_pid("-INT", root);
    for (pid, _) in descendants(root) {
        signal_pid("-INT", pid);
    }
}

/// Every process below `root` (children, their children, …) with its start time, newest
/// first.
fn descendants(root: u32) -> Vec<(u32, u64)> {
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for (pid, started_at) in child_processes(parent) {
            if !found.iter().any(|&(seen, _)| seen == pid) {
                parents.push(pid);
                found.push((pid, started_at));
            }
        }
    }
    found.sort_by_key(|&(_, started_at)| std::cmp::Reverse(started_at));
    found
}

/// Child processes of `parent` with their start times (clock ticks since boot), newest first.
fn child_processes(parent: u32) -> Vec<(u32, u64)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: Vec<(u32, u64)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let line = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Fields after the parenthesised command name: state, ppid, ... starttime is
            // field 22 of the whole line, i.e. index 19 after the name.
            let (_, rest) = line.rsplit_once(')')?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ppid: u32 = fields.get(1)?.parse().ok()?;
            let started_at: u64 = fields.get(19)?.parse().ok()?;
            let state = fields.first()?;
            (ppid == parent && *state != "Z").then_some((pid, started_at))
        })
        .collect();
    children.sort_by_key(|&(_, started_at)| std::cmp::Reverse(started_at));
    children
}

/// Waits for `child`; past `timeout` interrupts it and everything below it (Terraform stops
/// its providers on SIGINT), then kills them by PID. Returns `None` if it had to be stopped.
fn wait_or_stop(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    if let Some(status) = wait_until(child, Instant::now() + timeout) {
        return Some(status);
    }
    interrupt_tree(child.id());
    if wait_until(child, Instant::now() + INTERRUPT_GRACE).is_none() {
        // Newest (deepest) first: the provider, then the working terraform.
        for (pid, _) in descendants(child.id()) {
            signal_pid("-KILL", pid);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    None
}

fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => return None,
            Err(err) => panic!("cannot wait for terraform (pid {}): {err}", child.id()),
        }
    }
}
