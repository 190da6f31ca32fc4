//! Meal fat and MK-4 bioavailability (Uematsu et al. 1996, J Pharm Sci 85:1012, R):
//! 15 mg menatetrenone after meals with 8.8 / 20.0 / 34.9 / 53.8 g fat gave AUC0–24
//! 371 / 485 / 1024 / ≈1024 ng·h/mL, a plateau above about 35 g.
//!
//! The relation is the published AUC ratio to the plateau, r(fat), interpolated linearly
//! between the study's meals, constant at the plateau above 34.9 g and held at the lowest meal's
//! value below 8.8 g (the study has no lighter meal; fasting, "several-fold lower", is not
//! quantified and not extrapolated). It is normalised to the preset's fed state:
//!
//! ```text
//! F_rel(fat) = r(fat) / r_preset,   r_preset = AUC0–24 of the MK-4 preset at 15 mg / 1024
//! ```
//!
//! so a dose without `meal_fat_g` keeps F = 1 and the Uematsu means are reproduced by
//! construction (derived, D). The preset's fed state corresponds to about 25 g fat.

use crate::compound;
use std::f64::consts::LN_2;

/// Fat of the study's meals (g) and AUC0–24 (ng·h/mL) after 15 mg (Uematsu et al. 1996, R;
/// 53.8 g reported as about the same as 34.9 g).
pub const UEMATSU_1996: [(f64, f64); 4] =
    [(8.8, 371.0), (20.0, 485.0), (34.9, 1024.0), (53.8, 1024.0)];

/// The plateau AUC0–24 (ng·h/mL): the 34.9 g meal.
const PLATEAU_AUC: f64 = 1024.0;

/// AUC ratio to the plateau for a meal with `fat_g` grams of fat (linear between the study's
/// meals, flat outside them).
pub fn auc_ratio_to_plateau(fat_g: f64) -> f64 {
    let pts = UEMATSU_1996;
    if fat_g <= pts[0].0 {
        return pts[0].1 / PLATEAU_AUC;
    }
    for w in pts.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if fat_g <= x1 {
            return (y0 + (y1 - y0) * (fat_g - x0) / (x1 - x0)) / PLATEAU_AUC;
        }
    }
    pts[pts.len() - 1].1 / PLATEAU_AUC
}

/// AUC0–24 (ng·h/mL) of the MK-4 preset after 15 mg, in closed form.
pub fn preset_auc_0_24_15mg() -> f64 {
    let c = compound::find("mk4").expect("the MK-4 preset exists");
    let (ka, ke, v) = (c.ka_per_h.value, LN_2 / c.half_life_h.value, c.v_l.value);
    let t = 24.0;
    15_000.0 / v * ka / (ka - ke) * ((1.0 - (-ke * t).exp()) / ke - (1.0 - (-ka * t).exp()) / ka)
}

/// Bioavailability of an MK-4 dose taken with `fat_g` grams of fat, relative to the preset.
pub fn mk4_f_rel(fat_g: f64) -> f64 {
    auc_ratio_to_plateau(fat_g) / (preset_auc_0_24_15mg() / PLATEAU_AUC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_study_means_with_the_preset() {
        for (fat, auc) in UEMATSU_1996 {
            let predicted = preset_auc_0_24_15mg() * mk4_f_rel(fat);
            assert!((predicted - auc).abs() < 1e-9 * auc, "{fat} g: {predicted}");
        }
    }

    #[test]
    fn saturates_and_never_falls() {
        let mut prev = 0.0;
        for i in 0..=800 {
            let f = mk4_f_rel(f64::from(i) / 10.0);
            assert!(f >= prev);
            prev = f;
        }
        assert_eq!(mk4_f_rel(34.9), mk4_f_rel(80.0));
        // The preset's fed state lies between the 20 g and 34.9 g meals.
        assert!(mk4_f_rel(20.0) < 1.0 && mk4_f_rel(34.9) > 1.0);
    }
}
