//! Cited compound presets: MK-4, MK-7 and K1.
//!
//! Every default says where it comes from and how: measured in a study (read in its text),
//! secondary (a review or label quoting it), derived by us from measured numbers with the
//! one-compartment model, or assumed. Figures are from `docs/references.md`;
//! docs/model.md § "Compound presets" repeats them; docs/references.md has the full references.
//!
//! Presets fold absolute bioavailability into the apparent volume (V/F), so `f` = 1 for all of
//! them and a user's `f` acts as a relative bioavailability (e.g. a fasting dose).

use std::f64::consts::LN_2;

/// How a default value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Read in the primary source (paper or label).
    Measured,
    /// Quoted by a review or another secondary source.
    Secondary,
    /// Computed by k2sim from measured numbers with the one-compartment model.
    Derived,
    /// A modelling assumption.
    Assumed,
}

impl Evidence {
    /// Short tag for tables.
    pub fn tag(self) -> &'static str {
        match self {
            Evidence::Measured => "measured",
            Evidence::Secondary => "secondary",
            Evidence::Derived => "derived",
            Evidence::Assumed => "assumed",
        }
    }
}

/// A default value with its provenance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cited {
    /// The value, in the unit of the field it sits in.
    pub value: f64,
    /// How it was obtained.
    pub evidence: Evidence,
    /// Where it comes from, and how it was derived when it was.
    pub source: String,
}

impl Cited {
    fn new(value: f64, evidence: Evidence, source: impl Into<String>) -> Self {
        Self {
            value,
            evidence,
            source: source.into(),
        }
    }
}

/// A compound preset.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Compound {
    /// Identifier used in scenario files (`compound = "mk7"`).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Molar mass (g/mol), for nmol/L output.
    pub molar_mass_g_mol: f64,
    /// Absorption rate constant (1/h).
    pub ka_per_h: Cited,
    /// Elimination half-life (h).
    pub half_life_h: Cited,
    /// Apparent volume of distribution V/F (L).
    pub v_l: Cited,
    /// Bioavailability relative to the preset's reference conditions.
    pub f: Cited,
    /// Absorption lag (h).
    pub tlag_h: Cited,
    /// Baseline concentration (ng/mL).
    pub baseline_ng_ml: Cited,
    /// Known limits of the preset.
    pub notes: &'static str,
}

/// Time of the peak after one oral dose of a one-compartment model: ln(ka/ke)/(ka − ke),
/// with its limit 1/k at ka = ke.
pub fn tmax_single_dose_h(ka_per_h: f64, ke_per_h: f64) -> f64 {
    let r = ka_per_h / ke_per_h;
    if (r - 1.0).abs() < 1e-6 {
        // ln(r)/(r−1) = 1 − (r−1)/2 + …
        (1.0 - (r - 1.0) / 2.0) / ke_per_h
    } else {
        r.ln() / (r - 1.0) / ke_per_h
    }
}

