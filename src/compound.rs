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
    /// The plausible range of the value and where it comes from (every compound preset
    /// parameter has one; `None` where the range is kept elsewhere, e.g. a food's content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<Plausible>,
}

/// The plausible range of a preset parameter: the values the evidence allows, and whether an
/// uncertainty run (`k2sim run --uncertainty`) samples it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plausible {
    /// Lowest plausible value (unit of the parameter).
    pub lo: f64,
    /// Highest plausible value.
    pub hi: f64,
    /// Whether `--uncertainty` samples the parameter over the range (log-uniformly). `false`
    /// for a parameter that is a choice of the scenario rather than a property of the compound
    /// (the baseline of a cohort), or that is folded into another (F into V/F).
    pub sampled: bool,
    /// Where the range comes from, with its evidence.
    pub basis: String,
}

impl Plausible {
    /// A range `uncertainty` samples.
    fn sampled(lo: f64, hi: f64, basis: impl Into<String>) -> Option<Self> {
        Some(Self {
            lo,
            hi,
            sampled: true,
            basis: basis.into(),
        })
    }

    /// A range documented but not sampled.
    fn fixed(lo: f64, hi: f64, basis: impl Into<String>) -> Option<Self> {
        Some(Self {
            lo,
            hi,
            sampled: false,
            basis: basis.into(),
        })
    }
}

impl Cited {
    fn new(value: f64, evidence: Evidence, source: impl Into<String>) -> Self {
        Self {
            value,
            evidence,
            source: source.into(),
            range: None,
        }
    }

    /// The same value with its plausible range.
    fn within(self, range: Option<Plausible>) -> Self {
        Self { range, ..self }
    }
}

/// Basis of the range of a folded bioavailability.
const F_FOLDED: &str = "the preset folds absolute F into V/F, whose range carries its uncertainty; a user's f is a relative bioavailability";
/// Basis of the range of an absorption lag none of the sources reports.
const NO_LAG: &str = "no source read reports a lag (docs/research/presets_evidence.md)";

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

impl Compound {
    /// The parameters with their scenario keys, in display order.
    pub fn parameters(&self) -> [(&'static str, &Cited); 6] {
        [
            ("ka_per_h", &self.ka_per_h),
            ("half_life_h", &self.half_life_h),
            ("v_l", &self.v_l),
            ("f", &self.f),
            ("tlag_h", &self.tlag_h),
            ("baseline_ng_ml", &self.baseline_ng_ml),
        ]
    }
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
            "Schurgers et al. 2007, Blood 109:3279 (\"very long\" half-life, no number in the abstract); ~68–72 h as quoted in reviews")
            .within(Plausible::sampled(68.0, 96.0,
                "68–72 h as quoted in reviews (secondary; no primary number found); 96 h is what a plateau by day 20 of daily intake (5 half-lives) implies (Examine, secondary)")),
        ka_per_h: Cited::new(ka_from_tmax(tmax_h, ke), Evidence::Derived,
            "solved from Tmax ≈ 4 h after one oral dose with food (Schurgers et al. 2007) and t½ 72 h")
            .within(Plausible::sampled(ka_from_tmax(6.0, ke), ka_from_tmax(2.0, ke),
                "derived: solved from Tmax 2–6 h at t½ 72 h (oil capsules 2–4 h, tablets 6 h: Knapen et al. 2014; 6 h with breakfast: Sato et al. 2012)")),
        v_l: Cited::new(v, Evidence::Derived,
            "V/F = intake / (ke·24 h·Css): 400 µg/day (40 g natto at ~1000 µg/100 g, assumed) at 7.5 ng/mL, the middle of 4–14 ng/mL in natto eaters (Ikari 2016; Torii 2016)")
            .within(Plausible::sampled(130.0, 800.0,
                "derived, weak: K1 CL/F 10.5–40.3 L/h (oral F 50 %, Konakion MM label … Garber 1999 AUC) over the 7–8-fold MK-7/K1 level ratio (Schurgers et al. 2007) at t½ 68–96 h (docs/research/presets_evidence.md §3.2); no serum MK-7 after a known supplement dose was found to anchor it")),
        f: Cited::new(1.0, Evidence::Assumed, "absolute F folded into V/F")
            .within(Plausible::fixed(1.0, 1.0, F_FOLDED)),
        tlag_h: Cited::new(0.0, Evidence::Assumed, "no lag reported")
            .within(Plausible::fixed(0.0, 0.0, NO_LAG)),
        baseline_ng_ml: Cited::new(0.0, Evidence::Assumed,
            "supplement-only curve; set baseline_ng_ml to a cohort's pre-dose level")
            .within(Plausible::fixed(0.0, 14.2,
                "a property of the cohort: British postmenopausal women 0.37 ± 0.20 ng/mL (Kaneki et al. 2001) to Japanese cardiology patients 14.2 ± 11.9 ng/mL (Ikari et al. 2016)")),
        notes: "After a single dose the early decline is faster than the 72 h terminal half-life suggests (distribution); a one-compartment model overstates the first day's tail. model = \"two_compartment\" can express it, but no published MK-7 data to derive Q and Vp were found.",
    }
}

