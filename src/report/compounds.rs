//! `k2sim compounds`: every preset with its value, unit, evidence tag and source.

use crate::compound;
use crate::format::{fmt_decimals, fmt_value, short};

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
        for (name, p) in c.parameters() {
            let unit = unit_of(name);
            let v = format!("{} {unit}", fmt_decimals(p.value, 4));
            s.push_str(&format!(
                "  {name:<15} {:<14} [{}] {}\n",
                v.trim(),
                p.evidence.tag(),
                p.source
            ));
            if let Some(r) = &p.range {
                let range = format!("{}–{} {unit}", short(r.lo), short(r.hi));
                s.push_str(&format!(
                    "  {:<15} range {} ({}): {}\n",
                    "",
                    range.trim(),
                    if r.sampled {
                        "sampled by --uncertainty"
                    } else {
                        "not sampled"
                    },
                    r.basis
                ));
            }
        }
        s.push_str(&format!("  note: {}\n\n", c.notes));
    }
    s
}

/// Unit of a preset parameter, by its scenario key.
fn unit_of(key: &str) -> &'static str {
    match key {
        "ka_per_h" => "1/h",
        "half_life_h" | "tlag_h" => "h",
        "v_l" => "L",
        "baseline_ng_ml" => "ng/mL",
        _ => "",
    }
}

/// `k2sim compounds --json`: the presets as data, every parameter with its value, unit,
/// evidence tag, source and range (the same content as [`compounds_text`]).
pub fn compounds_json() -> Result<String, serde_json::Error> {
    let presets: Vec<serde_json::Value> = compound::presets()
        .iter()
        .map(|c| {
            let params: serde_json::Map<String, serde_json::Value> = c
                .parameters()
                .iter()
                .map(|(name, p)| {
                    let mut v = serde_json::to_value(p).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("unit".into(), unit_of(name).into());
                    }
                    ((*name).to_string(), v)
                })
                .collect();
            serde_json::json!({
                "id": c.id,
                "name": c.name,
                "molar_mass_g_mol": c.molar_mass_g_mol,
                "parameters": params,
                "notes": c.notes,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::json!({
        "k2sim": env!("CARGO_PKG_VERSION"),
        "compounds": presets,
    }))?;
    s.push('\n');
    Ok(s)
}