/// The absorption rate constant that puts the single-dose peak at `tmax_h` for a given `ke`.
/// tmax is decreasing in ka, so bisection on log ka is exact to rounding.
pub fn ka_from_tmax(tmax_h: f64, ke_per_h: f64) -> f64 {
    let (mut lo, mut hi) = (1e-8_f64.ln(), 1e4_f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tmax_single_dose_h(mid.exp(), ke_per_h) > tmax_h {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// MK-7 steady-state level of Japanese natto eaters used to derive V/F (ng/mL): the geometric
/// middle of the 4–14 ng/mL range (Ikari 2016; Torii 2016).
const MK7_NATTO_LEVEL_NG_ML: f64 = 7.5;
/// Daily MK-7 of a natto eater assumed for the derivation (µg/day): one 40 g pack at about
/// 1000 µg/100 g (secondary food tables).
const MK7_NATTO_INTAKE_UG_PER_DAY: f64 = 400.0;

fn mk7() -> Compound {
    let half_life_h = 72.0;
    let ke = LN_2 / half_life_h;
    let tmax_h = 4.0;
    let v = MK7_NATTO_INTAKE_UG_PER_DAY / (ke * 24.0 * MK7_NATTO_LEVEL_NG_ML);
    Compound {
        id: "mk7",
        name: "MK-7 (menaquinone-7)",
        molar_mass_g_mol: 649.02,
        half_life_h: Cited::new(half_life_h, Evidence::Secondary,
            "Schurgers et al. 2007, Blood 109:3279 (\"very long\" half-life); ~68–72 h as quoted in reviews; k2sim design range 72–96 h"),
        ka_per_h: Cited::new(ka_from_tmax(tmax_h, ke), Evidence::Derived,
            "solved from Tmax ≈ 4 h after one oral dose with food (Schurgers et al. 2007) and t½ 72 h"),
        v_l: Cited::new(v, Evidence::Derived,
            "V/F = intake / (ke·24 h·Css): 400 µg/day (40 g natto at ~1000 µg/100 g, assumed) at 7.5 ng/mL, the middle of 4–14 ng/mL in natto eaters (Ikari 2016; Torii 2016)"),
        f: Cited::new(1.0, Evidence::Assumed, "absolute F folded into V/F"),
        tlag_h: Cited::new(0.0, Evidence::Assumed, "no lag reported"),
        baseline_ng_ml: Cited::new(0.0, Evidence::Assumed,
            "supplement-only curve; western baseline often < 0.5 ng/mL (Ikari 2016): set baseline_ng_ml to a cohort's pre-dose level"),
        notes: "After a single dose the early decline is faster than the 72 h terminal half-life suggests (distribution); a one-compartment model overstates the first day's tail. model = \"two_compartment\" can express it, but no published MK-7 data to derive Q and Vp were found.",
    }
}

/// 30 mg oral menatetrenone syrup: AUC0–∞ (ng·h/mL) and tmax (h) (Eisai, Morishita 1981).
const MK4_SYRUP_DOSE_UG: f64 = 30_000.0;
const MK4_SYRUP_AUC_NG_H_ML: f64 = 1463.0;
const MK4_SYRUP_TMAX_H: f64 = 3.7;

fn mk4() -> Compound {
    let half_life_h = 7.0;
    let ke = LN_2 / half_life_h;
    Compound {
        id: "mk4",
        name: "MK-4 (menatetrenone)",
        molar_mass_g_mol: 444.66,
        half_life_h: Cited::new(half_life_h, Evidence::Secondary,
            "6–8 h in blood as quoted in reviews (design value 7 h); IV label (Kaytwo N) is biphasic, t½α 0.71 h, t½β 17.5 h"),
        ka_per_h: Cited::new(ka_from_tmax(MK4_SYRUP_TMAX_H, ke), Evidence::Derived,
            "solved from tmax 3.7 h after 30 mg oral syrup (Eisai, Morishita 1981) and t½ 7 h"),
        v_l: Cited::new(MK4_SYRUP_DOSE_UG / (MK4_SYRUP_AUC_NG_H_ML * ke), Evidence::Derived,
            "V/F = D / (AUC0–∞·ke) with D = 30 mg, AUC0–∞ 1463 ng·h/mL (Eisai, Morishita 1981), t½ 7 h"),
        f: Cited::new(1.0, Evidence::Assumed,
            "absolute F (≈0.13, syrup vs IV) folded into V/F; fat in the meal changes it several-fold (Uematsu 1996)"),
        tlag_h: Cited::new(0.0, Evidence::Assumed, "no lag reported"),
        baseline_ng_ml: Cited::new(0.0, Evidence::Assumed, "MK-4 is normally near the detection limit in serum"),
        notes: "Fitted to exposure (AUC): the observed Cmax of 325 ng/mL after 30 mg is about 3× the one-compartment prediction, because the true curve is biphasic. For peaks use model = \"two_compartment\" with an absorption lag (scenarios/mk4_two_compartment.toml, derived from the IV label and the syrup data).",
    }
}

/// MK-7 to K1 serum level ratio on prolonged equal daily intake (Schurgers 2007: 7–8-fold).
const MK7_OVER_K1_LEVEL_RATIO: f64 = 7.5;

fn k1() -> Compound {
    let half_life_h = 2.0;
    let ke = LN_2 / half_life_h;
    let mk7 = mk7();
    let ke_mk7 = LN_2 / mk7.half_life_h.value;
    Compound {
        id: "k1",
        name: "K1 (phylloquinone)",
        molar_mass_g_mol: 450.71,
        half_life_h: Cited::new(half_life_h, Evidence::Measured, "plasma half-life 1.5–3 h (Konakion MM SmPC)"),
        ka_per_h: Cited::new(ka_from_tmax(4.0, ke), Evidence::Derived,
            "solved from Tmax ≈ 4 h (Schurgers et al. 2007) and t½ 2 h: flip-flop kinetics (ka < ke)"),
        v_l: Cited::new(MK7_OVER_K1_LEVEL_RATIO * ke_mk7 * mk7.v_l.value / ke, Evidence::Derived,
            "from the 7–8-fold higher MK-7 than K1 levels on prolonged equimolar daily intake (Schurgers et al. 2007) and the MK-7 preset: V/F_K1 = 7.5·ke_MK7·V/F_MK7 / ke_K1"),
        f: Cited::new(1.0, Evidence::Assumed, "absolute F (~50 %, variable; Konakion MM SmPC) folded into V/F"),
        tlag_h: Cited::new(0.0, Evidence::Assumed, "no lag reported"),
        baseline_ng_ml: Cited::new(0.0, Evidence::Assumed, "normal level 0.4–1.2 ng/mL (Konakion MM SmPC): set baseline_ng_ml to include it"),
        notes: "Because ka < ke the terminal slope after a dose reflects absorption (about 4 h), not elimination.",
    }
}

/// All presets, in display order.
pub fn presets() -> Vec<Compound> {
    vec![mk4(), mk7(), k1()]
}

/// The preset with identifier `id` (case-insensitive; "MK-7" and "mk_7" are accepted too).
pub fn find(id: &str) -> Option<Compound> {
    let key: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    presets().into_iter().find(|c| c.id == key)
}

/// Identifiers of all presets.
pub fn ids() -> Vec<&'static str> {
    vec!["mk4", "mk7", "k1"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ka_reproduces_the_cited_tmax() {
        for (c, tmax) in [(mk7(), 4.0), (mk4(), 3.7), (k1(), 4.0)] {
            let ke = LN_2 / c.half_life_h.value;
            let t = tmax_single_dose_h(c.ka_per_h.value, ke);
            assert!((t - tmax).abs() < 1e-9, "{}: {t}", c.id);
        }
    }

    #[test]
    fn k1_preset_is_flip_flop() {
        let c = k1();
        assert!(c.ka_per_h.value < LN_2 / c.half_life_h.value);
    }

    #[test]
    fn mk4_volume_reproduces_the_syrup_auc() {
        // AUC0–∞ = D / (ke·V) must give back 1463 ng·h/mL.
        let c = mk4();
        let auc = 30_000.0 / (LN_2 / 7.0 * c.v_l.value);
        assert!((auc - 1463.0).abs() < 1e-9);
    }

    #[test]
    fn mk7_volume_reproduces_the_natto_level() {
        let c = mk7();
        let cavg = 400.0 / (LN_2 / 72.0 * c.v_l.value * 24.0);
        assert!((cavg - 7.5).abs() < 1e-12);
    }

    #[test]
    fn lookup_is_forgiving_about_spelling() {
        assert_eq!(find("MK-7").unwrap().id, "mk7");
        assert_eq!(find("mk_4").unwrap().id, "mk4");
        assert!(find("mk9").is_none());
        assert_eq!(ids(), presets().iter().map(|c| c.id).collect::<Vec<_>>());
    }
}
