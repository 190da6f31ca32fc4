//! k2sim: pharmacokinetic simulation of vitamin K2 dosing regimens.
//!
//! The library is pure: it takes validated data and returns data. Files, figures on disk and the
//! terminal belong to the CLI (`cli.rs`) and the writers in [`output`].

pub mod compare;
pub mod compound;
pub mod dosing;
pub mod error;
pub mod figure;
pub mod fit;
pub mod foods;
pub mod meal_fat;
pub mod model;
pub mod output;
pub mod plot;
pub mod population;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod steady_profile;
pub mod study;
pub mod study_figure;
pub mod study_output;
pub mod sweep;
pub mod threshold;
pub mod units;
pub mod validation;
