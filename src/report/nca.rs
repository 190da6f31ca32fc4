//! `k2sim nca` outputs as bytes: `nca.csv` (one row per subject, PKNCA's column names) and
//! `nca.md` (the table with units, why each missing value is missing, and the rules used), and
//! the table printed after the command.

use std::fmt::Write as _;

use crate::error::Error;
use crate::format::{opt_sig, short};
use crate::nca::{BlqAction, Missing, Nca, NcaOptions, Subject, Value};
use crate::plot::{render_files, RenderOptions};
use crate::report::nca_figure::{figure_stems, nca_caption, nca_figure};
use crate::report::FileSet;

/// The columns of `nca.csv` after `id`: PKNCA's names, in a fixed order (the one issue 11
/// lists), each with its label and unit for `nca.md`.
const COLUMNS: [(&str, &str, &str); 14] = [
    ("cmax", "Cmax", "ng/mL"),
    ("tmax", "Tmax", "h"),
    ("tlast", "Tlast", "h"),
    ("clast.obs", "Clast", "ng/mL"),
    ("auclast", "AUClast", "ng·h/mL"),
    ("aucinf.obs", "AUCinf,obs", "ng·h/mL"),
    ("aumclast", "AUMClast", "ng·h²/mL"),
    ("lambda.z", "λz", "1/h"),
    ("half.life", "t½", "h"),
    ("r.squared", "R²", ""),
    ("adj.r.squared", "adj. R²", ""),
    ("lambda.z.n.points", "λz points", ""),
    ("lambda.z.time.first", "λz from", "h"),
    ("span.ratio", "span ratio", ""),
];

/// The values of one subject in the order of [`COLUMNS`].
fn values(n: &Nca) -> [Value; 14] {
    let lz = |f: fn(&crate::nca::LambdaZ) -> f64| -> Value {
        n.lambda_z.as_ref().map(f).map_err(|e| e.clone())
    };
    [
        n.cmax_ng_ml.clone(),
        n.tmax_h.clone(),
        n.tlast_h.clone(),
        n.clast_obs_ng_ml.clone(),
        n.auclast_ng_h_ml.clone(),
        n.aucinf_obs_ng_h_ml.clone(),
        n.aumclast_ng_h2_ml.clone(),
        lz(|l| l.lambda_z_per_h),
        lz(|l| l.half_life_h),
        lz(|l| l.r_squared),
        lz(|l| l.adj_r_squared),
        lz(|l| l.n_points as f64),
        lz(|l| l.time_first_h),
        lz(|l| l.span_ratio),
    ]
}

/// A CSV cell: 10 significant digits (a count as a whole number), empty when missing.
fn cell(name: &str, v: &Value) -> String {
    match v {
        Ok(x) if name == "lambda.z.n.points" => format!("{x}"),
        Ok(x) => opt_sig(Some(*x)),
        Err(_) => String::new(),
    }
}

/// `nca.csv`: `id` and PKNCA's columns, one row per subject in the order of the file; a missing
/// value is an empty cell (its reason is in `nca.md`).
pub fn nca_csv(subjects: &[Subject], results: &[Nca]) -> Result<Vec<u8>, Error> {
    let csv_err = |e: csv::Error| Error::serialize("nca.csv", e);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(std::iter::once("id").chain(COLUMNS.iter().map(|c| c.0)))
        .map_err(csv_err)?;
    for (s, n) in subjects.iter().zip(results) {
        let vals = values(n);
        let mut rec = vec![s.id.clone()];
        rec.extend(COLUMNS.iter().zip(&vals).map(|(c, v)| cell(c.0, v)));
        w.write_record(&rec).map_err(csv_err)?;
    }
    w.into_inner()
        .map_err(|e| Error::serialize("nca.csv", e.to_string()))
}

/// A table cell for people: 4 significant digits, "–" when missing.
fn show(v: &Value) -> String {
    v.as_ref().map_or("–".into(), |x| short(*x))
}

/// Markdown table rows (header, rule, rows) of `cols` for every subject.
fn md_table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        header.iter().map(|_| "---|").collect::<String>()
    );
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
}

fn blq_word(a: BlqAction) -> &'static str {
    match a {
        BlqAction::Keep => "kept",
        BlqAction::Drop => "dropped",
    }
}