/// 30 mg oral menatetrenone syrup: AUC0–∞ (ng·h/mL) and tmax (h) (Eisai, Morishita 1981).
const MK4_SYRUP_DOSE_UG: f64 = 30_000.0;
const MK4_SYRUP_AUC_NG_H_ML: f64 = 1463.0;
const MK4_SYRUP_TMAX_H: f64 = 3.7;
/// CL/F (L/h) of 15 mg menatetrenone with the fattiest and the leanest meal, dose over
/// AUC0–24 (Uematsu et al. 1996: 1024 and 371 ng·h/mL with 34.9 and 8.8 g fat).
const MK4_CL_F_L_PER_H: (f64, f64) = (15_000.0 / 1024.0, 15_000.0 / 371.0);

fn mk4() -> Compound {
    let half_life_h = 7.0;
    let ke = LN_2 / half_life_h;
    Compound {
        id: "mk4",
        name: "MK-4 (menatetrenone)",
        molar_mass_g_mol: 444.66,
        half_life_h: Cited::new(half_life_h, Evidence::Secondary,
            "design value between the phases of the IV label (Kaytwo N: biphasic, t½α 0.71 h, t½β 17.5 h); 6–8 h as quoted in reviews, no primary source found")
            .within(Plausible::sampled(5.0, 17.5,
                "about 5 h (a clinic page, secondary, unreferenced) to the IV terminal phase 17.5 h (Kaytwo N label)")),
        ka_per_h: Cited::new(ka_from_tmax(MK4_SYRUP_TMAX_H, ke), Evidence::Derived,
            "solved from tmax 3.7 h after 30 mg oral syrup (Eisai, Morishita 1981) and t½ 7 h")
            .within(Plausible::sampled(ka_from_tmax(6.0, ke), ka_from_tmax(2.0, ke),
                "derived: solved from Tmax 2–6 h at t½ 7 h (3.7 h after syrup, Morishita 1981; a second peak after lunch, Uematsu 1996)")),
        v_l: Cited::new(MK4_SYRUP_DOSE_UG / (MK4_SYRUP_AUC_NG_H_ML * ke), Evidence::Derived,
            "V/F = D / (AUC0–∞·ke) with D = 30 mg, AUC0–∞ 1463 ng·h/mL (Eisai, Morishita 1981), t½ 7 h")
            .within(Plausible::sampled(MK4_CL_F_L_PER_H.0 / ke, MK4_CL_F_L_PER_H.1 / ke,
                "derived: CL/F = 15 mg / AUC0–24 = 14.6–40.4 L/h with 34.9 … 8.8 g fat in the meal (Uematsu et al. 1996), over ke at t½ 7 h")),
        f: Cited::new(1.0, Evidence::Assumed,
            "absolute F (≈0.13, syrup vs IV) folded into V/F; fat in the meal changes it several-fold (Uematsu 1996)")
            .within(Plausible::fixed(1.0, 1.0, F_FOLDED)),
        tlag_h: Cited::new(0.0, Evidence::Assumed, "no lag reported")
            .within(Plausible::fixed(0.0, 0.0, NO_LAG)),
        baseline_ng_ml: Cited::new(0.0, Evidence::Assumed, "MK-4 is normally near the detection limit in serum")
            .within(Plausible::fixed(0.0, 2.2,
                "a property of the cohort and the assay: median 0 (Torii et al. 2016), 0.4 ± 2.0 ng/mL (Ikari et al. 2016), 2.2 ± 0.38 ng/mL (Sato et al. 2012)")),
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
        half_life_h: Cited::new(half_life_h, Evidence::Measured, "plasma half-life 1.5–3 h (Konakion MM SmPC)")
            .within(Plausible::sampled(1.5, 3.0, "the label's range (Konakion MM SmPC, parenteral)")),
        ka_per_h: Cited::new(ka_from_tmax(4.0, ke), Evidence::Derived,
            "solved from Tmax ≈ 4 h (Schurgers et al. 2007) and t½ 2 h: flip-flop kinetics (ka < ke)")
            .within(Plausible::sampled(ka_from_tmax(10.0, ke), ka_from_tmax(4.0, ke),
                "derived: solved from Tmax 4–10 h at t½ 2 h (4 h: Schurgers et al. 2007; food-bound 6 h: Schurgers & Vermeer 2000; kale 6–10 h: Novotny et al. 2010)")),
        v_l: Cited::new(MK7_OVER_K1_LEVEL_RATIO * ke_mk7 * mk7.v_l.value / ke, Evidence::Derived,
            "from the 7–8-fold higher MK-7 than K1 levels on prolonged equimolar daily intake (Schurgers et al. 2007) and the MK-7 preset: V/F_K1 = 7.5·ke_MK7·V/F_MK7 / ke_K1")
            .within(Plausible::sampled(23.0, 175.0,
                "derived: CL 5.2 L/h (IM AUC and availability, DrugBank, secondary) over oral F 0.13–0.5 (Jones 2007; Konakion MM label), over ke at t½ 1.5–3 h (docs/research/presets_evidence.md §3.3)")),
        f: Cited::new(1.0, Evidence::Assumed, "absolute F folded into V/F (oral F 13 ± 9 % with a stable isotope, Jones 2007; ~50 %, variable, Konakion MM label)")
            .within(Plausible::fixed(1.0, 1.0, F_FOLDED)),
        tlag_h: Cited::new(0.0, Evidence::Assumed, "no lag reported")
            .within(Plausible::fixed(0.0, 0.0, NO_LAG)),
        baseline_ng_ml: Cited::new(0.0, Evidence::Assumed, "normal level 0.4–1.2 ng/mL (Konakion MM SmPC): set baseline_ng_ml to include it")
            .within(Plausible::fixed(0.0, 1.2,
                "a property of the cohort: normal 0.4–1.2 ng/mL (Konakion MM SmPC); British adults' geometric mean 0.42 ng/mL (Thane et al., NDNS)")),
        notes: "Because ka < ke the terminal slope after a dose reflects absorption (about 4 h), not elimination.",
    }
}

