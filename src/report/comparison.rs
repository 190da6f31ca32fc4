//! The comparison table as bytes: Markdown (printed and `comparison.md`) and CSV
//! (`comparison.csv`). The engine computes the [`Comparison`]; this file only presents it.

use std::fmt::Write as _;

use crate::engine::compare::Comparison;
use crate::format::opt4;

impl Comparison {
    /// The table in Markdown: a row per metric, a column per regimen, and after each regimen
    /// other than the reference its ratio to the reference.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let refl = &self.labels[self.reference];
        let _ = write!(s, "| metric | unit |");
        for (i, l) in self.labels.iter().enumerate() {
            if i == self.reference {
                let _ = write!(s, " {l} (reference) |");
            } else {
                let _ = write!(s, " {l} | ÷ reference |");
            }
        }
        s.push('\n');
        let cols = 2 + 2 * self.labels.len() - 1;
        let _ = writeln!(
            s,
            "|{}",
            (0..cols)
                .map(|i| if i < 2 { "---|" } else { "---:|" })
                .collect::<String>()
        );
        for r in &self.rows {
            let _ = write!(s, "| {} | {} |", r.name, r.unit);
            for i in 0..self.labels.len() {
                let _ = write!(s, " {} |", opt4(r.values[i]));
                if i != self.reference {
                    let _ = write!(s, " {} |", opt4(r.ratios[i]));
                }
            }
            s.push('\n');
        }
        let _ = write!(
            s,
            "\nReference: {refl}. Concentrations in {}",
            self.units.label()
        );
        if let Some(t) = self.threshold_ng_ml {
            let _ = write!(s, "; threshold {} ng/mL", crate::format::fmt_value(t));
        }
        s.push_str(". Steady-state values are from the model's periodic steady state; – where a schedule has none (explicit doses, skipped days), and for ratios of per-τ values when τ differs from the reference's.\n");
        s
    }

    /// The table as tidy CSV: `metric,unit,regimen,value,ratio_to_reference,reference`.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "metric",
            "unit",
            "regimen",
            "value",
            "ratio_to_reference",
            "reference",
        ])?;
        let opt = |v: Option<f64>| v.map_or(String::new(), crate::format::fmt_sig);
        for r in &self.rows {
            for (i, l) in self.labels.iter().enumerate() {
                w.write_record([
                    r.key.as_str(),
                    r.unit.as_str(),
                    l,
                    &opt(r.values[i]),
                    &opt(r.ratios[i]),
                    self.labels[self.reference].as_str(),
                ])?;
            }
        }
        w.into_inner()
            .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
    }
}
