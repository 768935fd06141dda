//! A signed release in the provider registry's shape (issue #15): `scripts/package.sh --gpg-key`
//! signs the sums with an RSA key made here, in a throw-away `GNUPGHOME`, and lays the release
//! out as a static provider registry. Served over HTTPS on loopback and put in place of the
//! ordinary registry host by a CLI-configuration `host` block (Terraform's `commands.go` calls
//! `ForceHostServices` for each one, in 1.0.3 and 1.11 alike), `terraform init` with the
//! ordinary source `immutable-infra/immutable` must install the provider as signed, under
//! Terraform 1.0.3 and the newer Terraform on `PATH`, and refuse a tampered zip and a signature
//! by another key.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::hcl::TERRAFORM_BLOCK;
use e2e::{HttpsStaticServer, venv_tool};
use serde_json::Value;

use super::{
    SOURCE_PATH, VERSION, platform, provider_binary, read_json, run_script, sha256_hex, temp_dir,
};

/// Set to a Terraform executable to choose the newer CLI the test also runs (default: the first
/// `terraform` on `PATH` that is not 1.0.3).
const NEWER_TERRAFORM_ENV: &str = "IMMUTABLE_NEWER_TERRAFORM";
/// Set to 1 to accept a machine without a newer Terraform (the test then says so on stderr).
const ALLOW_NO_NEWER_ENV: &str = "IMMUTABLE_ALLOW_NO_NEWER_TERRAFORM";

/// A `GNUPGHOME` of its own, removed on drop. Under /tmp: gpg-agent's socket path must be short.
struct Gnupg {
    home: tempfile::TempDir,
}

impl Gnupg {
    fn new() -> Self {
        let home = tempfile::Builder::new()
            .prefix("immutable-gpg-")
            .tempdir_in("/tmp")
            .unwrap();
        fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        Self { home }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("gpg");
        command
            .env("GNUPGHOME", self.home.path())
            .arg("--batch")
            .stdin(std::process::Stdio::null());
        command
    }

