//! A static file server over HTTPS on 127.0.0.1, with a throwaway CA made for it: what a team
//! hosting a provider network mirror on "any static file server" looks like to Terraform, which
//! accepts network mirrors only at `https:` URLs.
//!
//! Terraform (Go) trusts the CA through `SSL_CERT_FILE` ([`HttpsStaticServer::ca_file`]). One
//! thread per connection, one request per connection (`Connection: close`); GET and HEAD only.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest request head accepted; Terraform's are a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// A running server; stopped (and its thread joined) on drop.
pub struct HttpsStaticServer {
    addr: SocketAddr,
    ca_file: PathBuf,
    stop: Arc<AtomicBool>,
    served: Arc<Mutex<Vec<String>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl HttpsStaticServer {
    /// Serves the files under `root` on a free loopback port. The CA certificate (PEM) is
    /// written to `<scratch>/ca.pem`.
    pub fn start(root: &Path, scratch: &Path) -> Self {
        let (config, ca_pem) = tls_config();
        let ca_file = scratch.join("ca.pem");
        fs::write(&ca_file, ca_pem)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", ca_file.display()));

        let listener = TcpListener::bind(("127.0.0.1", 0))
            .unwrap_or_else(|err| panic!("cannot bind a loopback port: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("no local address: {err}"));
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(Mutex::new(Vec::new()));

        let root = root.to_path_buf();
        let acceptor = {
            let stop = Arc::clone(&stop);
            let served = Arc::clone(&served);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let config = Arc::clone(&config);
                    let root = root.clone();
                    let served = Arc::clone(&served);
                    std::thread::spawn(move || {
                        if let Err(err) = serve_one(stream, config, &root, &served) {
                            // A client that hangs up early is not the server's failure.
                            eprintln!("[https-static] connection ended: {err}");
                        }
                    });
                }
            })
        };
        eprintln!(
            "[https-static] serving {} at https://{addr}/",
            ca_file.display()
        );
        Self {
            addr,
            ca_file,
            stop,
            served,
            acceptor: Some(acceptor),
        }
    }

    /// The base URL, with the trailing slash a network mirror URL needs.
    pub fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// PEM of the CA that signed the server's certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// `"<status> <path>"` of every request answered so far, in order.
    pub fn served(&self) -> Vec<String> {
        self.served.lock().map_or_else(
            |poisoned| poisoned.into_inner().clone(),
            |list| list.clone(),
        )
    }
}

impl Drop for HttpsStaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A CA and a leaf for `127.0.0.1` signed by it; returns the server config and the CA's PEM.
fn tls_config() -> (Arc<ServerConfig>, String) {
    let ca_key = generated(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256));
    let mut ca_params = generated(CertificateParams::new(Vec::<String>::new()));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "immutable e2e throwaway CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = generated(CertifiedIssuer::self_signed(ca_params, ca_key));

    let leaf_key = generated(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256));
    // An IP string becomes an IP address SAN, which is what Go checks for https://127.0.0.1.
    let mut leaf_params = generated(CertificateParams::new(vec!["127.0.0.1".to_owned()]));
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = generated(leaf_params.signed_by(&leaf_key, &ca));

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder.with_no_client_auth().with_single_cert(
                vec![leaf.der().clone(), ca.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
        })
        .unwrap_or_else(|err| panic!("cannot build the TLS server config: {err}"));
    (Arc::new(config), ca.pem())
}

fn generated<T>(result: Result<T, rcgen::Error>) -> T {
    result.unwrap_or_else(|err| panic!("cannot generate the test certificates: {err}"))
}

fn serve_one(
    stream: TcpStream,
    config: Arc<ServerConfig>,
    root: &Path,
    served: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let connection = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(connection, stream);

    let head = read_head(&mut tls)?;
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();

    let (status, content_type, body) = match (method.as_str(), resolve(root, &target)) {
        ("GET" | "HEAD", Some(path)) => match fs::read(&path) {
            Ok(bytes) => (200, content_type_of(&path), bytes),
            Err(_) => (404, "text/plain", b"not found\n".to_vec()),
        },
        ("GET" | "HEAD", None) => (404, "text/plain", b"not found\n".to_vec()),
        _ => (405, "text/plain", b"method not allowed\n".to_vec()),
    };
    if let Ok(mut list) = served.lock() {
        list.push(format!("{status} {target}"));
    }
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    write!(
        tls,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        tls.write_all(&body)?;
    }
    tls.flush()?;
    tls.conn.send_close_notify();
    tls.flush()?;
    let _ = tls.sock.shutdown(Shutdown::Write);
    Ok(())
}

/// The request line and headers, up to the blank line.
fn read_head(stream: &mut impl Read) -> std::io::Result<String> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
        if head.len() > MAX_HEAD {
            return Err(std::io::Error::other("request head too long"));
        }
    }
    Ok(head)
}

/// The file a request target names under `root`, or `None` if it would leave `root`.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?.strip_prefix('/')?;
    let relative = Path::new(path);
    if relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        Some(root.join(relative))
    } else {
        None
    }
}

fn content_type_of(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("json") => "application/json",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_outside_the_root_are_refused() {
        let root = Path::new("/srv/mirror");
        assert_eq!(
            resolve(root, "/registry.terraform.io/a/b/index.json"),
            Some(root.join("registry.terraform.io/a/b/index.json"))
        );
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/a/../../etc/passwd"), None);
        assert_eq!(resolve(root, "relative"), None);
    }
}
