//! Install and packaging as a team uses them (issue #6): `scripts/package.sh` output served as a
//! provider network mirror over HTTPS and installed by `terraform init`; `scripts/install.sh`
//! into the implied local mirror under `~/.terraform.d/plugins`, found with no CLI config.
//!
//! Both package the debug binary the other scenarios use (`--binary`), so CI never builds a
//! release for them.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use e2e::hcl::{self, TERRAFORM_BLOCK};
use e2e::{HttpsStaticServer, PROVIDER_BINARY, provider_dir, repo_root, scratch_dir};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::Scenario;

mod registry;

/// The workspace version, which both scripts default to and the binary reports.
const VERSION: &str = env!("CARGO_PKG_VERSION");
const SOURCE_PATH: &str = "immutable-infra/immutable";

fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}_{arch}")
}

fn provider_binary() -> PathBuf {
    provider_dir().join(PROVIDER_BINARY)
}

fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(scratch_dir())
        .unwrap()
}

/// Runs a script of the repository and panics with its output unless it exits 0.
fn run_script(mut command: Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {what}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Terraform's `h1:` hash of a package whose only file is `name` holding `content`: sha256 over
/// the line `<sha256 hex of content>  <name>\n`, base64.
fn h1_of_single_file(name: &str, content: &[u8]) -> String {
    let summary = format!("{}  {name}\n", sha256_hex(content));
    let digest = Sha256::digest(summary.as_bytes());
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}\n{text}", path.display()))
}

/// The `hashes` recorded for `provider` (full address) in the working directory's lock file, or
/// a panic showing the file.
fn locked_hashes(workdir: &Path, provider: &str, version: &str) -> Vec<String> {
    let lock = fs::read_to_string(workdir.join(".terraform.lock.hcl")).unwrap();
    let block = lock
        .split(&format!("provider \"{provider}\" {{"))
        .nth(1)
        .unwrap_or_else(|| panic!("no lock entry for {provider}:\n{lock}"));
    let block = &block[..block.find("\n}").unwrap_or(block.len())];
    assert!(
        block.contains(&format!("version = \"{version}\"")),
        "the lock file should select {provider} {version}:\n{lock}"
    );
    block
        .split('"')
        .filter(|item| item.starts_with("h1:") || item.starts_with("zh:"))
        .map(str::to_owned)
        .collect()
}

/// Checks what `package.sh` wrote to `dist` against the binary it packaged: zip, manifest, both
/// sums files, and the network mirror documents for both hosts. Returns the zip's file name and
/// the package's `h1:` hash.
fn assert_release_artifacts(dist: &Path, binary_bytes: &[u8]) -> (String, String) {
    let platform = platform();
    let stem = format!("terraform-provider-immutable_{VERSION}");
    let zip_name = format!("{stem}_{platform}.zip");
    let zip_sha = sha256_hex(&fs::read(dist.join(&zip_name)).unwrap());
    let manifest_name = format!("{stem}_manifest.json");
    let manifest = read_json(&dist.join(&manifest_name));
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["5.0"]}})
    );
    let manifest_sha = sha256_hex(&fs::read(dist.join(&manifest_name)).unwrap());
    let expected_sums = format!("{zip_sha}  {zip_name}\n{manifest_sha}  {manifest_name}\n");
    for sums in [format!("{stem}_SHA256SUMS"), "SHA256SUMS".to_owned()] {
        assert_eq!(
            fs::read_to_string(dist.join(&sums)).unwrap(),
            expected_sums,
            "{sums}"
        );
    }

    // What the network mirror protocol serves, for both hosts the short source can mean.
    let h1 = h1_of_single_file(
        &format!("terraform-provider-immutable_v{VERSION}"),
        binary_bytes,
    );
    for host in ["registry.terraform.io", "registry.opentofu.org"] {
        let provider_dir = dist.join("mirror").join(host).join(SOURCE_PATH);
        assert_eq!(
            read_json(&provider_dir.join("index.json")),
            serde_json::json!({"versions": {VERSION: {}}}),
            "{host} index.json"
        );
        assert_eq!(
            read_json(&provider_dir.join(format!("{VERSION}.json"))),
            serde_json::json!({"archives": {platform.as_str(): {
                "url": zip_name,
                "hashes": [h1, format!("zh:{zip_sha}")],
            }}}),
            "{host} {VERSION}.json"
        );
        assert!(provider_dir.join(&zip_name).is_file());
    }

    (zip_name, h1)
}

