//! Fleet names claimed by creates in one configured provider, so two resources creating the
//! same name in one apply are told apart from a replacement.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// Names claimed in this provider instance. Terraform starts a provider process for each walk
/// and creates every resource instance once per walk, so a second claim of a name in one
/// process means two resource instances create the same name.
#[derive(Debug, Clone, Default)]
pub struct Claims(Arc<Mutex<HashSet<String>>>);

impl Claims {
    /// Claims `name`; false when it was claimed before.
    pub fn claim(&self, name: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned())
    }

    /// Gives a name back (its create failed and removed what it made, or its fleet was
    /// deleted), so a later create in the same process is not taken for a duplicate.
    pub fn release(&self, name: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }
}