/// The rules `k2sim nca` applies, as a Markdown list (also in `docs/nca.md`).
pub fn rules_md(o: &NcaOptions) -> String {
    let auc = match o.auc_method {
        crate::nca::AucMethod::LinUpLogDown => {
            "linear trapezoid where the concentration rises or stays, log trapezoid where it falls to a positive value (PKNCA `auc.method = \"lin up/log down\"`)"
        }
        crate::nca::AucMethod::Linear => "linear trapezoids (PKNCA `auc.method = \"linear\"`)",
    };
    format!(
        "- Samples are times after one dose at 0 h; AUClast needs a sample at 0 h (PKNCA imputes none by default).\n\
         - BLQ values (0) before the first positive concentration are {}, between positive ones {}, after the last one {} (PKNCA `conc.blq`); missing concentrations are left out (`conc.na = \"drop\"`).\n\
         - AUC and AUMC: {auc}; nothing is added after Tlast.\n\
         - λz: log-linear least squares on the last {} or more positive samples after Tmax (Tmax {}); of the fits with λz > 0 whose adjusted R² is within {} of the best adjusted R², the one with the most points (PKNCA `min.hl.points`, `allow.tmax.in.half.life`, `adj.r.squared.factor`). No fit is refused for its R² or span ratio (PKNCA flags those only on request).\n\
         - AUCinf,obs = AUClast + Clast,obs/λz; AUMCinf,obs = AUMClast + Clast·Tlast/λz + Clast/λz²; MRT = AUMC/AUC; CL/F = dose/AUCinf,obs; Vz/F = CL/F/λz; half-life = ln 2/λz; span ratio = (Tlast − λz first time)/half-life.\n",
        blq_word(o.blq.first),
        blq_word(o.blq.middle),
        blq_word(o.blq.last),
        o.min_hl_points,
        if o.allow_tmax_in_half_life {
            "included"
        } else {
            "excluded"
        },
        o.adj_r_squared_factor,
    )
}

/// `nca.md`: the results with units, the reason for each missing value, notes on dropped
/// samples, and the rules used.
pub fn nca_md(
    source: &str,
    subjects: &[Subject],
    results: &[Nca],
    o: &NcaOptions,
    command: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# NCA of {source}\n");
    let _ = writeln!(
        out,
        "`{command}` (k2sim {}): non-compartmental analysis with PKNCA's default rules, one row per subject; `nca.csv` holds the same values with PKNCA's column names and 10 significant digits. Concentrations in ng/mL, times in h after the dose, doses in µg.\n",
        env!("CARGO_PKG_VERSION")
    );
    let mut header: Vec<String> = std::iter::once("id".to_string())
        .chain(COLUMNS.iter().map(|(_, label, unit)| {
            if unit.is_empty() {
                label.to_string()
            } else {
                format!("{label} ({unit})")
            }
        }))
        .collect();
    let dosed = subjects.iter().any(|s| s.dose_ug.is_some());
    if dosed {
        header.extend(["dose (µg)".into(), "CL/F (L/h)".into(), "Vz/F (L)".into()]);
    }
    let rows: Vec<Vec<String>> = subjects
        .iter()
        .zip(results)
        .map(|(s, n)| {
            let mut r = vec![s.id.clone()];
            r.extend(values(n).iter().map(show));
            if dosed {
                r.push(s.dose_ug.map_or("–".into(), short));
                r.push(show(&n.cl_f_l_per_h));
                r.push(show(&n.vz_f_l));
            }
            r
        })
        .collect();
    md_table(&mut out, &header, &rows);
    let mut why: Vec<Vec<String>> = Vec::new();
    for (s, n) in subjects.iter().zip(results) {
        let mut vals: Vec<(&str, Value)> = COLUMNS.iter().map(|c| c.0).zip(values(n)).collect();
        if dosed {
            vals.push(("cl.obs", n.cl_f_l_per_h.clone()));
            vals.push(("vz.obs", n.vz_f_l.clone()));
        }
        // One row per reason, naming every value it leaves missing.
        let mut reasons: Vec<(Missing, Vec<&str>)> = Vec::new();
        for (name, v) in vals {
            if let Err(e) = v {
                match reasons.iter_mut().find(|(r, _)| *r == e) {
                    Some((_, names)) => names.push(name),
                    None => reasons.push((e, vec![name])),
                }
            }
        }
        for (reason, names) in reasons {
            why.push(vec![s.id.clone(), names.join(", "), reason.to_string()]);
        }
    }
    out.push_str("\n## Missing values\n\n");
    if why.is_empty() {
        out.push_str("None: every value was computed.\n");
    } else {
        md_table(
            &mut out,
            &["id".into(), "values".into(), "why".into()],
            &why,
        );
    }
    let notes: Vec<String> = subjects
        .iter()
        .zip(results)
        .flat_map(|(s, n)| {
            let mut v = Vec::new();
            if n.blq_dropped > 0 {
                v.push(format!(
                    "- {}: {} BLQ sample(s) between positive concentrations dropped.",
                    s.id, n.blq_dropped
                ));
            }
            if s.missing_samples > 0 {
                v.push(format!(
                    "- {}: {} sample(s) without a concentration left out.",
                    s.id, s.missing_samples
                ));
            }
            v
        })
        .collect();
    if !notes.is_empty() {
        out.push_str("\n## Samples left out\n\n");
        out.push_str(&notes.join("\n"));
        out.push('\n');
    }
    out.push_str("\n## Rules\n\n");
    out.push_str(&rules_md(o));
    out
}