#[test]
fn package_sh_mirror_served_over_https_installs_with_terraform_init_and_plans() {
    let scenario = Scenario::start("packaging-mirror");
    let binary = provider_binary();
    let binary_bytes = fs::read(&binary).unwrap();
    let platform = platform();
    let out = temp_dir("package-");
    let dist = out.path().join("dist");

    scenario.step("scripts/package.sh --binary <debug build>");
    let mut package = Command::new(repo_root().join("scripts/package.sh"));
    package.arg("--binary").arg(&binary).arg("--out").arg(&dist);
    run_script(package, "scripts/package.sh");

    let (zip_name, h1) = assert_release_artifacts(&dist, &binary_bytes);

    let server = HttpsStaticServer::start(&dist.join("mirror"), out.path());
    let cli_config = out.path().join("mirror.tfrc");
    fs::write(
        &cli_config,
        format!(
            "disable_checkpoint = true\n\nprovider_installation {{\n  network_mirror {{\n    url = \"{}\"\n  }}\n}}\n",
            server.url()
        ),
    )
    .unwrap();
    let mut workdir = scenario.workdir();
    workdir.set_env("TF_CLI_CONFIG_FILE", &cli_config.display().to_string());
    workdir.set_env("SSL_CERT_FILE", &server.ca_file().display().to_string());
    let fleet = scenario.fleet("web", "packaging-mirror-web");
    workdir.write("main.tf", &hcl::config(&hcl::provider_block(), &[&fleet]));

    scenario.step(&format!("terraform init from {}", server.url()));
    let init = workdir.run(&["init", "-input=false", "-no-color"]);
    assert!(
        init.stdout.contains(&format!(
            "Installed {SOURCE_PATH} v{VERSION} (verified checksum)"
        )),
        "terraform init should install and verify v{VERSION} from the mirror\n{init}"
    );
    let requests = server.served();
    let zip_request = format!("200 /registry.terraform.io/{SOURCE_PATH}/{zip_name}");
    assert!(
        requests.contains(&zip_request),
        "the zip came from the mirror: {requests:?}"
    );
    let locked = locked_hashes(
        workdir.path(),
        &format!("registry.terraform.io/{SOURCE_PATH}"),
        VERSION,
    );
    assert!(
        locked.contains(&h1),
        "the lock file records the package hash the mirror published ({h1}): {locked:?}"
    );
    let installed = workdir.path().join(format!(
        ".terraform/providers/registry.terraform.io/{SOURCE_PATH}/{VERSION}/{platform}/terraform-provider-immutable_v{VERSION}"
    ));
    let mode = fs::metadata(&installed)
        .unwrap_or_else(|err| panic!("{} was not installed: {err}", installed.display()))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "{} is executable", installed.display());

    let version = workdir.run(&["version"]);
    assert!(
        version.stdout.contains(&format!(
            "provider registry.terraform.io/{SOURCE_PATH} v{VERSION}"
        )),
        "terraform version lists the installed provider\n{version}"
    );

    scenario.step("terraform plan with the installed binary");
    let log = out.path().join("provider.log");
    workdir.set_env("TF_LOG_PROVIDER", "INFO");
    workdir.set_env("TF_LOG_PATH", &log.display().to_string());
    let (changed, plan) = workdir.plan_has_changes(&[]);
    assert!(
        changed && plan.stdout.contains("immutable_fleet.web will be created"),
        "the installed provider plans the fleet\n{plan}"
    );
    let log = fs::read_to_string(&log).unwrap();
    // Terraform names a provider's log lines after the executable it started: the versioned
    // name exists only in the installed package (dev_overrides run `terraform-provider-immutable`).
    let logged_version = format!(
        "provider.terraform-provider-immutable_v{VERSION}: terraform-provider-immutable v{VERSION}:"
    );
    assert!(
        log.contains(&logged_version),
        "the installed binary ran and logged its version ({logged_version}):\n{log}"
    );
}

#[test]
fn install_sh_fills_the_implied_local_mirror_found_without_cli_config() {
    let scenario = Scenario::start("packaging-install");
    let binary = provider_binary();
    let home = temp_dir("install-home-");

    scenario.step("scripts/install.sh --binary <debug build> with a fresh HOME");
    let mut install = Command::new(repo_root().join("scripts/install.sh"));
    install
        .arg("--binary")
        .arg(&binary)
        .env("HOME", home.path())
        .env_remove("TF_PLUGIN_DIR");
    let printed = run_script(install, "scripts/install.sh");
    assert!(
        printed.contains("terraform init"),
        "says what to do next:\n{printed}"
    );

    let platform = platform();
    let file_name = format!("terraform-provider-immutable_v{VERSION}");
    for host in ["registry.terraform.io", "registry.opentofu.org"] {
        let installed = home.path().join(format!(
            ".terraform.d/plugins/{host}/{SOURCE_PATH}/{VERSION}/{platform}/{file_name}"
        ));
        let metadata = fs::metadata(&installed)
            .unwrap_or_else(|err| panic!("{} was not installed: {err}", installed.display()));
        assert_eq!(metadata.permissions().mode() & 0o777, 0o755);
        assert!(
            printed.contains(&installed.display().to_string()),
            "prints where it installed:\n{printed}"
        );
    }

    // The short source (Terraform's host) and the explicit OpenTofu host: the second proves the
    // registry.opentofu.org tree is well-formed, which is where `tofu` looks for the short source.
    let h1 = h1_of_single_file(&file_name, &fs::read(&binary).unwrap());
    for (source, address) in [
        (
            SOURCE_PATH.to_owned(),
            format!("registry.terraform.io/{SOURCE_PATH}"),
        ),
        (
            format!("registry.opentofu.org/{SOURCE_PATH}"),
            format!("registry.opentofu.org/{SOURCE_PATH}"),
        ),
    ] {
        scenario.step(&format!("terraform init, no CLI config, source {source}"));
        let mut workdir = scenario.workdir();
        workdir.set_env("HOME", &home.path().display().to_string());
        // Empty is unset for Terraform: it falls back to $HOME/.terraformrc, which does not exist.
        workdir.set_env("TF_CLI_CONFIG_FILE", "");
        workdir.write(
            "main.tf",
            &TERRAFORM_BLOCK.replace(&format!("\"{SOURCE_PATH}\""), &format!("\"{source}\"")),
        );
        let init = workdir.run(&["init", "-input=false", "-no-color"]);
        assert!(
            init.stdout
                .contains(&format!("Installed {source} v{VERSION}")),
            "terraform init installs v{VERSION} from ~/.terraform.d/plugins\n{init}"
        );
        let locked = locked_hashes(workdir.path(), &address, VERSION);
        assert_eq!(
            locked,
            vec![h1.clone()],
            "Terraform's own hash of the installed directory is the h1 package.sh publishes"
        );
        let version = workdir.run(&["version"]);
        assert!(
            version
                .stdout
                .contains(&format!("provider {address} v{VERSION}")),
            "{version}"
        );
    }
}
