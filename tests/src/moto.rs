//! One moto per test process, behind the fault proxy, stopped by PID when the process goes away.
//!
//! moto runs inside `tests/support/fault_proxy.py` (moto's own WSGI application wrapped in a
//! fault injector, one Python process), so scenarios can inject errors, latency and unhealthy
//! states and count API calls ([`Moto::faults`]). [`Moto::start_plain`] runs `moto_server`
//! itself, for comparisons.
//!
//! Rust never drops statics, so the shared server cannot rely on `Drop`. Instead the server runs
//! under a small guard (`tests/support/moto_guard.py`) whose stdin is a pipe from this process
//! that nobody writes to: when this process exits for any reason the kernel closes the pipe, the
//! guard reads EOF and stops the server by its PID. An owned [`Moto`] also stops it on `Drop`.

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::{Aws, Faults, free_loopback_port, repo_root, scratch_dir, venv_tool};

/// Relative to the repository root.
const GUARD_SCRIPT: &str = "tests/support/moto_guard.py";
/// Relative to the repository root.
const FAULT_PROXY_SCRIPT: &str = "tests/support/fault_proxy.py";
/// moto answers in ~1.6 s on an idle machine; a cold CI box that is also compiling is slower.
const STARTUP_TIMEOUT: Duration = Duration::from_mins(1);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const PORT_ATTEMPTS: u32 = 3;

static SHARED: OnceLock<Moto> = OnceLock::new();

/// A running moto on `127.0.0.1:<port>`, behind the fault proxy unless started plain.
#[derive(Debug)]
pub struct Moto {
    port: u16,
    fault_proxy: bool,
    endpoint: String,
    server_pid: u32,
    guard: Child,
    /// Held, never written: closing it (drop, or this process exiting) tells the guard to stop.
    guard_stdin: Option<ChildStdin>,
    log_path: PathBuf,
}

enum StartError {
    PortTaken,
    Failed(String),
}

