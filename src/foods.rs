//! Foods as a dose source: vitamin K2 content per 100 g, the compound it is mostly made of, and
//! a stated serving size, so a regimen can say `food = "natto"` with `amount_g = 40` or
//! `servings = 1`.
//!
//! The contents are **secondary and approximate**: they are quoted by reviews and vendors, and
//! food tables disagree (fermentation, ripening, feed and season all change them). They come
//! from `docs/references.md` § "Foods as a dose source", which tags them S; the
//! figures match the widely reproduced food table attributed to Schurgers & Vermeer (2000,
//! Haemostasis 30:298), which we have not checked against the primary text. Where the reference
//! gives a range, the middle is used and the range is kept beside it. Serving sizes and, except
//! for natto (MK-7) and egg yolk (MK-4), the compound a food is mapped to are **assumptions**,
//! tagged as such.
//!
//! A food dose is modelled as the same amount of the compound taken as a supplement with a
//! meal: the compound preset's absorption and V/F apply unchanged. For natto this is
//! consistent by construction (the MK-7 V/F is derived from natto eaters' levels); for the
//! others the food matrix is not modelled. Scale `f` under `[regimen.params]` to explore it.

use crate::compound::{Cited, Evidence};

/// Where the food contents come from, as cited in tables and `figure.txt`.
pub const CONTENT_SOURCE: &str = "docs/references.md § Foods as a dose source (secondary, approximate; sources disagree); figures as in the food table attributed to Schurgers & Vermeer 2000, Haemostasis 30:298 (not checked against the primary)";

/// One food of the table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Food {
    /// Identifier used in scenario files (`food = "natto"`).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Compound preset the food's K2 is modelled as (`mk7`, `mk4`).
    pub compound_id: &'static str,
    /// How the compound was chosen (the reference names it, or an assumption).
    pub compound: Cited,
    /// Vitamin K2 content used (µg per 100 g): the reference's value, or the middle of its range.
    pub k2_ug_per_100g: Cited,
    /// The range quoted by the reference (µg per 100 g); equal ends for a single value.
    pub range_ug_per_100g: (f64, f64),
    /// One serving (g), for `servings = n`.
    pub serving_g: Cited,
    /// What one serving is, e.g. "one small pack".
    pub serving_name: &'static str,
}

impl Food {
    /// K2 in `grams` of the food (µg).
    pub fn k2_ug(&self, grams: f64) -> f64 {
        grams * self.k2_ug_per_100g.value / 100.0
    }
}

