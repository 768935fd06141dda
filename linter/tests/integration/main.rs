//! The one integration test binary (one link step, as ripgrep does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod config_mode;
mod docs;
mod escaping;
mod formats;
mod robustness;
mod util;
