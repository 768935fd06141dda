//! exec → handshake line: how long a provider binary takes from exec to the go-plugin line
//! Terraform waits for, with and without mTLS, against the exec floor of `/bin/echo`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::stats::stats;
use super::{Options, Result};

/// go-plugin's magic cookie for Terraform providers (Terraform's internal/plugin/serve.go,
/// `Handshake`).
const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate shaped like go-plugin's AutoMTLS one (ECDSA P-521, self-signed CA for
/// `localhost`), so the servers do the same certificate work they do under Terraform.
fn client_cert_pem() -> Result<String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).map_err(|e| e.to_string())?;
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(cert.pem())
}

/// Execs `binary` with the environment Terraform gives a plugin and returns the time until
/// its first stdout line, and that line. The process is then killed by its PID.
fn time_handshake(
    binary: &Path,
    scratch: &Path,
    client_cert: Option<&str>,
) -> Result<(Duration, String)> {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        // Both servers put their Unix socket here; killed servers leave it behind.
        .env("TMPDIR", scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(pem) = client_cert {
        command.env("PLUGIN_CLIENT_CERT", pem);
    }
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot exec {}: {e}", binary.display()))?;
    let mut line = String::new();
    let read = match child.stdout.take() {
        Some(stdout) => BufReader::new(stdout).read_line(&mut line),
        None => Ok(0),
    };
    let elapsed = started.elapsed();
    // Kill by PID, then reap; an error means it already exited, which the line check reports.
    let _ = child.kill();
    let _ = child.wait();
    read.map_err(|e| format!("{}: reading stdout: {e}", binary.display()))?;
    Ok((elapsed, line.trim_end().to_owned()))
}

/// Checks the go-plugin handshake line (`1|APPVER|NETWORK|ADDR|grpc|CERT`).
fn check_handshake(line: &str, tls: bool) -> Result<()> {
    let fields: Vec<&str> = line.split('|').collect();
    let shaped = fields.len() == 6
        && fields[0] == "1"
        && matches!(fields[2], "unix" | "tcp")
        && fields[4] == "grpc"
        && (fields[5].len() > 50) == tls;
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "not a {} handshake line: {line:?}",
            if tls { "TLS" } else { "plaintext" }
        ))
    }
}

/// `handshake`: times exec → handshake line of each `LABEL=BINARY`, with and without mTLS.
pub fn handshake(options: &Options) -> Result<String> {
    if options.targets.is_empty() {
        return Err("handshake: give at least one LABEL=BINARY".to_owned());
    }
    let scratch = tempfile::Builder::new()
        .prefix("handshake-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let pem = client_cert_pem()?;

    // The cost of exec and of reading one line, whatever the program: the floor.
    let mut floor = Vec::new();
    for _ in 0..options.runs {
        let started = Instant::now();
        let status = Command::new("/bin/echo")
            .arg("1|5|unix|/x|grpc|")
            .stdout(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot exec /bin/echo: {e}"))?;
        floor.push(started.elapsed());
        if !status.status.success() {
            return Err("/bin/echo failed".to_owned());
        }
    }

    let mut rows = Vec::new();
    for (label, binary) in &options.targets {
        for tls in [true, false] {
            let mut samples = Vec::new();
            // One unmeasured run: page cache and dynamic loading, as for Terraform's 2nd start.
            for run in 0..=options.runs {
                let (elapsed, line) = time_handshake(
                    Path::new(binary),
                    scratch.path(),
                    tls.then_some(pem.as_str()),
                )?;
                check_handshake(&line, tls).map_err(|e| format!("{label}: {e}"))?;
                if run > 0 {
                    samples.push(elapsed);
                }
            }
            let s = stats(&samples);
            eprintln!(
                "[handshake] {label} tls={tls}: median {:.2} ms, min {:.2} ms",
                s.median_ms, s.min_ms
            );
            rows.push((label.clone(), tls, s));
        }
    }

    let reference = options.targets.last().map(|(label, _)| label.clone());
    let mut table = format!(
        "| binary | mTLS | runs | median ms | min ms | ratio to {} (same mTLS) |\n|---|---|---|---|---|---|\n",
        reference.as_deref().unwrap_or("-")
    );
    for (label, tls, s) in &rows {
        let base = rows
            .iter()
            .find(|(l, t, _)| Some(l) == reference.as_ref() && t == tls)
            .map_or(f64::NAN, |(_, _, b)| b.median_ms);
        let _ = writeln!(
            table,
            "| {label} | {} | {} | {:.2} | {:.2} | {:.2} |",
            if *tls { "yes" } else { "no" },
            options.runs,
            s.median_ms,
            s.min_ms,
            s.median_ms / base
        );
    }
    let f = stats(&floor);
    let _ = writeln!(
        table,
        "| exec floor (/bin/echo, one line) | - | {} | {:.2} | {:.2} | - |",
        options.runs, f.median_ms, f.min_ms
    );
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_lines_are_checked_for_tls() {
        let cert = "A".repeat(60);
        assert!(check_handshake(&format!("1|5|unix|/tmp/p|grpc|{cert}"), true).is_ok());
        assert!(check_handshake("1|5|unix|/tmp/p|grpc|", false).is_ok());
        assert!(check_handshake("1|5|unix|/tmp/p|grpc|", true).is_err());
        assert!(check_handshake("This binary is a plugin", false).is_err());
    }
}
