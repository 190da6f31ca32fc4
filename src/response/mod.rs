//! From serum levels to effect: turnover models of two vitamin K carboxylation markers,
//! dp-ucMGP (desphospho-uncarboxylated matrix Gla protein, vascular) and the ucOC:cOC ratio
//! (undercarboxylated over carboxylated osteocalcin, bone), driven by the simulated
//! concentration of MK-7 or MK-4, with every parameter cited.
//!
//! **What is modelled.** The biomarker, not an outcome. Supplementation reliably moves these
//! markers. No trial has shown that moving them prevents fractures, calcification or events.
//!
//! **How the parameters are derived** (each is a [`Cited`] with its tag; `docs/response.md`
//! shows the numbers):
//! - baselines, turnover rates and the endogenous level come from the literature;
//! - the largest inhibition `Imax` and the potency `IC50` of MK-7 are solved **exactly** so that
//!   the model's steady state reproduces two published dose arms (Dalmeijer et al. 2012 in
//!   healthy adults; Westenfeld et al. 2012 in haemodialysis). They are solved through k2sim's
//!   own MK-7 preset (Cavg,ss per µg/day), so IC50 is consistent with the V/F the PK uses.
//!   Quoting an IC50 measured with another study's PK would not be. With two arms and two
//!   parameters there is no residual, hence no standard error: the group SDs were not readable
//!   (docs/research/response_model.md §9);
//! - the potency of MK-4 relative to MK-7 (molar) is solved so that 45 mg/day reproduces the
//!   ucOC change of Jiang et al. 2014. It is an estimate to report, not an assumption. For
//!   dp-ucMGP no MK-4 data exist, and the same relative potency is **assumed**.
//!
//! Ground-floor science (floor 2): pure functions on concentrations; the engine feeds them.

use std::f64::consts::LN_2;

use crate::compound::{self, Cited, Evidence};

pub mod params;
pub mod turnover;

pub use params::{MarkerParam, ParamKey};
pub use turnover::Turnover;

/// A shipped marker.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    /// dp-ucMGP (pmol/L).
    DpUcmgp,
    /// The ucOC:cOC ratio, as % of its baseline.
    Ucoc,
}

impl Marker {
    /// Every marker, in the order of tables.
    pub const ALL: [Marker; 2] = [Marker::DpUcmgp, Marker::Ucoc];

    /// Key in scenario files and tables.
    pub fn key(self) -> &'static str {
        match self {
            Marker::DpUcmgp => "dp_ucmgp",
            Marker::Ucoc => "ucoc",
        }
    }

    /// The marker with key `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    /// Name for figures and tables.
    pub fn label(self) -> &'static str {
        match self {
            Marker::DpUcmgp => "dp-ucMGP",
            Marker::Ucoc => "ucOC:cOC",
        }
    }

    /// Unit of the marker's value.
    pub fn unit(self) -> &'static str {
        match self {
            Marker::DpUcmgp => "pmol/L",
            Marker::Ucoc => "% of baseline",
        }
    }
}

/// A population preset: who the parameters describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Population {
    /// Healthy adults (the Dutch cohorts of Dalmeijer 2012).
    Healthy,
    /// Patients on haemodialysis (Westenfeld 2012): higher baseline, different potency.
    Haemodialysis,
}

impl Population {
    /// Every population, in the order of error messages.
    pub const ALL: [Population; 2] = [Population::Healthy, Population::Haemodialysis];

    /// Key in scenario files.
    pub fn key(self) -> &'static str {
        match self {
            Population::Healthy => "healthy",
            Population::Haemodialysis => "haemodialysis",
        }
    }

    /// The population with key `key` ("hemodialysis" accepted).
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "healthy" => Some(Population::Healthy),
            "haemodialysis" | "hemodialysis" => Some(Population::Haemodialysis),
            _ => None,
        }
    }
}

/// A published dose arm: daily MK-7 dose (µg) and the fractional fall of the marker.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Arm {
    dose_ug_per_day: f64,
    fall: f64,
}

