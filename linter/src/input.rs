//! Reading plan inputs: JSON files, standard input, and binary plan files (converted with
//! `terraform show -json`).

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use miette::Diagnostic;

use crate::plan::{HOW_TO_MAKE_A_PLAN, strip_leading_noise};

/// How standard input (`-`) is named in reports.
pub const STDIN_NAME: &str = "<stdin>";

/// A binary plan file is a zip archive.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// A plan's text, ready to parse.
#[derive(Debug)]
pub struct PlanInput {
    /// How the plan was named on the command line (`<stdin>` for `-`).
    pub name: String,
    pub text: String,
    /// Where the JSON document starts within `text` (after a CI wrapper's first line), to the
    /// end: lines a wrapper adds after it are left to [`crate::plan::parse_within`].
    pub json: Range<usize>,
    /// Converted from a binary plan with this command.
    pub converted_by: Option<String>,
}

/// Why an input could not be read. Exit status 2.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum InputError {
    #[error("cannot read {name}")]
    #[diagnostic(code(input::read))]
    Unreadable {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: not UTF-8 text (invalid byte at offset {offset})")]
    #[diagnostic(
        code(input::encoding),
        help(
            "expected the JSON output of `terraform show -json` as UTF-8 (or UTF-16 with a \
             byte-order mark); run `{HOW_TO_MAKE_A_PLAN}`"
        )
    )]
    NotUtf8 { name: String, offset: usize },
    #[error("{name}: invalid UTF-16 text (at byte offset {offset})")]
    #[diagnostic(
        code(input::encoding),
        help(
            "the file starts with a UTF-16 byte-order mark but is not valid UTF-16; regenerate \
             it, preferably as UTF-8 (PowerShell: `terraform show -json tfplan | Out-File \
             -Encoding utf8 plan.json`)"
        )
    )]
    NotUtf16 { name: String, offset: usize },
    #[error("{name} is a binary plan file and `{bin}` was not found")]
    #[diagnostic(
        code(input::terraform_missing),
        help(
            "convert it where Terraform is installed and the configuration is initialised: \
             `terraform show -json {name} > plan.json`, then lint plan.json; \
             or pass --terraform-bin PATH (e.g. --terraform-bin tofu)"
        )
    )]
    TerraformMissing { name: String, bin: String },
    #[error("`{command}` failed ({status}): {stderr}")]
    #[diagnostic(
        code(input::terraform_failed),
        help(
            "run it in the directory where `terraform plan` ran (or pass --source DIR), after `terraform init`"
        )
    )]
    TerraformFailed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("{name} is a directory, not a plan file")]
    #[diagnostic(
        code(input::directory),
        help(
            "pass the plan JSON (`{HOW_TO_MAKE_A_PLAN}`); to map findings to the \
             configuration in {name}, add `--source {name}`"
        )
    )]
    Directory { name: String },
    #[error("a binary plan cannot be read from standard input")]
    #[diagnostic(
        code(input::binary_stdin),
        help("pass the plan file's path instead of `-`")
    )]
    BinaryOnStdin,
}

/// Reads one plan argument. `workdir` is where `terraform show` runs for binary plans.
pub fn read(
    arg: &str,
    terraform_bin: &str,
    workdir: Option<&Path>,
) -> Result<PlanInput, InputError> {
    let (name, bytes) = if arg == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|source| InputError::Unreadable {
                name: STDIN_NAME.to_owned(),
                source,
            })?;
        if bytes.starts_with(ZIP_MAGIC) {
            return Err(InputError::BinaryOnStdin);
        }
        (STDIN_NAME.to_owned(), bytes)
    } else {
        if Path::new(arg).is_dir() {
            return Err(InputError::Directory {
                name: arg.to_owned(),
            });
        }
        let bytes = read_file(Path::new(arg)).map_err(|source| InputError::Unreadable {
            name: arg.to_owned(),
            source,
        })?;
        (arg.to_owned(), bytes)
    };
    let mut converted_by = None;
    let bytes = if bytes.starts_with(ZIP_MAGIC) {
        let (json, command) = show_json(arg, terraform_bin, workdir)?;
        converted_by = Some(command);
        json
    } else {
        bytes
    };
    let text = decode(&name, bytes)?;
    let json = strip_leading_noise(&text);
    Ok(PlanInput {
        name,
        text,
        json,
        converted_by,
    })
}

