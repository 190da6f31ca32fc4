//! The validation status of the presets on report.html: the outcomes of a validation suite
//! counted per compound and kind, and their table.

use std::fmt::Write as _;

use super::escape;
use crate::engine::run::RunResult;
use crate::scenario::case::Role;
use crate::study::literature::CaseResult;

/// Passed and total checks of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub passed: usize,
    pub total: usize,
}

/// The validation checks of one compound, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundChecks {
    /// Compound id (`mk7`).
    pub id: String,
    /// Compound name (`MK-7 (menaquinone-7)`).
    pub name: String,
    /// Checks against the data a preset value was derived from (pass by construction).
    pub calibration: Tally,
    /// Checks against data the presets were not derived from.
    pub independent: Tally,
}

/// The outcome of a validation suite, by compound: what report.html says about the presets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetStatus {
    /// One entry per compound, in the order the cases first name them.
    pub compounds: Vec<CompoundChecks>,
    /// Number of cases evaluated.
    pub cases: usize,
    /// The solver they were evaluated with (`exact`).
    pub solver: &'static str,
}

impl PresetStatus {
    /// Counts the outcomes of `results` per compound of the regimen each check is about.
    pub fn of(results: &[CaseResult]) -> Self {
        let mut compounds: Vec<CompoundChecks> = Vec::new();
        for r in results {
            for o in &r.outcomes {
                let Some(reg) = r
                    .run
                    .regimens
                    .iter()
                    .find(|g| g.regimen.label == o.check.regimen)
                else {
                    continue;
                };
                let c = reg.regimen.compound.id;
                let i = match compounds.iter().position(|x| x.id == c) {
                    Some(i) => i,
                    None => {
                        compounds.push(CompoundChecks {
                            id: c.to_string(),
                            name: reg.regimen.compound.name.to_string(),
                            calibration: Tally::default(),
                            independent: Tally::default(),
                        });
                        compounds.len() - 1
                    }
                };
                let t = match o.check.role {
                    Role::Calibration => &mut compounds[i].calibration,
                    Role::Independent => &mut compounds[i].independent,
                };
                t.total += 1;
                t.passed += usize::from(o.pass);
            }
        }
        Self {
            compounds,
            cases: results.len(),
            solver: results.first().map_or("exact", |r| r.run.solver.name()),
        }
    }
}

/// The validation status of the presets: every compound of `status`, or those `run` uses.
pub(super) fn presets(status: &PresetStatus, run: Option<&RunResult>) -> String {
    let used: Vec<&str> = run.map_or_else(
        || status.compounds.iter().map(|c| c.id.as_str()).collect(),
        |r| {
            let mut ids: Vec<&str> = Vec::new();
            for g in &r.regimens {
                if !ids.contains(&g.regimen.compound.id) {
                    ids.push(g.regimen.compound.id);
                }
            }
            ids
        },
    );
    let (passed, total) = status.compounds.iter().fold((0, 0), |(p, t), c| {
        (
            p + c.calibration.passed + c.independent.passed,
            t + c.calibration.total + c.independent.total,
        )
    });
    let mut s = format!(
        "<p>k2sim checks its compound presets against published human studies: {} validation cases, evaluated for this report with the {} solver ({} of their {} checks pass, all compounds together). <em>Calibration</em> checks compare with the data a preset value was derived from, so they pass by construction; <em>independent</em> checks compare with studies the presets were not derived from, and are the real test.</p>\n",
        status.cases,
        status.solver,
        passed,
        total
    );
    s.push_str("<div class=\"table\"><table>\n<thead><tr><th scope=\"col\">compound</th><th scope=\"col\" class=\"num\">calibration checks</th><th scope=\"col\" class=\"num\">independent checks</th></tr></thead>\n<tbody>\n");
    let cell = |t: Tally| {
        if t.total == 0 {
            "none".to_string()
        } else {
            let class = if t.passed == t.total { "pass" } else { "fail" };
            format!(
                "<span class=\"{class}\">{} of {} pass</span>",
                t.passed, t.total
            )
        }
    };
    for id in used {
        match status.compounds.iter().find(|c| c.id == id) {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    escape(&c.name),
                    cell(c.calibration),
                    cell(c.independent)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td class=\"num\">none</td><td class=\"num\">none</td></tr>",
                    escape(id)
                );
            }
        }
    }
    s.push_str("</tbody></table></div>\n<p class=\"note\">Marker checks (dp-ucMGP, ucOC) are counted with the compound given. The checks test the presets: a parameter set in the scenario file is not covered by them. Every check with its source and tolerance: <code>k2sim validate</code> (validation.md) and docs/validation.md; failures show where a one-compartment model is known to be wrong.</p>\n");
    s
}
