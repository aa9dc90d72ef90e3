//! `picket evidence IP -o FILE` and `picket verify --bundle FILE`.

use std::path::Path;

use crate::error::Error;

/// Checks a bundle alone.
pub fn verify_bundle(_file: &Path) -> Result<bool, Error> {
    Err(Error::Usage("bundles are not built yet".into()))
}
