//! The provider's resources, one file each.

pub mod fleet;
