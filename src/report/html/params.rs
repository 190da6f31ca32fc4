//! The parameter tables of report.html: every parameter of a regimen with its value, evidence
//! tag and source.

use std::fmt::Write as _;

use super::escape;
use crate::engine::run::{RegimenResult, RunResult};
use crate::format::{fmt_amount, fmt_value};
use crate::report::tables::evidence_tag;
use crate::scenario::Provenance;

/// One row of a regimen's parameter table.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamRow {
    /// Key as in scenario files and `summary.json` (`half_life_h`), or a short name.
    pub key: &'static str,
    /// What it is, for readers.
    pub label: &'static str,
    /// Value with its unit.
    pub value: String,
    /// Evidence tag: measured, secondary, derived, assumed, or "set in scenario".
    pub tag: &'static str,
    /// Citation or derivation.
    pub source: String,
}

fn tag_of(p: &Provenance) -> &'static str {
    if p.origin == "scenario" {
        "set in scenario"
    } else {
        evidence_tag(p.evidence)
    }
}

/// Every parameter of `r` with its value, tag and source: the rows the captions list (see
/// [`figure::regimens_text`]), plus the food a dose comes from.
pub fn parameter_rows(r: &RegimenResult) -> Vec<ParamRow> {
    let (p, src) = (&r.params, &r.regimen.sources);
    let row = |key, label, value: String, prov: &Provenance| ParamRow {
        key,
        label,
        value,
        tag: tag_of(prov),
        source: prov.source.clone(),
    };
    let mut rows = Vec::new();
    if let Some(f) = &r.regimen.food {
        rows.push(ParamRow {
            key: "food",
            label: "K2 per dose from food",
            value: format!(
                "{} g {} = {}",
                fmt_value(f.amount_g),
                f.food.name,
                fmt_amount(f.k2_ug)
            ),
            tag: evidence_tag(Some(f.food.k2_ug_per_100g.evidence)),
            source: f.food.k2_ug_per_100g.source.clone(),
        });
        rows.push(ParamRow {
            key: "food compound",
            label: "compound in the food",
            value: f.food.compound_id.to_string(),
            tag: evidence_tag(Some(f.food.compound.evidence)),
            source: f.food.compound.source.clone(),
        });
    }
    if let Some(ka) = p.ka_per_h {
        rows.push(row(
            "ka_per_h",
            "absorption rate constant",
            format!("{ka:.4} /h"),
            &src.ka_per_h,
        ));
    }
    rows.push(row(
        "half_life_h",
        "elimination half-life",
        format!("{} h", fmt_value(p.half_life_h)),
        &src.half_life_h,
    ));
    rows.push(row(
        "v_l",
        "apparent volume V/F",
        format!("{:.1} L", p.v_l),
        &src.v_l,
    ));
    rows.push(row("f", "bioavailability F", fmt_value(p.f), &src.f));
    rows.push(row(
        "tlag_h",
        "absorption lag",
        format!("{} h", fmt_value(p.tlag_h)),
        &src.tlag_h,
    ));
    rows.push(row(
        "baseline_ng_ml",
        "baseline level",
        format!("{} ng/mL", fmt_value(p.baseline_ng_ml)),
        &src.baseline_ng_ml,
    ));
    for (key, label, value, prov) in [
        (
            "q_l_per_h",
            "inter-compartmental clearance Q/F",
            p.q_l_per_h.map(|x| format!("{} L/h", fmt_value(x))),
            &src.q_l_per_h,
        ),
        (
            "vp_l",
            "peripheral volume Vp/F",
            p.vp_l.map(|x| format!("{} L", fmt_value(x))),
            &src.vp_l,
        ),
        (
            "vmax_ug_per_h",
            "largest absorption rate Vmax",
            p.vmax_ug_per_h.map(|x| format!("{} µg/h", fmt_value(x))),
            &src.vmax_ug_per_h,
        ),
        (
            "km_ug",
            "gut amount at half Vmax, Km",
            p.km_ug.map(|x| format!("{} µg", fmt_value(x))),
            &src.km_ug,
        ),
    ] {
        if let (Some(v), Some(prov)) = (value, prov) {
            rows.push(row(key, label, v, prov));
        }
    }
    if let (Some(a), Some(b)) = (p.alpha_half_life_h, p.terminal_half_life_h) {
        rows.push(ParamRow {
            key: "two compartments",
            label: "t½ alpha and terminal t½",
            value: format!("{} h, {} h", fmt_value(a), fmt_value(b)),
            tag: "derived",
            source: "derived from ke, V, Q and Vp".into(),
        });
    }
    rows
}

/// Per regimen: the schedule, every parameter with value, evidence tag and source, the
/// preset's known limits.
pub(super) fn parameters(run: &RunResult, note: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(n) = note {
        let _ = writeln!(s, "<p>{}</p>", escape(n));
    }
    s.push_str("<p class=\"note\">Evidence tags: <span class=\"tag tag-measured\">measured</span> read in a primary source; <span class=\"tag tag-secondary\">secondary</span> quoted by reviews; <span class=\"tag tag-derived\">derived</span> computed by k2sim from measured numbers; <span class=\"tag tag-assumed\">assumed</span> a modelling assumption; <span class=\"tag tag-set\">set in scenario</span> given in the scenario file.</p>\n");
    for r in &run.regimens {
        let reg = &r.regimen;
        let _ = write!(
            s,
            "<div class=\"param-block\">\n<h3>{}</h3>\n<p>{}; {}; {} doses, {} in all.</p>\n",
            escape(&reg.label),
            escape(reg.compound.name),
            escape(&reg.schedule.describe()),
            reg.schedule.dose_count(),
            escape(&fmt_amount(reg.schedule.total_ug()))
        );
        s.push_str("<div class=\"table\"><table class=\"params\">\n<thead><tr><th scope=\"col\">parameter</th><th scope=\"col\" class=\"num\">value</th><th scope=\"col\">evidence</th><th scope=\"col\">source</th></tr></thead>\n<tbody>\n");
        for row in parameter_rows(r) {
            let class = match row.tag {
                "measured" | "secondary" | "derived" | "assumed" => row.tag,
                _ => "set",
            };
            let _ = writeln!(
                s,
                "<tr><td>{}<br><code>{}</code></td><td class=\"num\">{}</td><td><span class=\"tag tag-{class}\">{}</span></td><td class=\"source\">{}</td></tr>",
                escape(row.label),
                escape(row.key),
                escape(&row.value),
                escape(row.tag),
                escape(&row.source)
            );
        }
        s.push_str("</tbody></table></div>\n");
        let _ = writeln!(
            s,
            "<p class=\"limits\"><strong>Known limits of the {} preset:</strong> {}</p>\n</div>",
            escape(reg.compound.id),
            escape(reg.compound.notes)
        );
    }
    s.push_str("<p class=\"note\">Molar masses for nmol/L: MK-4 444.66, MK-7 649.02, K1 450.71 g/mol.</p>\n");
    s
}
