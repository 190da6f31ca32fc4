//! Constants pinned to their sources: every molar mass, unit factor and food content is read
//! from `docs/references.md` (the page that cites them) and compared with the code, so a typo
//! in either place fails here. Molar masses are also recomputed from their formulas.

use k2sim::{compound, foods, units};

fn references() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/references.md");
    std::fs::read_to_string(p).unwrap()
}

/// The rows of the Markdown table under the heading that starts with `heading`: cells trimmed,
/// header and separator rows left out.
fn table_under(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("docs/references.md has no heading {heading:?}"));
    doc[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// Mass of a formula such as `C46H64O2` from the IUPAC 2021 standard atomic weights
/// (conventional values: C 12.011, H 1.008, O 15.999).
fn formula_mass(formula: &str) -> f64 {
    let mut mass = 0.0;
    let mut chars = formula.chars().peekable();
    while let Some(el) = chars.next() {
        let mut n = String::new();
        while let Some(d) = chars.peek().filter(|c| c.is_ascii_digit()) {
            n.push(*d);
            chars.next();
        }
        let count: f64 = if n.is_empty() {
            1.0
        } else {
            n.parse().unwrap()
        };
        mass += count
            * match el {
                'C' => 12.011,
                'H' => 1.008,
                'O' => 15.999,
                other => panic!("no atomic weight for {other}"),
            };
    }
    mass
}

#[test]
fn molar_masses_match_the_reference_table_and_their_formulas() {
    let doc = references();
    let rows = table_under(&doc, "### Molar masses");
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in rows {
        let id = match row[0].split_whitespace().next().unwrap() {
            "MK-4" => "mk4",
            "MK-7" => "mk7",
            "K1" => "k1",
            other => panic!("unknown compound {other} in docs/references.md"),
        };
        let g_mol: f64 = row[2].parse().unwrap();
        let preset = compound::find(id).unwrap();
        assert_eq!(
            preset.molar_mass_g_mol, g_mol,
            "{id}: preset vs references.md"
        );
        // The table's value is the formula's mass rounded to 0.01 g/mol.
        let m = formula_mass(&row[1]);
        assert!(
            (m - g_mol).abs() <= 0.005,
            "{id}: {} is {m:.3} g/mol",
            row[1]
        );
        // "1 ng/mL = x nmol/L" to the table's 4 significant digits.
        let per: f64 = row[3].trim_end_matches(" nmol/L").parse().unwrap();
        let got = units::ng_ml_to_nmol_l(1.0, preset.molar_mass_g_mol);
        assert!(
            (got - per).abs() <= 5e-4,
            "{id}: 1 ng/mL = {got} nmol/L, table {per}"
        );
    }
}

fn factor_value(text: &str) -> f64 {
    let number = text.split_whitespace().next().unwrap();
    match number.split_once('/') {
        Some((a, b)) => a.parse::<f64>().unwrap() / b.parse::<f64>().unwrap(),
        None => number.parse().unwrap(),
    }
}

#[test]
fn every_unit_factor_matches_the_reference_table() {
    let doc = references();
    let rows = table_under(&doc, "### Unit factors");
    let mut seen = Vec::new();
    for row in rows {
        let value = factor_value(&row[1]);
        let is_mass = row[1].contains("µg");
        for unit in row[0].split(',').map(|u| u.trim().trim_matches('`')) {
            let got = if is_mass {
                units::mass_unit_ug(unit)
            } else {
                units::time_unit_h(unit)
            };
            assert_eq!(got, Some(value), "unit {unit}: code vs references.md");
            seen.push(unit.to_string());
        }
    }
    // Every unit the parser accepts is in the table, and every unit of the table is offered in
    // "did you mean" suggestions.
    let names: Vec<&str> = units::mass_unit_names()
        .chain(units::time_unit_names())
        .collect();
    for u in &names {
        assert!(
            seen.iter().any(|s| s == u),
            "unit {u} is not in references.md"
        );
    }
    for u in &seen {
        assert!(names.contains(&u.as_str()), "unit {u} is not suggested");
    }
    assert!(units::mass_unit_names().all(|u| units::mass_unit_ug(u).is_some()));
    assert!(units::time_unit_names().all(|u| units::time_unit_h(u).is_some()));
    // And the parser applies them: "1.5 d" is 36 h, "250 ng" 0.25 µg.
    assert_eq!(units::parse_duration_h("1.5 d").unwrap(), 36.0);
    assert_eq!(units::parse_duration_h("2 y").unwrap(), 17_532.0);
    assert_eq!(units::parse_mass_ug("250 ng").unwrap(), 0.25);
}

#[test]
fn food_contents_match_the_reference_paragraph() {
    let doc = references();
    let start = doc.find("### Foods as a dose source").unwrap();
    let para: String = doc[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // (food id, the words of docs/references.md that give its content, low, high µg/100 g).
    let quoted = [
        ("natto", "natto ~1000", 1000.0, 1000.0),
        (
            "hard_cheese",
            "hard cheese (Gouda, Jarlsberg) 50–90",
            50.0,
            90.0,
        ),
        ("soft_cheese", "soft cheese (Brie) ~55", 55.0, 55.0),
        ("egg_yolk", "egg yolk 15–32", 15.0, 32.0),
        ("butter", "butter ~15", 15.0, 15.0),
        ("chicken", "chicken ~8–9", 8.0, 9.0),
        ("eel", "eel ~63", 63.0, 63.0),
    ];
    assert_eq!(
        foods::ids().len(),
        quoted.len(),
        "a food without a quoted content"
    );
    for (id, words, lo, hi) in quoted {
        assert!(
            para.contains(words),
            "references.md no longer says {words:?}"
        );
        let food = foods::find(id).unwrap();
        assert_eq!(food.range_ug_per_100g, (lo, hi), "{id}");
        // The middle of the range is used: e.g. egg yolk (15 + 32)/2 = 23.5 µg/100 g.
        assert_eq!(food.k2_ug_per_100g.value, 0.5 * (lo + hi), "{id}");
        let want = 40.0 / 100.0 * 0.5 * (lo + hi);
        assert!(
            (food.k2_ug(40.0) - want).abs() <= 1e-12 * want,
            "{id}: 40 g"
        );
    }
    // The compound each food is modelled as, where the reference names it.
    assert_eq!(foods::find("natto").unwrap().compound_id, "mk7");
    assert_eq!(foods::find("egg_yolk").unwrap().compound_id, "mk4");
}

#[test]
fn every_metric_names_its_unit_in_its_key() {
    use k2sim::metric::Metric;
    // STYLE 5: units are visible in names. The unit on figures follows from the key's suffix.
    for m in Metric::ALL {
        let key = m.key();
        assert_eq!(Metric::from_key(key), Some(m), "{key} round trip");
        let (name, unit) = m.label();
        let want = if key.ends_with("_ng_h_ml") {
            "ng·h/mL"
        } else if key.ends_with("_ng_ml") {
            "ng/mL"
        } else if key.ends_with("_h") {
            "h"
        } else if key.ends_with("_pct") {
            "%"
        } else {
            ""
        };
        assert_eq!(unit, want, "{key}");
        assert!(
            !name.is_empty() && !name.contains("xyzzy"),
            "{key}: {name:?}"
        );
    }
    assert_eq!(Metric::from_key("cavg_ss"), None);
    assert_eq!(Metric::CavgSsNgMl.label().0, "Cavg,ss");
    assert_eq!(Metric::AccumulationRatio.label().0, "accumulation ratio");
}