/// Files from this size on are read with a second thread faulting in the buffer's pages.
const PREFAULT_FROM: usize = 16 << 20;
/// The unit the two threads share out (a lock per chunk).
const READ_CHUNK: usize = 1 << 20;
/// Touching one byte per 4 KiB faults in every page (on larger pages, some touches repeat).
const TOUCH_STRIDE: usize = 4096;

/// Reads a whole file, like [`std::fs::read`].
///
/// A large file is read into a zeroed buffer whose pages a second thread faults in, from the
/// end backwards, while this one reads from the start: reading a 300 MB plan spends about two
/// thirds of its time in page faults on the fresh buffer (the kernel zeroes each page), and
/// they then run on the otherwise idle core. The threads meet in the middle.
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let len = file
        .metadata()
        .ok()
        .and_then(|m| usize::try_from(m.len()).ok())
        .unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if len < PREFAULT_FROM || cores < 2 {
        let mut bytes = Vec::with_capacity(len);
        file.read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    // Zeroed memory comes straight from the OS: its pages are not touched yet.
    let mut bytes = vec![0u8; len];
    let filled = read_prefaulted(&mut file, &mut bytes, READ_CHUNK)?;
    bytes.truncate(filled);
    if filled == len {
        // The file may have grown since its size was read.
        file.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Fills `buf` from `file` (fewer bytes at end of file), `chunk` bytes at a time; returns how
/// many were read.
fn read_prefaulted(
    file: &mut std::fs::File,
    buf: &mut [u8],
    chunk: usize,
) -> std::io::Result<usize> {
    use std::sync::{Mutex, PoisonError};
    // Each chunk with whether it has been read into: the faulting thread must never write to
    // a chunk after the reader has filled it.
    let chunks: Vec<Mutex<(bool, &mut [u8])>> = buf
        .chunks_mut(chunk)
        .map(|chunk| Mutex::new((false, chunk)))
        .collect();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for chunk in chunks.iter().rev() {
                let mut guard = chunk.lock().unwrap_or_else(PoisonError::into_inner);
                let (read, bytes) = &mut *guard;
                if *read {
                    break;
                }
                for page in bytes.chunks_mut(TOUCH_STRIDE) {
                    // An opaque value, so the store to known-zero memory is not optimised away.
                    page[0] = std::hint::black_box(0);
                }
            }
        });
        let mut filled = 0;
        for chunk in &chunks {
            let mut guard = chunk.lock().unwrap_or_else(PoisonError::into_inner);
            let (read, bytes) = &mut *guard;
            *read = true;
            let n = read_full(file, bytes)?;
            filled += n;
            if n < bytes.len() {
                break;
            }
        }
        // Chunks after an early end of file are marked too, so the other thread stops there.
        for chunk in &chunks {
            chunk.lock().unwrap_or_else(PoisonError::into_inner).0 = true;
        }
        Ok(filled)
    })
}

/// Reads until `buf` is full or the file ends; returns how many bytes were read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The text of an input: UTF-8, or UTF-16 with a byte-order mark (what Windows PowerShell 5's
/// `>` writes). A UTF-16 input is re-encoded, so byte offsets in reports are those of its
/// UTF-8 form; lines and columns are the file's.
fn decode(name: &str, bytes: Vec<u8>) -> Result<String, InputError> {
    let from_units: Option<fn([u8; 2]) -> u16> = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => Some(u16::from_le_bytes),
        Some([0xFE, 0xFF]) => Some(u16::from_be_bytes),
        _ => None,
    };
    let Some(from_units) = from_units else {
        return String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
            name: name.to_owned(),
            offset: e.utf8_error().valid_up_to(),
        });
    };
    let body = &bytes[2..];
    let pairs = body.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(InputError::NotUtf16 {
            name: name.to_owned(),
            offset: bytes.len() - 1,
        });
    }
    let units: Vec<u16> = pairs.map(|p| from_units([p[0], p[1]])).collect();
    let mut text = String::with_capacity(units.len());
    for (i, ch) in char::decode_utf16(units.iter().copied()).enumerate() {
        match ch {
            Ok(ch) => text.push(ch),
            Err(_) => {
                return Err(InputError::NotUtf16 {
                    name: name.to_owned(),
                    offset: 2 + 2 * i,
                });
            }
        }
    }
    Ok(text)
}

