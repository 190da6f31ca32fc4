//! `k2sim compounds`: every preset with its value, unit, evidence tag and source.

use crate::compound;
use crate::format::{fmt_decimals, fmt_value};

/// The compound presets as text: per compound, each parameter with value, unit, evidence tag
/// and source, and the notes.
pub fn compounds_text() -> String {
    let mut s = String::new();
    for c in compound::presets() {
        s.push_str(&format!(
            "{} — {} ({} g/mol)\n",
            c.id,
            c.name,
            fmt_value(c.molar_mass_g_mol)
        ));
        for (name, unit, p) in [
            ("ka_per_h", "1/h", &c.ka_per_h),
            ("half_life_h", "h", &c.half_life_h),
            ("v_l", "L", &c.v_l),
            ("f", "", &c.f),
            ("tlag_h", "h", &c.tlag_h),
            ("baseline_ng_ml", "ng/mL", &c.baseline_ng_ml),
        ] {
            let v = format!("{} {unit}", fmt_decimals(p.value, 4));
            s.push_str(&format!(
                "  {name:<15} {:<14} [{}] {}\n",
                v.trim(),
                p.evidence.tag(),
                p.source
            ));
        }
        s.push_str(&format!("  note: {}\n\n", c.notes));
    }
    s
}