/// The parameters of one marker in one population, each cited.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MarkerPreset {
    pub marker: Marker,
    pub population: Population,
    /// Baseline level (the marker's unit).
    pub baseline: Cited,
    /// Loss rate of the marker (1/day).
    pub kout_per_day: Cited,
    /// Endogenous MK-7-equivalent level (ng/mL MK-7).
    pub cendo_ng_ml: Cited,
    /// Largest inhibition of production (0–1).
    pub imax: Cited,
    /// MK-7 concentration of half the largest inhibition (ng/mL).
    pub ic50_mk7_ng_ml: Cited,
    /// Molar potency of MK-4 relative to MK-7, when known or assumed.
    pub mk4_relative_potency: Option<Cited>,
}

fn cited(value: f64, evidence: Evidence, source: impl Into<String>) -> Cited {
    Cited {
        value,
        evidence,
        source: source.into(),
        range: None,
    }
}

/// ng/mL of a compound with molar mass `mm` (g/mol) in nmol/L.
fn nmol_l(ng_ml: f64, mm: f64) -> f64 {
    ng_ml * 1000.0 / mm
}

/// Cavg,ss (ng/mL) per µg/day of a compound preset taken daily: 1/(ke·V/F·24 h).
pub fn cavg_per_ug_day(c: &compound::Compound) -> f64 {
    let ke = LN_2 / c.half_life_h.value;
    1.0 / (ke * c.v_l.value * 24.0)
}

/// The fractional fall of the marker's steady state at extra MK-7-equivalent `c` (nmol/L).
fn fall(t: &Turnover, c: f64) -> f64 {
    1.0 - t.steady_level(c) / t.baseline
}

