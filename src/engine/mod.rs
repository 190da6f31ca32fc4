//! One scenario's regimens through the dose walk: trajectories, metrics, steady state,
//! thresholds and the comparison of regimens.

pub mod compare;
pub mod input;
pub mod nca;
pub mod response;
pub mod run;
pub mod sim;
pub mod start;
pub mod steady_profile;
pub mod threshold;
