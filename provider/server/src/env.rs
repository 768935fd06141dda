//! The environment contract with go-plugin's client (Terraform, OpenTofu).
//! Pure functions over the variable values so they are testable without
//! touching the process environment.

use crate::ServeError;

/// Set by Terraform in every provider it launches.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Comma-separated plugin protocol versions the client speaks, any order.
pub(crate) const PROTOCOL_VERSIONS_KEY: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// PEM of the client's certificate; present when AutoMTLS is on.
pub(crate) const CLIENT_CERT_KEY: &str = "PLUGIN_CLIENT_CERT";
/// Not set by Terraform, but honoured like newer go-plugin servers do.
pub(crate) const UNIX_SOCKET_DIR_KEY: &str = "PLUGIN_UNIX_SOCKET_DIR";

/// The only plugin protocol this server speaks.
pub(crate) const PROTOCOL_VERSION: u32 = 5;

pub(crate) fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|value| !value.is_empty())
}

pub(crate) fn check_cookie(value: Option<&str>) -> Result<(), ServeError> {
    if value == Some(MAGIC_COOKIE_VALUE) {
        Ok(())
    } else {
        Err(ServeError::NotLaunchedByTerraform)
    }
}

/// Picks protocol 5 from the client's offer.
///
/// An absent offer means a client older than version negotiation, which
/// implies the handshake's single version; unparsable entries are skipped
/// like go-plugin does.
pub(crate) fn negotiate_protocol(offered: Option<&str>) -> Result<u32, ServeError> {
    let Some(offered) = offered else {
        return Ok(PROTOCOL_VERSION);
    };
    let speaks_ours = offered
        .split(',')
        .filter_map(|version| version.trim().parse::<u32>().ok())
        .any(|version| version == PROTOCOL_VERSION);
    if speaks_ours {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(ServeError::UnsupportedProtocol {
            offered: offered.to_owned(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert!(matches!(
            check_cookie(None),
            Err(ServeError::NotLaunchedByTerraform)
        ));
        assert!(check_cookie(Some("d602bf8f")).is_err());
    }

    #[test]
    fn cookie_error_tells_humans_about_debug_mode() {
        let message = ServeError::NotLaunchedByTerraform.to_string();
        assert!(message.contains("plugin for Terraform"), "{message}");
        assert!(message.contains("--debug"), "{message}");
    }

    #[test]
    fn protocol_5_is_found_in_any_order() {
        for offer in ["5,6", "6,5", "5", " 6 , 5 ", "4,x,5"] {
            assert_eq!(negotiate_protocol(Some(offer)).ok(), Some(5), "{offer}");
        }
    }

    #[test]
    fn missing_offer_means_protocol_5() {
        assert_eq!(negotiate_protocol(None).ok(), Some(5));
    }

    #[test]
    fn offer_without_5_is_rejected_with_the_offer_in_the_message() {
        let err = negotiate_protocol(Some("6,7")).err();
        let Some(err @ ServeError::UnsupportedProtocol { .. }) = err else {
            panic!("expected UnsupportedProtocol, got {err:?}");
        };
        assert!(err.to_string().contains("\"6,7\""));
        assert!(err.to_string().contains("protocol 5"));
        assert!(negotiate_protocol(Some("15,55")).is_err());
    }
}
