//! Helpers shared by the property tests.

use k2sim::dosing::DoseEvent;
use proptest::prelude::*;

/// 1–7 oral doses at quarter-hour times in 0–240 h, amounts log-uniform from 0.05 µg to 440 mg,
/// sorted by time.
pub fn dose_list() -> impl Strategy<Value = Vec<DoseEvent>> {
    prop::collection::vec((0.0f64..240.0, -3.0f64..13.0), 1..8).prop_map(|v| {
        let mut d: Vec<DoseEvent> = v
            .into_iter()
            .map(|(t, a)| DoseEvent::oral((t * 4.0).round() / 4.0, a.exp()))
            .collect();
        d.sort_by(|a, b| a.time_h.total_cmp(&b.time_h));
        d
    })
}