/// The formulations `formulation = "…"` accepts, in the order of error messages.
pub const FORMULATIONS: [&str; 3] = ["capsule", "tablet", "food"];

/// The published time of the peak (h) after one oral dose of compound `id` in `formulation`,
/// from which a regimen's ka is solved; `None` where no source gives one.
pub fn formulation_tmax_h(id: &str, formulation: &str) -> Option<Cited> {
    let (tmax, lo, hi, evidence, source) = match (id, formulation) {
        ("mk7", "capsule") => (3.0, 2.0, 4.0, Evidence::Measured,
            "oil capsules (linseed or sunflower oil) peak at 2–4 h (Knapen et al. 2014, four single-dose studies); the middle, 3 h"),
        ("mk7", "tablet") => (6.0, 5.0, 7.0, Evidence::Measured,
            "tablets peak at about 6 h (Knapen et al. 2014); ±1 h assumed"),
        ("mk7", "food") => (6.0, 5.0, 7.0, Evidence::Measured,
            "food-bound vitamin K peaks at 6 h, detergent-solubilised K1 at 4 h (Schurgers & Vermeer 2000, spinach K1 and natto K2); ±1 h assumed"),
        ("k1", "capsule" | "tablet") => (4.0, 4.0, 4.7, Evidence::Measured,
            "K1 supplements peak at about 4 h (Schurgers et al. 2007; Schurgers & Vermeer 2000); 4.7 ± 0.8 h after 4 µg (Jones 2007, secondary)"),
        ("k1", "food") => (6.0, 6.0, 10.0, Evidence::Measured,
            "food-bound K1 peaks at 6 h (spinach, Schurgers & Vermeer 2000) to 6–10 h (kale, Novotny et al. 2010)"),
        _ => return None,
    };
    Some(Cited::new(tmax, evidence, source).within(Plausible::fixed(
        lo,
        hi,
        "the spread of the Tmax the source reports; the regimen's ka is solved from the value",
    )))
}

/// The cohorts `baseline = "…"` accepts, in the order of error messages.
pub const COHORTS: [&str; 3] = ["none", "japanese", "european"];

