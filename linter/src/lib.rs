//! immutable-lint: rejects Terraform/OpenTofu plans that would update instances in place,
//! replace them destroy-first, configure them at runtime, and the other snowflake-makers.
//!
//! The binary is a thin shell over [`cli::run`]. Library users can parse a plan with
//! [`plan::parse`], lint it with [`lint::Linter`] and render a [`lint::Report`] with
//! [`output::render`].

// Error values are built at most once per input; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod catalog;
pub mod cli;
pub mod config;
pub mod docs;
pub mod finding;
pub mod input;
pub mod lint;
pub mod output;
pub mod plan;
pub mod rules;
pub mod source;
pub mod tfconfig;
