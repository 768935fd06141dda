//! go-plugin AutoMTLS: a fresh self-signed server certificate per process and
//! a client verifier pinned to the certificate Terraform passed in
//! `PLUGIN_CLIENT_CERT`.
//!
//! Two crypto libraries, on purpose. aws-lc (0.47) seeds its random number
//! generator from CPU jitter on first use: about 30 ms of CPU, which was 95% of
//! the provider's start-up and is paid again by every provider process
//! Terraform starts (bench/results/provider.md). So everything that needs
//! randomness — the server key, the certificate signature, the TLS key exchange
//! and handshake signatures — uses ring, whose randomness is the OS's. aws-lc only
//! verifies the client's signatures: Terraform's certificate is P-521, which ring
//! cannot verify, and verifying needs no randomness.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PublicKeyData, SignatureAlgorithm, SigningKey,
};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

use crate::ServeError;

/// The server half of AutoMTLS.
pub(crate) struct ServerTls {
    /// DER of our certificate, advertised in the handshake line.
    pub(crate) cert_der: Vec<u8>,
    pub(crate) config: Arc<ServerConfig>,
}

/// Builds the TLS server configuration for a client whose certificate PEM
/// came in `PLUGIN_CLIENT_CERT`.
pub(crate) fn server_tls(client_cert_pem: &str) -> Result<ServerTls, ServeError> {
    let provider = Arc::new(server_crypto());
    let verifier = PinnedClientCert::from_pem(client_cert_pem, &provider)?;
    let (cert, key) = self_signed_localhost()?;

    let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![cert.clone()], key)?;
    // grpc-go >= 1.67 refuses TLS connections that did not negotiate h2.
    config.alpn_protocols = vec![b"h2".to_vec()];

    Ok(ServerTls {
        cert_der: cert.as_ref().to_vec(),
        config: Arc::new(config),
    })
}

/// ring for all that needs randomness, aws-lc's signature verification (P-521).
fn server_crypto() -> CryptoProvider {
    CryptoProvider {
        signature_verification_algorithms: rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms,
        ..rustls::crypto::ring::default_provider()
    }
}

/// An ECDSA P-256 key of ring's, for rcgen to sign the certificate with.
struct RingKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl RingKey {
    fn generate() -> Result<Self, ServeError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| rcgen::Error::RingUnspecified)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|e| rcgen::Error::RingKeyRejected(e.to_string()))?;
        Ok(Self {
            pair,
            pkcs8: pkcs8.as_ref().to_vec(),
            rng,
        })
    }
}

impl PublicKeyData for RingKey {
    fn der_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for RingKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RingUnspecified)
    }
}

/// A self-signed certificate shaped like go-plugin's own: the Go client
/// trusts exactly this certificate as its only root and checks the name
/// `localhost`, so it must be a CA, valid for `localhost`, for both key
/// usages.
fn self_signed_localhost() -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), ServeError>
{
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    // A little slack for clock differences; the process lives for minutes.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(365 * 30);

    let key = RingKey::generate()?;
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8));
    Ok((cert.der().clone(), key_der))
}

/// Accepts exactly the client certificate(s) from `PLUGIN_CLIENT_CERT`.
///
/// webpki's client verifier cannot be used: Terraform's certificate is a
/// self-signed CA presented as the leaf, which webpki rejects as
/// `CaUsedAsEndEntity`. Pinning the DER is at least as strict as go-plugin's
/// "the pool holds only this certificate", and the handshake signatures are
/// still verified so the peer must hold the private key.
#[derive(Debug)]
pub(crate) struct PinnedClientCert {
    allowed: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    pub(crate) fn from_pem(pem: &str, provider: &CryptoProvider) -> Result<Self, ServeError> {
        let allowed = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| ServeError::InvalidClientCert {
                reason: err.to_string(),
            })?;
        if allowed.is_empty() {
            return Err(ServeError::InvalidClientCert {
                reason: "no CERTIFICATE block found".to_owned(),
            });
        }
        Ok(Self {
            allowed,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    // No CA hints: Go's client then offers its only certificate regardless.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self
            .allowed
            .iter()
            .any(|allowed| allowed.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("rejected a TLS client certificate that is not PLUGIN_CLIENT_CERT");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn p521_pem() -> (String, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let cert = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), cert.der().to_vec())
    }

    #[test]
    fn pinned_verifier_accepts_only_the_pinned_der() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let (pem, der) = p521_pem();
        let (_, other_der) = p521_pem();
        let verifier = PinnedClientCert::from_pem(&pem, &provider).unwrap();
        let now = UnixTime::now();
        assert!(
            verifier
                .verify_client_cert(&CertificateDer::from(der), &[], now)
                .is_ok()
        );
        assert!(
            verifier
                .verify_client_cert(&CertificateDer::from(other_der), &[], now)
                .is_err()
        );
        assert!(verifier.client_auth_mandatory());
        assert!(
            verifier
                .supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }

    #[test]
    fn garbage_client_cert_is_an_error() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        assert!(matches!(
            PinnedClientCert::from_pem("not a pem", &provider),
            Err(ServeError::InvalidClientCert { .. })
        ));
    }

    #[test]
    fn server_cert_is_self_signed_for_localhost_with_h2() {
        let (pem, _) = p521_pem();
        let tls = server_tls(&pem).unwrap();
        assert!(!tls.cert_der.is_empty());
        assert_eq!(tls.config.alpn_protocols, vec![b"h2".to_vec()]);
    }
}
