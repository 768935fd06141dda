//! immutable-lint: rejects Terraform/OpenTofu plans that would update instances in place,
//! replace them destroy-first, configure them at runtime, and the other snowflake-makers.
//!
//! The binary is a thin shell over [`cli::run`]. Library users can parse a plan with
//! [`plan::parse`], lint it with [`lint::Linter`] and render a [`report::Report`] with
//! [`output::render`].
//!
//! Modules import one way, from the leaves up (no cycles):
//! - leaves: `position` (offsets to lines and columns), [`registry`] (rule metadata and
//!   severities), [`plan`] (the plan model), [`catalog`], [`config_resource`] (a resource
//!   block as the rules see it in configuration mode);
//! - [`finding`] (what a rule reports), then [`rules`] (the checks, and the list of them);
//! - [`source`] (`--source` maps and inline ignores), [`tfconfig`] (configuration mode),
//!   [`config`] (`.immutable-lint.toml`), [`input`];
//! - [`report`] (what a run found), `waivers`, then [`lint`] (the orchestration);
//! - [`output`] (the formats), [`docs`], and [`cli`] on top.

// Error values are built at most once per input; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod catalog;
pub mod cli;
pub mod config;
pub mod config_resource;
pub mod docs;
pub mod finding;
pub mod input;
pub mod lint;
pub mod output;
pub mod plan;
mod position;
pub mod registry;
pub mod report;
pub mod rules;
pub mod source;
pub mod tfconfig;
mod waivers;