fn cited(value: f64, evidence: Evidence, source: &str) -> Cited {
    Cited {
        value,
        evidence,
        source: source.to_string(),
        range: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn food(
    id: &'static str,
    name: &'static str,
    compound_id: &'static str,
    compound_evidence: (Evidence, &str),
    range: (f64, f64),
    content_note: &str,
    serving_g: f64,
    serving_name: &'static str,
) -> Food {
    let middle = 0.5 * (range.0 + range.1);
    let content = if range.0 == range.1 {
        format!("~{} µg/100 g; {CONTENT_SOURCE}{content_note}", range.0)
    } else {
        format!(
            "{}–{} µg/100 g, middle used; {CONTENT_SOURCE}{content_note}",
            range.0, range.1
        )
    };
    Food {
        id,
        name,
        compound_id,
        compound: cited(0.0, compound_evidence.0, compound_evidence.1),
        k2_ug_per_100g: cited(middle, Evidence::Secondary, &content),
        range_ug_per_100g: range,
        serving_g: cited(
            serving_g,
            Evidence::Assumed,
            &format!("{serving_name} (assumed serving size)"),
        ),
        serving_name,
    }
}

/// The food table, in display order.
pub fn table() -> Vec<Food> {
    const NAMED: &str = "named in the reference";
    const LONG_CHAIN: &str = "cheese K2 is mostly long-chain MK-8/MK-9, for which k2sim has no preset; the long-lived MK-7 preset stands in";
    const ANIMAL: &str = "K2 of animal tissue and fat is mostly MK-4";
    vec![
        food(
            "natto",
            "natto (fermented soybeans)",
            "mk7",
            (Evidence::Secondary, NAMED),
            (1000.0, 1000.0),
            "; the reference also quotes ~150 µg per tablespoon (~15 g)",
            40.0,
            "one small pack, 40 g (as in the MK-7 V/F derivation)",
        ),
        food(
            "hard_cheese",
            "hard cheese (Gouda, Jarlsberg)",
            "mk7",
            (Evidence::Assumed, LONG_CHAIN),
            (50.0, 90.0),
            "",
            30.0,
            "one slice, 30 g",
        ),
        food(
            "soft_cheese",
            "soft cheese (Brie)",
            "mk7",
            (Evidence::Assumed, LONG_CHAIN),
            (55.0, 55.0),
            "",
            30.0,
            "one portion, 30 g",
        ),
        food(
            "egg_yolk",
            "egg yolk",
            "mk4",
            (Evidence::Secondary, NAMED),
            (15.0, 32.0),
            "",
            17.0,
            "the yolk of one large egg, 17 g",
        ),
        food(
            "eel",
            "eel",
            "mk4",
            (Evidence::Assumed, ANIMAL),
            (63.0, 63.0),
            " (from the reference's seed text)",
            100.0,
            "one portion, 100 g",
        ),
        food(
            "butter",
            "butter",
            "mk4",
            (Evidence::Assumed, ANIMAL),
            (15.0, 15.0),
            "",
            10.0,
            "one pat, 10 g",
        ),
        food(
            "chicken",
            "chicken",
            "mk4",
            (Evidence::Assumed, ANIMAL),
            (8.0, 9.0),
            "",
            100.0,
            "one portion, 100 g",
        ),
    ]
}

/// Identifiers of all foods.
pub fn ids() -> Vec<&'static str> {
    table().iter().map(|f| f.id).collect()
}

/// The food with identifier `id` (case-insensitive; spaces and `-` read as `_`).
pub fn find(id: &str) -> Option<Food> {
    let key: String = id
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    table().into_iter().find(|f| f.id == key)
}

/// The table as text for `k2sim foods`: one block per food with its values, tags and sources.
pub fn table_text() -> String {
    let mut s = String::from(
        "K2 content of foods: secondary and approximate (food tables disagree; cite as \"approximately\").\n\
         A food dose is modelled as the same amount of its compound taken as a supplement with a meal.\n\n",
    );
    for f in table() {
        let (lo, hi) = f.range_ug_per_100g;
        let range = if lo == hi {
            format!("~{lo} µg/100 g")
        } else {
            format!("{lo}–{hi} µg/100 g, {} used", f.k2_ug_per_100g.value)
        };
        s.push_str(&format!(
            "{} — {}\n  compound        {:<28} [{}] {}\n  K2 content      {:<28} [{}]\n  serving         {:<28} [{}] {}\n\n",
            f.id,
            f.name,
            f.compound_id,
            f.compound.evidence.tag(),
            f.compound.source,
            range,
            f.k2_ug_per_100g.evidence.tag(),
            format!("{} g = {:.0} µg", f.serving_g.value, f.k2_ug(f.serving_g.value)),
            f.serving_g.evidence.tag(),
            f.serving_name,
        ));
    }
    s.push_str(&format!("Source of the contents: {CONTENT_SOURCE}.\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_reference_figures() {
        // docs/references.md: natto ~1000, hard cheese 50–90, egg yolk 15–32 µg/100 g.
        assert_eq!(find("natto").unwrap().k2_ug_per_100g.value, 1000.0);
        assert_eq!(find("hard cheese").unwrap().k2_ug_per_100g.value, 70.0);
        let egg = find("egg_yolk").unwrap();
        assert_eq!(egg.range_ug_per_100g, (15.0, 32.0));
        assert_eq!(egg.compound_id, "mk4");
        assert_eq!(find("natto").unwrap().compound_id, "mk7");
        // 40 g natto = 400 µg MK-7, the intake the MK-7 V/F derivation assumes.
        assert_eq!(find("natto").unwrap().k2_ug(40.0), 400.0);
    }

    #[test]
    fn every_food_is_tagged_and_maps_to_a_preset() {
        for f in table() {
            assert!(crate::compound::find(f.compound_id).is_some(), "{}", f.id);
            assert_eq!(f.k2_ug_per_100g.evidence, Evidence::Secondary);
            assert_eq!(f.serving_g.evidence, Evidence::Assumed);
            assert!(f.serving_g.value > 0.0);
        }
        assert_eq!(ids().len(), table().len());
    }
}
