//! The provider's resources, one folder or file each, and what Configure gives them.

pub mod fleet;

use crate::aws::AwsClients;

/// What Configure hands every resource call: set up once per configured provider, which is
/// one Terraform walk.
#[derive(Debug)]
pub struct Configured {
    pub aws: AwsClients,
    /// Fleet names claimed by creates in this walk.
    pub claims: fleet::Claims,
}