/// Solves (Imax, IC50) so that the steady state reproduces both arms exactly, Imax ≤ 1.
/// For a given IC50 the fall of the first arm fixes Imax (the fall rises with Imax); the second
/// arm then fixes IC50 (bisection on log IC50).
fn solve_two_arms(base: Turnover, s_nmol_per_ug: f64, a: Arm, b: Arm) -> Option<(f64, f64)> {
    let imax_for = |ic50: f64| -> Option<f64> {
        let at = |imax: f64| {
            let t = Turnover {
                imax,
                ic50_nmol_l: ic50,
                ..base
            };
            fall(&t, s_nmol_per_ug * a.dose_ug_per_day)
        };
        if at(1.0) < a.fall {
            return None;
        }
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            // No number between lo and hi is left: later steps would change neither (the
            // result is the same as after all 200, in a quarter of the work).
            if mid <= lo || mid >= hi {
                break;
            }
            if at(mid) < a.fall {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(0.5 * (lo + hi))
    };
    let second = |ic50: f64| -> Option<f64> {
        let imax = imax_for(ic50)?;
        let t = Turnover {
            imax,
            ic50_nmol_l: ic50,
            ..base
        };
        Some(fall(&t, s_nmol_per_ug * b.dose_ug_per_day) - b.fall)
    };
    // A small IC50 saturates (the second arm falls as much as the first), a large one is
    // linear (twice the dose, about twice the fall): the observed ratio lies between.
    let (mut lo, mut hi) = (1e-3_f64.ln(), 1e5_f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        match second(mid.exp()) {
            // The second arm falls too little: saturated, IC50 must be larger.
            Some(g) if g < 0.0 => lo = mid,
            // It falls too much, or even Imax = 1 cannot give the first arm's fall (IC50 so
            // large that the response is too weak): IC50 must be smaller.
            _ => hi = mid,
        }
    }
    let ic50 = (0.5 * (lo + hi)).exp();
    let imax = imax_for(ic50)?;
    let t = Turnover {
        imax,
        ic50_nmol_l: ic50,
        ..base
    };
    ((fall(&t, s_nmol_per_ug * b.dose_ug_per_day) - b.fall).abs() < 1e-9).then_some((imax, ic50))
}

/// With Imax = 1, the IC50 that fits both arms best (least squares of the falls, ternary
/// search on log IC50), for arms that an exact solution could only meet with Imax > 1.
fn fit_capped(base: Turnover, s_nmol_per_ug: f64, arms: [Arm; 2]) -> (f64, [f64; 2]) {
    let t_at = |ic50: f64| Turnover {
        imax: 1.0,
        ic50_nmol_l: ic50,
        ..base
    };
    let sse = |ic50: f64| -> f64 {
        let t = t_at(ic50);
        arms.iter()
            .map(|a| (fall(&t, s_nmol_per_ug * a.dose_ug_per_day) - a.fall).powi(2))
            .sum()
    };
    let (mut lo, mut hi) = (1e-3_f64.ln(), 1e5_f64.ln());
    for _ in 0..300 {
        let m1 = lo + (hi - lo) / 3.0;
        let m2 = hi - (hi - lo) / 3.0;
        if sse(m1.exp()) < sse(m2.exp()) {
            hi = m2;
        } else {
            lo = m1;
        }
    }
    let ic50 = (0.5 * (lo + hi)).exp();
    let t = t_at(ic50);
    let res = arms.map(|a| fall(&t, s_nmol_per_ug * a.dose_ug_per_day) - a.fall);
    (ic50, res)
}

/// The relative potency w so that `c_nmol_l` of the other vitamer gives `target` fall.
fn solve_potency(t: &Turnover, c_nmol_l: f64, target: f64) -> Option<f64> {
    if fall(t, 1e6 * c_nmol_l) < target {
        return None;
    }
    let (mut lo, mut hi) = (1e-8_f64.ln(), 1e6_f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if fall(t, mid.exp() * c_nmol_l) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((0.5 * (lo + hi)).exp())
}

/// Endogenous MK-7 of a Dutch cohort (ng/mL): Knapen et al. 2015 (J Nutr Sci), baseline of 60
/// healthy adults before the MK-7 yogurt.
const CENDO_NG_ML: f64 = 0.28;
/// MK-4 dose of Jiang 2014 (µg/day: 15 mg three times a day).
const JIANG_MK4_UG_PER_DAY: f64 = 45_000.0;
/// Jiang 2014, MK-4 45 mg/day for 1 year: ucOC −82.3 %, total OC −38.7 %; the ucOC share of OC
/// falls to (1 − 0.823)/(1 − 0.387) = 0.289 of its baseline.
const JIANG_UCOC_SHARE_FALL: f64 = 1.0 - (1.0 - 0.823) / (1.0 - 0.387);

/// The preset of `marker` in `population`, or `None` where no data calibrate it, solved
/// through the compound presets' PK.
pub fn preset(marker: Marker, population: Population) -> Option<MarkerPreset> {
    let mk7 = compound::find("mk7")?;
    let mk4 = compound::find("mk4")?;
    preset_through(
        marker,
        population,
        cavg_per_ug_day(&mk7),
        cavg_per_ug_day(&mk4),
    )
}

/// The preset solved through other PK: `cavg_mk7` and `cavg_mk4` are Cavg,ss (ng/mL) per
/// µg/day of daily MK-7 and MK-4. The trials report doses, so the parameters that reproduce
/// them depend on the PK that turns doses into levels; an uncertainty run that draws the PK
/// solves the response again for each draw, keeping the published arms reproduced.
pub fn preset_through(
    marker: Marker,
    population: Population,
    cavg_mk7: f64,
    cavg_mk4: f64,
) -> Option<MarkerPreset> {
    let mk7 = compound::find("mk7")?;
    let mk4 = compound::find("mk4")?;
    let mm7 = mk7.molar_mass_g_mol;
    let s = nmol_l(cavg_mk7, mm7);
    let cendo = cited(CENDO_NG_ML, Evidence::Measured,
        "MK-7 0.28 ng/mL before supplementation in 60 healthy Dutch adults (Knapen et al. 2015, J Nutr Sci); used as the endogenous MK-7-equivalent level of every population (for haemodialysis an assumption)");
    let (baseline, kout, arms, arms_source) = match (marker, population) {
        (Marker::DpUcmgp, Population::Healthy) => (
            cited(376.0, Evidence::Measured, "376 ± 233 pmol/L in 633 adults aged 55–65 (LASA, sandwich ELISA)"),
            cited(0.07, Evidence::Derived, "−86 % within 4 weeks of 360 µg/day (Aoun et al. 2017) needs kout ≥ −ln(0.14)/28 d = 0.07 /day (t½ ≤ 10 d); the rise after starting phenprocoumon gives ≥ 0.035 /day (docs/research/response_model.md §5)"),
            [Arm { dose_ug_per_day: 180.0, fall: 0.31 }, Arm { dose_ug_per_day: 360.0, fall: 0.46 }],
            "solved so that the steady state reproduces dp-ucMGP −31 % at 180 and −46 % at 360 µg/day MK-7 for 12 weeks (Dalmeijer et al. 2012, 60 healthy adults) through the k2sim MK-7 preset",
        ),
        (Marker::Ucoc, Population::Healthy) => (
            cited(100.0, Evidence::Assumed, "the ucOC:cOC ratio is given as % of its own baseline: baselines differ by assay (ucOC 1.5–5.0 ng/mL in healthy adults, Theuwissen et al. 2014)"),
            cited(0.3, Evidence::Derived, "ucOC moves within one week of a dose step (Nakamura et al. 2014, MK-4; Schurgers et al. 2004, K1): t½ about 2–3 days (docs/research/response_model.md §5)"),
            [Arm { dose_ug_per_day: 180.0, fall: 0.60 }, Arm { dose_ug_per_day: 360.0, fall: 0.74 }],
            "solved so that the steady state reproduces the ucOC:cOC ratio −60 % at 180 and −74 % at 360 µg/day MK-7 for 12 weeks (Dalmeijer et al. 2012) through the k2sim MK-7 preset",
        ),
        (Marker::DpUcmgp, Population::Haemodialysis) => (
            cited(1939.0, Evidence::Measured, "median 1939 [1419; 2841] pmol/L in 137 haemodialysis patients without VKA (Delanaye et al. 2014, iSYS)"),
            cited(0.07, Evidence::Assumed, "as in healthy adults (assumed): dp-ucMGP is cleared by the kidney (Kremer et al. 2021), so in haemodialysis the true kout may be lower"),
            [Arm { dose_ug_per_day: 135.0, fall: 0.367 }, Arm { dose_ug_per_day: 360.0, fall: 0.611 }],
            "solved so that the steady state reproduces dp-ucMGP −36.7 % at 135 and −61.1 % at 360 µg/day MK-7 for 6 weeks (Westenfeld et al. 2012, 53 patients, as tabulated by Roumeliotis et al. 2020, secondary) through the k2sim MK-7 preset",
        ),
        (Marker::Ucoc, Population::Haemodialysis) => return None,
    };
    let base = Turnover {
        baseline: baseline.value,
        kout_per_h: kout.value / 24.0,
        imax: 0.5,
        ic50_nmol_l: 1.0,
        cendo_nmol_l: nmol_l(cendo.value, mm7),
    };
    let (imax, ic50, how) = match solve_two_arms(base, s, arms[0], arms[1]) {
        Some((imax, ic50)) => (imax, ic50, format!("{arms_source}: exact, no residual")),
        None => {
            let (ic50, res) = fit_capped(base, s, arms);
            (1.0, ic50, format!(
                "{arms_source}: the two arms would need Imax > 1, so Imax is fixed at 1 and IC50 fitted by least squares; residuals {:+.1} and {:+.1} percentage points",
                100.0 * res[0], 100.0 * res[1]
            ))
        }
    };
    // MK-4: the relative potency that gives Jiang's ucOC fall at 45 mg/day, from the MK-4
    // preset's Cavg,ss; for dp-ucMGP the same potency is assumed.
    let mk4_c = nmol_l(JIANG_MK4_UG_PER_DAY * cavg_mk4, mk4.molar_mass_g_mol);
    let ucoc_potency = || -> Option<f64> {
        let u = preset_turnover_ucoc_healthy(s, mm7)?;
        solve_potency(&u, mk4_c, JIANG_UCOC_SHARE_FALL)
    };
    let mk4_relative_potency = match (marker, population) {
        (Marker::Ucoc, Population::Healthy) => ucoc_potency().map(|w| cited(w, Evidence::Derived,
            "solved so that MK-4 45 mg/day (Cavg,ss of the k2sim MK-4 preset) lowers the ucOC share of osteocalcin by 71 % at steady state: ucOC −82.3 % with total OC −38.7 % after 1 year (Jiang et al. 2014, 213 women); the ucOC share stands in for the ucOC:cOC ratio (assumed)")),
        (Marker::DpUcmgp, _) => ucoc_potency().map(|w| cited(w, Evidence::Assumed,
            "no MK-4 dp-ucMGP data were found: the molar potency relative to MK-7 derived for ucOC (Jiang et al. 2014) is assumed to hold for dp-ucMGP")),
        _ => None,
    };
    Some(MarkerPreset {
        marker,
        population,
        baseline,
        kout_per_day: kout,
        cendo_ng_ml: cendo,
        imax: cited(imax, Evidence::Derived, how.clone()),
        ic50_mk7_ng_ml: cited(ic50 * mm7 / 1000.0, Evidence::Derived, how),
        mk4_relative_potency,
    })
}

/// The healthy ucOC turnover, for the MK-4 potency of both markers.
fn preset_turnover_ucoc_healthy(s: f64, mm7: f64) -> Option<Turnover> {
    let base = Turnover {
        baseline: 100.0,
        kout_per_h: 0.3 / 24.0,
        imax: 0.5,
        ic50_nmol_l: 1.0,
        cendo_nmol_l: nmol_l(CENDO_NG_ML, mm7),
    };
    let (imax, ic50) = solve_two_arms(
        base,
        s,
        Arm {
            dose_ug_per_day: 180.0,
            fall: 0.60,
        },
        Arm {
            dose_ug_per_day: 360.0,
            fall: 0.74,
        },
    )?;
    Some(Turnover {
        imax,
        ic50_nmol_l: ic50,
        ..base
    })
}

impl MarkerPreset {
    /// The turnover model in nmol/L of MK-7 equivalents.
    pub fn turnover(&self) -> Turnover {
        let mm7 = compound::find("mk7").map_or(649.02, |c| c.molar_mass_g_mol);
        Turnover {
            baseline: self.baseline.value,
            kout_per_h: self.kout_per_day.value / 24.0,
            imax: self.imax.value,
            ic50_nmol_l: nmol_l(self.ic50_mk7_ng_ml.value, mm7),
            cendo_nmol_l: nmol_l(self.cendo_ng_ml.value, mm7),
        }
    }

    /// MK-7-equivalent nmol/L per ng/mL of compound `id` (molar mass `mm`), or `None` when
    /// no data give its potency on this marker.
    pub fn equivalents_per_ng_ml(&self, id: &str, mm: f64) -> Option<f64> {
        match id {
            "mk7" => Some(1000.0 / mm),
            "mk4" => self
                .mk4_relative_potency
                .as_ref()
                .map(|w| w.value * 1000.0 / mm),
            _ => None,
        }
    }

    /// Every parameter with its name and unit, for summaries and captions.
    pub fn parameters(&self) -> Vec<(&'static str, &'static str, &Cited)> {
        let mut v = vec![
            ("baseline", self.marker.unit(), &self.baseline),
            ("kout_per_day", "1/day", &self.kout_per_day),
            ("cendo_ng_ml", "ng/mL MK-7", &self.cendo_ng_ml),
            ("imax", "", &self.imax),
            ("ic50_mk7_ng_ml", "ng/mL MK-7", &self.ic50_mk7_ng_ml),
        ];
        if let Some(w) = &self.mk4_relative_potency {
            v.push(("mk4_relative_potency", "molar, MK-7 = 1", w));
        }
        v
    }
}

/// A published group change of a marker after weeks of a daily dose, for the dose–response
/// figure: the compound, the daily dose, the change and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PublishedPoint {
    pub marker: Marker,
    pub compound: &'static str,
    pub dose_ug_per_day: f64,
    /// Change from baseline or against placebo (%).
    pub pct_change: f64,
    /// Study, duration and the preset's use of it.
    pub source: &'static str,
    /// Whether a preset parameter was solved from it.
    pub calibration: bool,
}

/// The published points of healthy adults (the healthy presets' population).
pub const PUBLISHED_HEALTHY: [PublishedPoint; 7] = [
    PublishedPoint {
        marker: Marker::DpUcmgp,
        compound: "mk7",
        dose_ug_per_day: 180.0,
        pct_change: -31.0,
        source: "Dalmeijer 2012, 12 weeks",
        calibration: true,
    },
    PublishedPoint {
        marker: Marker::DpUcmgp,
        compound: "mk7",
        dose_ug_per_day: 360.0,
        pct_change: -46.0,
        source: "Dalmeijer 2012, 12 weeks",
        calibration: true,
    },
    PublishedPoint {
        marker: Marker::DpUcmgp,
        compound: "mk7",
        dose_ug_per_day: 180.0,
        pct_change: -50.0,
        source: "Knapen 2015, 3 years, against placebo",
        calibration: false,
    },
    PublishedPoint {
        marker: Marker::Ucoc,
        compound: "mk7",
        dose_ug_per_day: 180.0,
        pct_change: -60.0,
        source: "Dalmeijer 2012, 12 weeks (ucOC:cOC)",
        calibration: true,
    },
    PublishedPoint {
        marker: Marker::Ucoc,
        compound: "mk7",
        dose_ug_per_day: 360.0,
        pct_change: -74.0,
        source: "Dalmeijer 2012, 12 weeks (ucOC:cOC)",
        calibration: true,
    },
    PublishedPoint {
        marker: Marker::Ucoc,
        compound: "mk7",
        dose_ug_per_day: 375.0,
        pct_change: -65.6,
        source: "Rønn 2016, 12 months (ucOC, against placebo)",
        calibration: false,
    },
    PublishedPoint {
        marker: Marker::Ucoc,
        compound: "mk4",
        dose_ug_per_day: 45_000.0,
        pct_change: -71.1,
        source: "Jiang 2014, 1 year (ucOC share of OC)",
        calibration: true,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_presets_reproduce_the_arms_they_were_solved_from() {
        let mk7 = compound::find("mk7").unwrap();
        let s = nmol_l(cavg_per_ug_day(&mk7), mk7.molar_mass_g_mol);
        // Healthy: exact. Haemodialysis: Imax capped at 1, least squares, within 2 points.
        for (m, p, arms, tol) in [
            (
                Marker::DpUcmgp,
                Population::Healthy,
                [(180.0, 0.31), (360.0, 0.46)],
                1e-9,
            ),
            (
                Marker::Ucoc,
                Population::Healthy,
                [(180.0, 0.60), (360.0, 0.74)],
                1e-9,
            ),
            (
                Marker::DpUcmgp,
                Population::Haemodialysis,
                [(135.0, 0.367), (360.0, 0.611)],
                0.02,
            ),
        ] {
            let pre = preset(m, p).unwrap();
            let t = pre.turnover();
            assert!(
                t.imax > 0.0 && t.imax <= 1.0,
                "{m:?} {p:?}: Imax {}",
                t.imax
            );
            for (d, f) in arms {
                let got = fall(&t, s * d);
                assert!((got - f).abs() < tol, "{m:?} {p:?} {d} µg: {got} vs {f}");
            }
            // Steady state at baseline without a supplement.
            assert!((t.steady_level(0.0) / t.baseline - 1.0).abs() < 1e-12);
        }
        assert!(preset(Marker::Ucoc, Population::Haemodialysis).is_none());
    }

    #[test]
    fn mk4_potency_reproduces_jiang_and_is_reported() {
        let pre = preset(Marker::Ucoc, Population::Healthy).unwrap();
        let mk4 = compound::find("mk4").unwrap();
        let w = pre
            .equivalents_per_ng_ml("mk4", mk4.molar_mass_g_mol)
            .unwrap();
        let c = JIANG_MK4_UG_PER_DAY * cavg_per_ug_day(&mk4);
        let got = fall(&pre.turnover(), w * c);
        assert!((got - JIANG_UCOC_SHARE_FALL).abs() < 1e-9, "{got}");
        // MK-4 at 45 mg/day reaches a far higher molar level than MK-7 at 180 µg/day yet acts
        // alike: its molar potency is well below MK-7's.
        let rel = pre.mk4_relative_potency.as_ref().unwrap().value;
        assert!(rel < 0.1, "{rel}");
        assert!(preset(Marker::DpUcmgp, Population::Healthy)
            .unwrap()
            .mk4_relative_potency
            .is_some_and(|c| c.evidence == Evidence::Assumed));
        // No K1 data: no potency.
        assert!(pre.equivalents_per_ng_ml("k1", 450.71).is_none());
    }
}