/// The table printed after `k2sim nca`: the main values per subject, "–" when missing.
pub fn nca_table(subjects: &[Subject], results: &[Nca]) -> String {
    let header = [
        "id",
        "Cmax (ng/mL)",
        "Tmax (h)",
        "AUClast (ng·h/mL)",
        "AUCinf,obs (ng·h/mL)",
        "λz (1/h)",
        "t½ (h)",
        "adj. R²",
        "points",
    ];
    let rows: Vec<Vec<String>> = subjects
        .iter()
        .zip(results)
        .map(|(s, n)| {
            let v = values(n);
            vec![
                s.id.clone(),
                show(&v[0]),
                show(&v[1]),
                show(&v[4]),
                show(&v[5]),
                show(&v[7]),
                show(&v[8]),
                show(&v[10]),
                show(&v[11]),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    let mut out = String::new();
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    out.push_str(&line(header.iter().map(|s| s.to_string()).collect()));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// Every output of `k2sim nca`: `nca.csv`, `nca.md` and, with render options, one figure per
/// subject (`nca_<id>.png`, `.svg` and the caption `.txt`), rendered in parallel and added in
/// the order of the subjects, so the set is the same whatever the thread count.
pub fn files(
    source: &str,
    subjects: &[Subject],
    results: &[Nca],
    o: &NcaOptions,
    command: &str,
    render: Option<&RenderOptions>,
) -> Result<FileSet, Error> {
    use rayon::prelude::*;
    let mut set = FileSet::new();
    set.push("nca.csv", nca_csv(subjects, results)?);
    let mut md = nca_md(source, subjects, results, o, command);
    if let Some(opts) = render {
        let stems = figure_stems(subjects);
        type Files = Vec<(&'static str, Vec<u8>)>;
        let rendered: Vec<Option<Files>> = subjects
            .par_iter()
            .zip(results)
            .map(|(s, n)| {
                nca_figure(source, s, n, o)
                    .map(|f| render_files(&f, opts))
                    .transpose()
            })
            .collect::<Result<_, crate::plot::PlotError>>()?;
        md.push_str("\n## Figures\n\n");
        for ((s, n), (stem, fig)) in subjects.iter().zip(results).zip(stems.iter().zip(rendered)) {
            match fig {
                Some(files) => {
                    let names: Vec<String> =
                        files.iter().map(|f| format!("`{stem}.{}`", f.0)).collect();
                    let _ = writeln!(
                        md,
                        "- {}: {} (caption `{stem}.txt`)",
                        s.id,
                        names.join(", ")
                    );
                    let caption = nca_caption(stem, s, n, o, command);
                    set.push_figure(stem, files, opts, Some(caption));
                }
                None => {
                    let _ = writeln!(
                        md,
                        "- {}: no figure (no positive concentration to draw on a log axis)",
                        s.id
                    );
                }
            }
        }
    }
    set.push("nca.md", md.into_bytes());
    Ok(set)
}
