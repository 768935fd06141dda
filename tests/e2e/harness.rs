//! Checks of the harness itself; these pass without the provider.

use std::io::{BufRead, BufReader, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use e2e::{
    MOTO_AMI, MOTO_AMI_2, Moto, PROVIDER_SOURCE, TerraformWorkdir, provider_dir_from, venv_tool_in,
};

/// Whether a PID is a live process (a zombie counts as gone: it no longer runs anything).
fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn wait_until_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(100));
    }
    !is_alive(pid)
}

#[test]
fn moto_answers_and_is_stopped_by_pid_on_drop() {
    let moto = Moto::start();
    let pid = moto.server_pid();
    assert!(moto.is_answering(), "GET /moto-api/ on {}", moto.endpoint());
    assert!(is_alive(pid), "moto_server pid {pid} should be running");

    let aws = moto.aws();
    assert_eq!(
        aws.default_subnet_ids().len(),
        6,
        "moto's default VPC has six default subnets"
    );
    assert!(aws.image_exists(MOTO_AMI), "{MOTO_AMI} ships with moto");
    assert!(aws.image_exists(MOTO_AMI_2), "{MOTO_AMI_2} ships with moto");
    assert!(!aws.image_exists("ami-0000000000bogus0"));
    assert!(aws.fleet_asgs("harness-nothing").is_empty());

    let port = moto.port();
    drop(moto);
    assert!(
        wait_until_gone(pid, Duration::from_secs(15)),
        "moto_server pid {pid} still runs after Moto was dropped"
    );
    assert!(
        e2e::http_get_status(port, "/moto-api/").is_err(),
        "port {port} still answers after moto stopped"
    );
}

/// Not a test of its own: the body of a child process for `shared_moto_dies_with_its_process`.
#[test]
#[ignore = "run only as a child process by shared_moto_dies_with_its_process"]
fn child_starts_shared_moto_and_exits_without_dropping_it() {
    let moto = Moto::shared();
    println!("MOTO_PID={}", moto.server_pid());
    // Exit the way every test binary does: statics (the shared Moto) are never dropped.
    std::process::exit(0);
}

#[test]
fn shared_moto_dies_with_its_process() {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "harness::child_starts_shared_moto_and_exits_without_dropping_it",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let pid = stdout
        .lines()
        .map_while(Result::ok)
        // libtest prints "test <name> ... " on the same line first.
        .find_map(|line| {
            line.split_once("MOTO_PID=")
                .map(|(_, pid)| pid.trim().to_owned())
        })
        .and_then(|pid| pid.parse::<u32>().ok());
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    let pid = pid.unwrap_or_else(|| panic!("the child process printed no moto PID\n{stderr}"));
    assert!(status.success(), "child test process: {status}\n{stderr}");
    assert!(
        wait_until_gone(pid, Duration::from_secs(15)),
        "moto_server pid {pid} outlived the test process that started it"
    );
}

#[test]
fn terraform_runs_hermetically_and_failures_carry_their_output() {
    let moto = Moto::shared();
    let workdir = TerraformWorkdir::without_provider(moto);

    let version = workdir.run(&["version"]);
    assert!(
        version.stdout.starts_with("Terraform v1.0.3\n"),
        "{version}"
    );

    let env = workdir.env();
    assert_eq!(env["AWS_EC2_METADATA_DISABLED"], "true");
    assert_eq!(env["AWS_ENDPOINT_URL"], moto.endpoint());
    assert_eq!(env["CHECKPOINT_DISABLE"], "1");
    assert!(!env.contains_key("AWS_PROFILE"));
    let cli_config = std::fs::read_to_string(&env["TF_CLI_CONFIG_FILE"]).unwrap();
    assert!(
        cli_config.contains(&format!("\"{PROVIDER_SOURCE}\" =")),
        "{cli_config}"
    );

    workdir.write(
        "main.tf",
        "variable \"size\" {\n  type    = number\n  default = 2\n}\n\noutput \"double\" {\n  value = var.size * 2\n}\n",
    );
    let validate = workdir.run(&["validate"]);
    assert!(validate.stdout.contains("Success!"), "{validate}");
    workdir.apply(&[]);
    assert_eq!(workdir.outputs()["double"]["value"], 4);

    workdir.write("main.tf", "output \"broken\" {\n  value = var.missing\n}\n");
    let panic = catch_unwind(AssertUnwindSafe(|| workdir.run(&["validate"])))
        .expect_err("validate of an invalid configuration must fail");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("expected exit code [0]"), "{message}");
    assert!(message.contains("terraform validate"), "{message}");
    assert!(
        message.contains("Reference to undeclared input variable"),
        "{message}"
    );
    assert!(message.contains("2:   value = var.missing"), "{message}");
}

#[test]
fn missing_provider_and_venv_are_explained() {
    let empty = tempfile::tempdir().unwrap();
    let error = provider_dir_from(&[empty.path().to_path_buf()]).unwrap_err();
    assert!(
        error.contains("run cargo build -p terraform-provider-immutable"),
        "{error}"
    );
    assert!(
        error.contains(&empty.path().display().to_string()),
        "{error}"
    );

    let error = venv_tool_in(empty.path(), "terraform").unwrap_err();
    assert!(error.contains("run scripts/setup-venv.sh"), "{error}");

    std::fs::write(empty.path().join(e2e::PROVIDER_BINARY), "").unwrap();
    assert_eq!(
        provider_dir_from(&[
            Path::new("/nonexistent").to_path_buf(),
            empty.path().to_path_buf()
        ]),
        Ok(empty.path().to_path_buf())
    );
}