impl Moto {
    /// The server shared by every test in this process, started on first use.
    pub fn shared() -> &'static Moto {
        SHARED.get_or_init(Moto::start)
    }

    /// Starts moto behind the fault proxy on a free loopback port and waits until it answers
    /// `GET /moto-api/`. Panics with the server's output if it does not come up, and with "run
    /// scripts/setup-venv.sh" if the virtualenv is missing.
    pub fn start() -> Moto {
        let python = venv_tool("python");
        let proxy = repo_root().join(FAULT_PROXY_SCRIPT);
        Self::start_with(&[python.as_os_str(), proxy.as_os_str()], true)
    }

    /// Starts plain `moto_server` (no fault proxy: [`Moto::faults`] panics).
    pub fn start_plain() -> Moto {
        let moto_server = venv_tool("moto_server");
        Self::start_with(&[moto_server.as_os_str()], false)
    }

    fn start_with(command: &[&OsStr], fault_proxy: bool) -> Moto {
        let python = venv_tool("python");
        for attempt in 1..=PORT_ATTEMPTS {
            match Self::try_start(&python, command, fault_proxy) {
                Ok(moto) => return moto,
                // Another process took the port between our probe and moto's bind.
                Err(StartError::PortTaken) if attempt < PORT_ATTEMPTS => {}
                Err(StartError::PortTaken) => {
                    panic!("moto could not bind a free loopback port in {PORT_ATTEMPTS} attempts")
                }
                Err(StartError::Failed(message)) => panic!("{message}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn try_start(python: &Path, command: &[&OsStr], fault_proxy: bool) -> Result<Moto, StartError> {
        let port = free_loopback_port();
        let log_path = scratch_dir().join(format!("moto-{}-{port}.log", std::process::id()));
        let log = fs::File::create(&log_path).map_err(|err| {
            StartError::Failed(format!("cannot create {}: {err}", log_path.display()))
        })?;
        let guard_stderr = log.try_clone().map_err(|err| {
            StartError::Failed(format!("cannot reopen {}: {err}", log_path.display()))
        })?;
        let mut guard = Command::new(python)
            .arg(repo_root().join(GUARD_SCRIPT))
            .arg(port.to_string())
            .arg(&log_path)
            .args(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(guard_stderr)
            .spawn()
            .map_err(|err| StartError::Failed(format!("cannot run {}: {err}", python.display())))?;
        let guard_stdin = guard.stdin.take();

        // The guard's first line is moto's PID.
        let mut first_line = String::new();
        if let Some(stdout) = guard.stdout.take() {
            // A read error leaves the line empty, which is reported just below.
            let _ = BufReader::new(stdout).read_line(&mut first_line);
        }
        let Ok(server_pid) = first_line.trim().parse::<u32>() else {
            let _ = guard.wait();
            return Err(StartError::Failed(format!(
                "the moto guard did not report a PID (got {first_line:?})\n{}",
                read_log(&log_path)
            )));
        };

        let mut moto = Moto {
            port,
            fault_proxy,
            endpoint: format!("http://127.0.0.1:{port}"),
            server_pid,
            guard,
            guard_stdin,
            log_path,
        };
        let started = Instant::now();
        loop {
            if matches!(http_get_status(port, "/moto-api/"), Ok(200)) {
                eprintln!(
                    "[moto] {} up in {:.1}s (pid {server_pid})",
                    moto.endpoint,
                    started.elapsed().as_secs_f64()
                );
                return Ok(moto);
            }
            if let Ok(Some(status)) = moto.guard.try_wait() {
                let log = read_log(&moto.log_path);
                return Err(if log.contains("Address already in use") {
                    StartError::PortTaken
                } else {
                    StartError::Failed(format!(
                        "moto exited ({status}) before answering on port {port}\n{log}"
                    ))
                });
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                let log = read_log(&moto.log_path);
                moto.stop();
                return Err(StartError::Failed(format!(
                    "moto did not answer GET {}/moto-api/ within {}s\n{log}",
                    moto.endpoint,
                    STARTUP_TIMEOUT.as_secs()
                )));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL` and the provider's `endpoints` block.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// PID of the server process itself (the fault proxy, or `moto_server`).
    pub fn server_pid(&self) -> u32 {
        self.server_pid
    }

    /// SDK clients pointed at this server, signing with [`crate::TEST_ACCESS_KEY`].
    pub fn aws(&self) -> Aws {
        Aws::new(&self.endpoint)
    }

    /// SDK clients signing with `access_key` (a fault-proxy scope), with at most
    /// `max_attempts` attempts per call (1: no retries, to see injected errors as they are).
    pub fn aws_as(&self, access_key: &str, max_attempts: u32) -> Aws {
        Aws::with_access_key(&self.endpoint, access_key, max_attempts)
    }

    /// The fault proxy's control API. Panics for a server from [`Moto::start_plain`].
    pub fn faults(&self) -> Faults {
        assert!(
            self.fault_proxy,
            "this moto was started without the fault proxy (Moto::start_plain)"
        );
        Faults::new(self.port)
    }

    /// Whether the server still answers `GET /moto-api/`.
    pub fn is_answering(&self) -> bool {
        matches!(http_get_status(self.port, "/moto-api/"), Ok(200))
    }

    /// Stops moto by PID (through the guard) and waits for the guard to exit.
    fn stop(&mut self) {
        // EOF on the guard's stdin: it sends SIGTERM to moto and escalates to SIGKILL.
        drop(self.guard_stdin.take());
        if wait_for_exit(&mut self.guard, STOP_TIMEOUT) {
            return;
        }
        // The guard is stuck; SIGTERM asks it to do the same, then it is killed outright.
        signal_pid("-TERM", self.guard.id());
        if !wait_for_exit(&mut self.guard, STOP_TIMEOUT) {
            let _ = self.guard.kill();
            let _ = self.guard.wait();
            signal_pid("-KILL", self.server_pid);
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_for_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Sends a signal to one process by PID (`kill` is the only portable way without libc).
pub(crate) fn signal_pid(signal: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn read_log(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => format!("({} is empty)", path.display()),
        Ok(text) => format!("--- {} ---\n{text}", path.display()),
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

/// Status code of a plain HTTP/1.1 GET on loopback; no HTTP client crate needed for one probe.
pub fn http_get_status(port: u16, path: &str) -> std::io::Result<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0_u8; 64];
    let mut filled = 0;
    while filled < head.len() {
        let n = stream.read(&mut head[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
        if head[..filled].contains(&b'\n') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head[..filled]);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not an HTTP status line: {text:?}"),
            )
        })
}