/// The endogenous serum level (ng/mL) of compound `id` in a `cohort`, as published, for a
/// regimen's `baseline`; `None` where no source gives one.
pub fn cohort_baseline_ng_ml(id: &str, cohort: &str) -> Option<Cited> {
    let (value, evidence, source) = match (id, cohort) {
        (_, "none") => (0.0, Evidence::Assumed, "no endogenous level: the supplement's own curve"),
        ("mk7", "japanese") => (5.26, Evidence::Secondary,
            "postmenopausal women in Tokyo, 5.26 ± 6.13 ng/mL (Kaneki et al. 2001, as quoted; Hiroshima 1.22 ± 1.85): eating natto moves it several-fold"),
        ("mk7", "european") => (0.37, Evidence::Secondary,
            "British postmenopausal women, 0.37 ± 0.20 ng/mL (Kaneki et al. 2001, as quoted); 1.0–1.2 ng/mL in 350 Polish women by HPLC (PMC6816853)"),
        ("mk4", "japanese") => (0.0, Evidence::Measured,
            "median 0 ng/mL in 103 Japanese patients (Torii et al. 2016); 0.4 ± 2.0 ng/mL in 26 (Ikari et al. 2016)"),
        ("mk4", "european") => (0.86, Evidence::Measured,
            "0.83–0.89 ng/mL in 350 Polish postmenopausal women by HPLC (PMC6816853); assays differ widely"),
        ("k1", "japanese") => (1.33, Evidence::Measured,
            "median 1.33 ng/mL in 103 Japanese patients (Torii et al. 2016)"),
        ("k1", "european") => (0.42, Evidence::Measured,
            "geometric mean 0.94 nmol/L = 0.42 ng/mL in 1154 British adults, non-fasted (Thane et al., NDNS 2000–1)"),
        _ => return None,
    };
    Some(Cited::new(value, evidence, source))
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
    fn every_preset_parameter_has_a_range_holding_its_value() {
        for c in presets() {
            for (name, p) in c.parameters() {
                let r = p
                    .range
                    .as_ref()
                    .unwrap_or_else(|| panic!("{} {name}: no range", c.id));
                assert!(
                    r.lo <= p.value && p.value <= r.hi,
                    "{} {name}: {} outside {}–{}",
                    c.id,
                    p.value,
                    r.lo,
                    r.hi
                );
                assert!(!r.basis.is_empty() && !p.source.is_empty());
                // A sampled range is a real interval of positive values (sampled in log).
                assert!(!r.sampled || (0.0 < r.lo && r.lo < r.hi), "{} {name}", c.id);
            }
        }
    }

    #[test]
    fn ranges_of_ka_give_back_their_tmax_bounds() {
        for (c, (t_lo, t_hi)) in [
            (mk7(), (2.0, 6.0)),
            (mk4(), (2.0, 6.0)),
            (k1(), (4.0, 10.0)),
        ] {
            let ke = LN_2 / c.half_life_h.value;
            let r = c.ka_per_h.range.unwrap();
            // The fastest absorption gives the earliest peak.
            assert!(
                (tmax_single_dose_h(r.hi, ke) - t_lo).abs() < 1e-9,
                "{}",
                c.id
            );
            assert!(
                (tmax_single_dose_h(r.lo, ke) - t_hi).abs() < 1e-9,
                "{}",
                c.id
            );
        }
        // MK-4 V/F: 15 mg over the AUC0–24 of the fattiest and leanest meals, over ke.
        let r = mk4().v_l.range.unwrap();
        let ke = LN_2 / 7.0;
        assert!((r.lo * ke * 1024.0 - 15_000.0).abs() < 1e-6);
        assert!((r.hi * ke * 371.0 - 15_000.0).abs() < 1e-6);
    }

    #[test]
    fn formulations_and_cohorts_cover_what_the_sources_give() {
        for f in FORMULATIONS {
            assert!(formulation_tmax_h("mk7", f).is_some(), "mk7 {f}");
            assert!(formulation_tmax_h("k1", f).is_some(), "k1 {f}");
            // MK-4's absorption is known from a syrup only.
            assert!(formulation_tmax_h("mk4", f).is_none(), "mk4 {f}");
        }
        for c in ids() {
            for cohort in COHORTS {
                let b = cohort_baseline_ng_ml(c, cohort).unwrap();
                assert!(b.value >= 0.0 && !b.source.is_empty());
            }
            assert_eq!(cohort_baseline_ng_ml(c, "none").unwrap().value, 0.0);
        }
        let t = formulation_tmax_h("mk7", "tablet").unwrap();
        let r = t.range.unwrap();
        assert!(r.lo <= t.value && t.value <= r.hi);
        assert!(formulation_tmax_h("mk7", "gummy").is_none());
    }

    #[test]
    fn lookup_is_forgiving_about_spelling() {
        assert_eq!(find("MK-7").unwrap().id, "mk7");
        assert_eq!(find("mk_4").unwrap().id, "mk4");
        assert!(find("mk9").is_none());
        assert_eq!(ids(), presets().iter().map(|c| c.id).collect::<Vec<_>>());
    }
}
