//! k2sim: pharmacokinetic simulation of vitamin K2 dosing regimens.
//!
//! The library is layered; each layer imports only the layers below it (checked by
//! `tests/architecture.rs`):
//!
//! | layer | what it holds |
//! |---|---|
//! | [`report`] | results -> named byte buffers (CSV, JSON, Markdown, figures, captions) |
//! | [`study`] | populations, sweeps and sensitivity, shards, the fit estimator, literature checks |
//! | [`engine`] | one scenario's regimens through the dose walk; metrics, steady state, thresholds, compare |
//! | [`scenario`] | TOML -> typed [`scenario::Scenario`], with the study specifications |
//! | [`model`] | PK models, states, propagators (closed form, Dopri5), solver choice, peak location |
//! | ground floor | [`dosing`], [`units`], [`format`], [`metric`], [`nca`], [`compound`], [`foods`], [`meal_fat`], [`error`], [`plot`] |
//!
//! It is pure but for one place: [`scenario::load`] (and the loaders of validation cases and of
//! `k2sim nca` data beside it) reads the scenario file and the files it names. Writing files,
//! the terminal and signals belong to the `k2sim` binary (`src/cli/`).

pub mod compound;
pub mod dosing;
pub mod engine;
pub mod error;
pub mod foods;
pub mod format;
pub mod meal_fat;
pub mod metric;
pub mod model;
pub mod nca;
pub mod plot;
pub mod report;
pub mod response;
pub mod scenario;
pub mod study;
pub mod units;