/// Runs `BIN show -json PLAN` and returns its standard output.
fn show_json(
    plan: &str,
    bin: &str,
    workdir: Option<&Path>,
) -> Result<(Vec<u8>, String), InputError> {
    let absolute: PathBuf = std::path::absolute(plan).unwrap_or_else(|_| PathBuf::from(plan));
    let command = format!("{bin} show -json {plan}");
    tracing::info!("converting binary plan: {command}");
    let mut cmd = Command::new(bin);
    cmd.args(["show", "-json", "-no-color"]).arg(&absolute);
    if let Some(dir) = workdir {
        cmd.current_dir(dir);
    }
    let output = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            InputError::TerraformMissing {
                name: plan.to_owned(),
                bin: bin.to_owned(),
            }
        }
        _ => InputError::TerraformFailed {
            command: command.clone(),
            status: "could not start".to_owned(),
            stderr: e.to_string(),
        },
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(12)
            .collect();
        let stderr = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        return Err(InputError::TerraformFailed {
            command,
            status: output.status.to_string(),
            stderr,
        });
    }
    Ok((output.stdout, command))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_file_read_with_prefaulting_is_read_whole() {
        // Not a multiple of the chunk or of a page; bytes differ, so a chunk out of place or a
        // page the faulting thread zeroed after the read shows.
        let content: Vec<u8> = (0..300_007u32).map(|i| (i % 251) as u8 + 1).collect();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, &content).unwrap();
        for chunk in [4096, 10_000, 1 << 20] {
            let mut buf = vec![0u8; content.len()];
            let mut f = std::fs::File::open(file.path()).unwrap();
            assert_eq!(
                read_prefaulted(&mut f, &mut buf, chunk).unwrap(),
                content.len()
            );
            assert!(buf == content, "chunk {chunk}");
            // The file is shorter than the buffer (it shrank after its size was read).
            let mut buf = vec![0u8; content.len() + 3 * chunk + 5];
            let mut f = std::fs::File::open(file.path()).unwrap();
            assert_eq!(
                read_prefaulted(&mut f, &mut buf, chunk).unwrap(),
                content.len()
            );
            assert!(buf[..content.len()] == content[..], "chunk {chunk}");
        }
        // Through the public path: a file above the threshold reads the same as `fs::read`.
        let big: Vec<u8> = (0..(PREFAULT_FROM + 12_345))
            .map(|i| b"{}[]\" \n"[i % 7])
            .collect();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, &big).unwrap();
        assert!(read_file(file.path()).unwrap() == big);
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn utf16_plans_from_powershell_are_decoded() {
        let json = r#"{"format_version":"1.2","résumé":1}"#;
        assert_eq!(decode("p", utf16(json, false)).unwrap(), json);
        assert_eq!(decode("p", utf16(json, true)).unwrap(), json);
        let mut odd = utf16(json, false);
        odd.push(b'x');
        assert!(matches!(decode("p", odd), Err(InputError::NotUtf16 { .. })));
        // A lone surrogate.
        assert!(matches!(
            decode("p", vec![0xFF, 0xFE, 0x00, 0xD8, b'{', 0]),
            Err(InputError::NotUtf16 { offset: 2, .. })
        ));
        assert!(matches!(
            decode("p", vec![b'{', 0xE9]),
            Err(InputError::NotUtf8 { offset: 1, .. })
        ));
    }
}