    /// A new RSA signing key with no passphrase; returns its fingerprint.
    fn generate_rsa_key(&self, user_id: &str) -> String {
        let mut generate = self.command();
        generate.args([
            "--passphrase",
            "",
            "--quick-gen-key",
            user_id,
            "rsa2048",
            "sign",
            "never",
        ]);
        run_script(generate, "gpg --quick-gen-key");
        let mut list = self.command();
        list.args(["--with-colons", "--list-secret-keys", user_id]);
        let listing = run_script(list, "gpg --list-secret-keys");
        listing
            .lines()
            .find_map(|line| line.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').nth(8))
            .unwrap_or_else(|| panic!("no fingerprint in:\n{listing}"))
            .to_owned()
    }

    /// A detached binary signature of `document` by `fingerprint`, written to `signature`.
    fn sign(&self, fingerprint: &str, document: &Path, signature: &Path) {
        let mut sign = self.command();
        sign.args(["--yes", "--local-user", &format!("{fingerprint}!")])
            .arg("--detach-sign")
            .arg("--output")
            .arg(signature)
            .arg(document);
        run_script(sign, "gpg --detach-sign");
    }

    fn verifies(&self, signature: &Path, document: &Path) -> bool {
        self.command()
            .arg("--verify")
            .arg(signature)
            .arg(document)
            .output()
            .is_ok_and(|output| output.status.success())
    }
}

/// The output of one `terraform init`.
struct Init {
    success: bool,
    /// stdout and stderr, with Terraform's line wrapping and diagnostic frames undone.
    text: String,
    raw: String,
}

/// Runs `terraform init` with `terraform` in a fresh directory requiring the provider by its
/// ordinary source, with `cli_config` and the test CA, and nothing from the real HOME.
fn terraform_init(terraform: &Path, scratch: &Path, cli_config: &Path, ca_file: &Path) -> Init {
    let dir = tempfile::Builder::new()
        .prefix("init-")
        .tempdir_in(scratch)
        .unwrap();
    let work = dir.path().join("work");
    let home = dir.path().join("home");
    fs::create_dir_all(&work).unwrap();
    fs::create_dir_all(&home).unwrap();
    fs::write(work.join("main.tf"), TERRAFORM_BLOCK).unwrap();
    let output = Command::new(terraform)
        .args(["init", "-input=false", "-no-color"])
        .current_dir(&work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("SSL_CERT_FILE", ca_file)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", terraform.display()));
    let raw = format!(
        "--- {} init: {} ---\n{}{}",
        terraform.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = raw
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Init {
        success: output.status.success(),
        text,
        raw,
    }
}

/// `Terraform vX.Y.Z` of an executable, or `None` if it does not answer.
fn terraform_version(terraform: &Path) -> Option<String> {
    let output = Command::new(terraform)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().next()?.trim();
    first.starts_with("Terraform v").then(|| first.to_owned())
}

/// The newer Terraform to run besides `.venv`'s 1.0.3: `$IMMUTABLE_NEWER_TERRAFORM`, else the first
/// `terraform` on `PATH` that is not 1.0.3. Panics when there is none, unless
/// `IMMUTABLE_ALLOW_NO_NEWER_TERRAFORM=1`: a missing CLI must never look like a pass.
fn newer_terraform(baseline: &str) -> Option<(PathBuf, String)> {
    if let Some(path) = std::env::var_os(NEWER_TERRAFORM_ENV) {
        let path = PathBuf::from(path);
        let version = terraform_version(&path)
            .unwrap_or_else(|| panic!("{NEWER_TERRAFORM_ENV}={} is no Terraform", path.display()));
        return Some((path, version));
    }
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("terraform"))
        .filter(|path| path.is_file())
        .find_map(|path| {
            terraform_version(&path)
                .filter(|version| version != baseline)
                .map(|version| (path, version))
        });
    if found.is_none() {
        let message = format!(
            "NO NEWER TERRAFORM: no `terraform` other than {baseline} on PATH, so the signed registry install \
             was checked under {baseline} only. Put Terraform >= 1.1 on PATH or set {NEWER_TERRAFORM_ENV}; \
             set {ALLOW_NO_NEWER_ENV}=1 to accept running under {baseline} alone."
        );
        assert!(
            std::env::var(ALLOW_NO_NEWER_ENV).is_ok_and(|value| value == "1"),
            "{message}"
        );
        eprintln!("\n!!!!!!!! {message}\n");
    }
    found
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one release, checked file by file, then installed and attacked under each Terraform"
)]
fn package_sh_signed_registry_installs_signed_and_refuses_tampering() {
    let binary = provider_binary();
    let platform = platform();
    let (os, arch) = platform.split_once('_').unwrap();
    let out = temp_dir("registry-");
    let dist = out.path().join("dist");
    let gnupg = Gnupg::new();
    let release_key = gnupg.generate_rsa_key("immutable release test <release@localhost>");
    let other_key = gnupg.generate_rsa_key("someone else <other@localhost>");
    let key_id = release_key[release_key.len() - 16..].to_owned();

    eprintln!("[registry] scripts/package.sh --binary <debug build> --gpg-key {release_key}");
    let mut package = Command::new(super::repo_root().join("scripts/package.sh"));
    package
        .arg("--binary")
        .arg(&binary)
        .arg("--out")
        .arg(&dist)
        .arg("--gpg-key")
        .arg(&release_key)
        .env("GNUPGHOME", gnupg.home.path())
        .env_remove("IMMUTABLE_GPG_KEY");
    run_script(package, "scripts/package.sh --gpg-key");

    // The release files beside the unsigned ones.
    let stem = format!("terraform-provider-immutable_{VERSION}");
    let sums = dist.join(format!("{stem}_SHA256SUMS"));
    let signature = dist.join(format!("{stem}_SHA256SUMS.sig"));
    assert!(
        gnupg.verifies(&signature, &sums),
        "{} is a valid signature of the sums",
        signature.display()
    );
    let signature_bytes = fs::read(&signature).unwrap();
    assert!(
        !signature_bytes.starts_with(b"-----BEGIN"),
        "the registries want a binary signature, not an armored one"
    );
    let armor = fs::read_to_string(dist.join(format!("{stem}_signing_key.asc"))).unwrap();
    assert!(armor.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(
        !armor.contains("PRIVATE KEY"),
        "only the public key is published"
    );

    // The registry layout: discovery, versions, download document.
    let registry = dist.join("registry");
    assert_eq!(
        read_json(&registry.join(".well-known/terraform.json")),
        serde_json::json!({"providers.v1": "/v1/providers/"})
    );
    let provider_dir = registry.join("v1/providers").join(SOURCE_PATH);
    assert_eq!(
        read_json(&provider_dir.join("versions")),
        serde_json::json!({"versions": [{
            "version": VERSION, "protocols": ["5.0"], "platforms": [{"os": os, "arch": arch}],
        }]})
    );
    let download_path = provider_dir.join(format!("{VERSION}/download/{os}/{arch}"));
    let download = read_json(&download_path);
    let zip_name = format!("{stem}_{platform}.zip");
    let zip_path = provider_dir.join(VERSION).join(&zip_name);
    let zip_sha = sha256_hex(&fs::read(&zip_path).unwrap());
    assert_eq!(download["filename"], zip_name);
    assert_eq!(download["shasum"], zip_sha);
    assert_eq!(download["protocols"], serde_json::json!(["5.0"]));
    for (field, file) in [
        ("download_url", zip_name.clone()),
        ("shasums_url", format!("{stem}_SHA256SUMS")),
        ("shasums_signature_url", format!("{stem}_SHA256SUMS.sig")),
    ] {
        assert_eq!(download[field], format!("../../{file}"), "{field}");
        assert!(provider_dir.join(VERSION).join(&file).is_file(), "{file}");
    }
    let keys = &download["signing_keys"]["gpg_public_keys"];
    assert_eq!(keys[0]["key_id"], key_id);
    assert_eq!(keys[0]["ascii_armor"], Value::String(armor.clone()));

    // Served on loopback, in place of the ordinary registry host.
    let server = HttpsStaticServer::start(&registry, out.path());
    let cli_config = out.path().join("registry.tfrc");
    fs::write(
        &cli_config,
        format!(
            "disable_checkpoint = true\n\nhost \"registry.terraform.io\" {{\n  services = {{\n    \"providers.v1\" = \"{}v1/providers/\"\n  }}\n}}\n",
            server.url()
        ),
    )
    .unwrap();

    let baseline = venv_tool("terraform");
    let baseline_version = terraform_version(&baseline).unwrap_or_else(|| {
        panic!(
            "{} does not answer: run scripts/setup-venv.sh",
            baseline.display()
        )
    });
    let mut terraforms = vec![(baseline, baseline_version.clone())];
    terraforms.extend(newer_terraform(&baseline_version));

    let installed_line =
        format!("Installed {SOURCE_PATH} v{VERSION} (self-signed, key ID {key_id})");
    let download_doc_url = format!("/v1/providers/{SOURCE_PATH}/{VERSION}/download/{os}/{arch}");
    let download_text = fs::read_to_string(&download_path).unwrap();
    let zip_bytes = fs::read(&zip_path).unwrap();

    for (terraform, version) in &terraforms {
        eprintln!("[registry] {version}: terraform init from {}", server.url());
        let init = terraform_init(terraform, out.path(), &cli_config, server.ca_file());
        eprintln!("{}", init.raw);
        assert!(
            init.success && init.text.contains(&installed_line),
            "{version} installs the provider from the registry as signed ({installed_line})\n{}",
            init.raw
        );
        assert!(
            !init.text.contains("unauthenticated"),
            "{version} must not call it unauthenticated\n{}",
            init.raw
        );
        let requests = server.served();
        assert!(
            requests.contains(&format!("200 {download_doc_url}"))
                && requests
                    .iter()
                    .any(|line| line.ends_with(&format!("{stem}_SHA256SUMS.sig"))),
            "the download document and the signature came from the loopback registry: {requests:?}"
        );

        // A zip swapped on the server, and the download document's shasum changed to match it:
        // only the signed sums can catch it.
        let mut tampered = zip_bytes.clone();
        tampered.extend_from_slice(b"tampered");
        fs::write(&zip_path, &tampered).unwrap();
        fs::write(
            &download_path,
            download_text.replace(&zip_sha, &sha256_hex(&tampered)),
        )
        .unwrap();
        let init = terraform_init(terraform, out.path(), &cli_config, server.ca_file());
        eprintln!("{}", init.raw);
        fs::write(&zip_path, &zip_bytes).unwrap();
        fs::write(&download_path, &download_text).unwrap();
        assert!(
            !init.success
                && init
                    .text
                    .contains("checksum list has unexpected SHA-256 hash"),
            "{version} refuses a zip whose hash is not in the signed sums\n{}",
            init.raw
        );

        // The sums signed by a key the registry does not publish.
        let served_signature = provider_dir
            .join(VERSION)
            .join(format!("{stem}_SHA256SUMS.sig"));
        gnupg.sign(
            &other_key,
            &provider_dir
                .join(VERSION)
                .join(format!("{stem}_SHA256SUMS")),
            &served_signature,
        );
        let init = terraform_init(terraform, out.path(), &cli_config, server.ca_file());
        eprintln!("{}", init.raw);
        fs::write(&served_signature, &signature_bytes).unwrap();
        assert!(
            !init.success
                && init
                    .text
                    .contains("authentication signature from unknown issuer"),
            "{version} refuses sums signed by a key other than the published one\n{}",
            init.raw
        );
    }
}
