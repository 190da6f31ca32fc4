//! Everything a run or a comparison writes, as named byte buffers: tables, figures and their
//! caption files. Pure: the CLI decides where the bytes go and writes them atomically.

pub mod comparison;
pub mod compounds;
pub mod dataset;
pub mod figure;
pub mod fit;
pub mod html;
pub mod nca;
pub mod nca_figure;
pub mod population_figure;
pub mod response_figure;
pub mod study;
pub mod study_figure;
pub mod tables;
pub mod validation;

use crate::engine::compare::{self, CompareOptions, Comparison};
use crate::engine::run::RunResult;
use crate::engine::steady_profile::SteadyProfiles;
use crate::error::Error;
use crate::plot;
use crate::scenario::Scenario;
use tables as output;

/// Name prefix of the directory, inside the output directory, that the CLI writes a set of
/// outputs into before committing it; the process id follows. A staging directory left by a
/// killed run is removed by the next run into the same directory.
pub const STAGING_PREFIX: &str = ".k2sim-staging-";

/// A set of named output files, in writing order: what the CLI's one writer commits together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileSet(Vec<(String, Vec<u8>)>);

impl FileSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one file.
    pub fn push(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.0.push((name.into(), bytes));
    }

    /// Adds a figure's files, `<name>.<ext>` for each rendered format, and with a caption
    /// `<name>.txt`, which ends with the figure's size, resolution and formats.
    pub fn push_figure(
        &mut self,
        name: &str,
        files: Vec<(&'static str, Vec<u8>)>,
        opts: &plot::RenderOptions,
        caption: Option<String>,
    ) {
        for (ext, bytes) in files {
            self.push(format!("{name}.{ext}"), bytes);
        }
        if let Some(c) = caption {
            // Captions quote labels and names; escaped, so `cat`ting one is safe.
            let c = with_size_note(c, opts);
            let c = crate::format::terminal_safe(&c).into_owned();
            self.push(format!("{name}.txt"), c.into_bytes());
        }
    }

    /// Renders `fig` with `opts` in its formats and adds the files (and the caption, if any).
    /// Nothing is added when `opts` has no format.
    pub fn push_rendered(
        &mut self,
        name: &str,
        fig: &impl plot::Render,
        opts: &plot::RenderOptions,
        caption: Option<String>,
    ) -> Result<(), plot::PlotError> {
        if opts.formats.is_empty() {
            return Ok(());
        }
        let files = plot::render_files(fig, opts)?;
        self.push_figure(name, files, opts, caption);
        Ok(())
    }

    /// Adds every file of `other`, in order.
    pub fn extend(&mut self, other: impl IntoIterator<Item = (String, Vec<u8>)>) {
        self.0.extend(other);
    }

    /// The files, in writing order.
    pub fn into_vec(self) -> Vec<(String, Vec<u8>)> {
        self.0
    }
}

/// How to render the outputs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportOptions {
    /// Figure size, resolution and text size.
    pub render: plot::RenderOptions,
    /// Reference regimen of the comparison table (default: the first).
    pub reference: Option<String>,
    /// The command that made the outputs, quoted in the caption files.
    pub command: String,
    /// The uncertainty study of `--uncertainty`, folded into `summary.json`, the figures and
    /// their captions, and written as `uncertainty.csv`.
    pub uncertainty: Option<crate::study::uncertainty::Uncertainty>,
    /// The dose–response curves of `[response]` (empty without one), drawn as one figure per
    /// marker.
    pub dose_response: Vec<crate::study::dose_response::DoseResponseCurve>,
}

/// The outputs of a run, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// File name and content, in writing order.
    pub files: Vec<(String, Vec<u8>)>,
    /// The comparison table, when there are two or more regimens (also in `files`).
    pub comparison: Option<Comparison>,
}

/// A caption with its figure's print size appended: "Size: 1800 × 1100 px at 300 dpi
/// (152.4 × 93.1 mm); PNG, SVG." (a bare figure says its title is left to the caption).
pub fn with_size_note(mut caption: String, opts: &plot::RenderOptions) -> String {
    if !caption.ends_with('\n') {
        caption.push('\n');
    }
    caption.push_str(&format!("Size: {}.\n", opts.size_note()));
    if opts.bare {
        caption.push_str("Bare figure: the title and subtitle are left to this caption.\n");
    }
    caption
}

fn csv_error(name: &str, e: csv::Error) -> Error {
    Error::serialize(name, e)
}

/// The comparison of `result`'s regimens with the scenario's threshold and units.
pub fn comparison(
    scenario: &Scenario,
    result: &RunResult,
    reference: Option<&str>,
) -> Result<Comparison, compare::CompareError> {
    compare::compare(
        result,
        &CompareOptions {
            ode: scenario.ode,
            reference: reference.map(str::to_string),
            units: scenario.plot.units,
            threshold_ng_ml: scenario.threshold_ng_ml,
        },
    )
}

/// Renders every output of `scenario` run as `result`, with the steady-state courses
/// `profiles` the engine computed for it ([`crate::engine::steady_profile::steady_profiles`]).
/// The comparison is made whenever there are two or more regimens; `force_comparison` makes it
/// for a single regimen too.
pub fn build(
    scenario: &Scenario,
    result: &RunResult,
    profiles: &SteadyProfiles,
    opts: &ReportOptions,
    force_comparison: bool,
) -> Result<Report, Error> {
    let stem = crate::format::sanitize_file_stem(&scenario.name);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("timeseries.csv".into(), output::timeseries_csv(result)?),
        ("dataset.csv".into(), dataset::dataset_csv(result)?),
        (
            "summary.json".into(),
            output::summary_json(scenario, result, opts.uncertainty.as_ref())?,
        ),
    ];
    if let Some(u) = &opts.uncertainty {
        files.push(("uncertainty.csv".into(), output::uncertainty_csv(u)?));
    }
    if result.regimens.iter().any(|r| !r.response.is_empty()) {
        files.push(("response.csv".into(), output::response_csv(result)?));
    }
    if result.regimens.iter().any(|r| !r.residuals.is_empty()) {
        files.push(("residuals.csv".into(), output::residuals_csv(result)?));
    }
    let comparison = if result.regimens.len() >= 2 || force_comparison {
        let c =
            comparison(scenario, result, opts.reference.as_deref()).map_err(|e| Error::Usage {
                message: e.to_string(),
            })?;
        files.push(("comparison.md".into(), c.to_markdown().into_bytes()));
        files.push((
            "comparison.csv".into(),
            c.to_csv().map_err(|e| csv_error("comparison.csv", e))?,
        ));
        Some(c)
    } else {
        None
    };
    let mut specs = figure::figures(scenario, result, profiles, opts.uncertainty.as_ref());
    specs.extend(crate::report::response_figure::dose_response_figures(
        scenario,
        &opts.dose_response,
    ));
    // The figures are independent: rendered in parallel, written in their order (same bytes
    // for any thread count).
    use rayon::prelude::*;
    let rendered: Vec<Result<FileSet, plot::PlotError>> = specs
        .par_iter()
        .map(|fig| {
            let name = if fig.suffix.is_empty() {
                stem.clone()
            } else {
                format!("{stem}_{}", fig.suffix)
            };
            let caption = figure::caption_text(scenario, result, fig, &name, &opts.command);
            let mut set = FileSet::new();
            set.push_rendered(&name, &fig.figure, &fig.render(&opts.render), Some(caption))?;
            Ok(set)
        })
        .collect();
    for set in rendered {
        files.extend(set?.into_vec());
    }
    Ok(Report { files, comparison })
}
