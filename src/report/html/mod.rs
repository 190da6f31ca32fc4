//! `report.html`: a command's outputs on one self-contained page, for readers who do not open
//! CSV files (editors, supplement formulators). Every `.svg` of the command's file set is
//! inlined with its caption (`.txt` of the same stem), every `.md` table becomes an HTML table,
//! and the page adds the metrics and every parameter of the run with its value, evidence tag
//! and source, the validation status of the presets, the k2sim version and the command.
//!
//! Self-contained and static: inline CSS only, no script, no URL that a browser would load (no
//! fonts, styles or images from anywhere), a print stylesheet that keeps figures whole on a page.
//! Deterministic: the same inputs give the same bytes (no clock, no random ids).
//! Pure: it reads results and bytes already in memory and never simulates; the CLI computes the
//! validation outcomes and pushes the page into the set it writes. What the page holds and how
//! it is tested: docs/report.md.

mod markdown;
mod params;
mod presets;
mod svg;

use std::fmt::Write as _;

use crate::engine::run::RunResult;
use crate::format::opt4;
use crate::metric::Metric;
use crate::report::figure;

pub use markdown::{escape, markdown_to_html};
pub use params::{parameter_rows, ParamRow};
pub use presets::{CompoundChecks, PresetStatus, Tally};
pub use svg::{inline_svg, Refused};

/// The page's stylesheet, inlined into `<head>`.
const STYLE: &str = include_str!("style.css");

/// Headings of the Markdown files the commands write; any other `.md` is headed by its name.
const MARKDOWN_TITLES: &[(&str, &str)] = &[
    ("comparison.md", "Comparison of the regimens"),
    ("fit.md", "Parameter estimates"),
    ("validation.md", "Validation checks"),
    ("nca.md", "Non-compartmental analysis"),
];

/// The caption line that starts the parameter listing every figure of a run repeats.
const CAPTION_PARAMS: &str = "Regimens and parameters:";

/// What one page shows: its files and what the command has in memory.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The page's heading: the scenario's name, or what the command did.
    pub title: &'a str,
    /// The command line, as quoted in the captions (`cli::command_line`).
    pub command: &'a str,
    /// The command's output files, in writing order: `.svg` files are inlined with their
    /// `.txt` captions, `.md` files converted, every name listed.
    pub files: &'a [(String, Vec<u8>)],
    /// A paragraph under the heading (the scenario's `description`).
    pub description: Option<&'a str>,
    /// The run whose metrics and parameters are tabulated (`None`: no such tables).
    pub run: Option<&'a RunResult>,
    /// A sentence above the parameter tables (what the parameters are, e.g. a fit's start).
    pub params_note: Option<&'a str>,
    /// Text the terminal shows that no file holds, as (heading, text): population and sweep
    /// summaries, the sensitivity table. Shown preformatted; empty text is left out.
    pub printed: Option<(&'a str, &'a str)>,
    /// The presets' validation status; with `run`, only the compounds it uses are shown.
    pub presets: Option<&'a PresetStatus>,
}

impl<'a> Page<'a> {
    /// A page of `files` with nothing else: set the other fields with struct update syntax.
    pub fn new(title: &'a str, command: &'a str, files: &'a [(String, Vec<u8>)]) -> Self {
        Self {
            title,
            command,
            files,
            description: None,
            run: None,
            params_note: None,
            printed: None,
            presets: None,
        }
    }
}

/// A section of the page: anchor, heading and body.
struct Section {
    id: String,
    title: String,
    body: String,
}

/// A figure of the file set: its file stem, heading and `<figure>` element.
struct FigureEntry {
    id: String,
    title: String,
    html: String,
}

/// The page, as HTML. Same page, same bytes.
pub fn page(p: &Page) -> String {
    let figures = figures(p.files);
    let mut sections: Vec<Section> = Vec::new();
    let mut results = String::new();
    let has_md = |n: &str| p.files.iter().any(|(f, _)| f == n);
    if let Some(run) = p.run {
        if !has_md("comparison.md") {
            results.push_str(&metrics_table(run));
        }
    }
    for (name, bytes) in p.files.iter().filter(|(n, _)| n.ends_with(".md")) {
        let title = MARKDOWN_TITLES
            .iter()
            .find(|(n, _)| n == name)
            .map_or(name.as_str(), |(_, t)| t);
        let _ = write!(
            results,
            "<h3>{}</h3>\n<p class=\"note\">From <code>{}</code>.</p>\n{}",
            escape(title),
            escape(name),
            markdown_to_html(&String::from_utf8_lossy(bytes), 3)
        );
    }
    if !results.is_empty() {
        sections.push(Section {
            id: "results".into(),
            title: "Results".into(),
            body: results,
        });
    }
    if !figures.is_empty() {
        sections.push(Section {
            id: "figures".into(),
            title: "Figures".into(),
            body: figures.iter().map(|f| f.html.as_str()).collect(),
        });
    }
    if let Some((title, text)) = p.printed.filter(|(_, t)| !t.trim().is_empty()) {
        sections.push(Section {
            id: "summary".into(),
            title: title.to_string(),
            body: format!(
                "<p class=\"note\">As printed by the command.</p>\n<pre>{}</pre>\n",
                escape(text.trim_end())
            ),
        });
    }
    if let Some(run) = p.run {
        sections.push(Section {
            id: "parameters".into(),
            title: "Parameters and their sources".into(),
            body: params::parameters(run, p.params_note),
        });
    }
    if let Some(status) = p.presets {
        sections.push(Section {
            id: "validation".into(),
            title: "How well the presets are validated".into(),
            body: presets::presets(status, p.run),
        });
    }
    sections.push(Section {
        id: "about".into(),
        title: "About this report".into(),
        body: about(p),
    });

    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"k2sim {v}\">\n<title>{t} — k2sim report</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n",
        v = env!("CARGO_PKG_VERSION"),
        t = escape(p.title)
    );
    s.push_str(&header(p));
    s.push_str("<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
    for sec in &sections {
        let _ = write!(s, "<li><a href=\"#{}\">{}</a>", sec.id, escape(&sec.title));
        if sec.id == "figures" {
            s.push_str("\n<ol>\n");
            for (i, f) in figures.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "<li><a href=\"#{}\">Figure {}. {}</a></li>",
                    f.id,
                    i + 1,
                    escape(&f.title)
                );
            }
            s.push_str("</ol>\n");
        }
        s.push_str("</li>\n");
    }
    s.push_str("</ol>\n</nav>\n");
    for sec in &sections {
        let _ = write!(
            s,
            "<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n",
            sec.id,
            escape(&sec.title),
            sec.body
        );
    }
    s.push_str("</body>\n</html>\n");
    s
}

fn header(p: &Page) -> String {
    let mut s = String::from("<header>\n<p class=\"kicker\">k2sim report</p>\n");
    let _ = writeln!(s, "<h1>{}</h1>", escape(p.title));
    if let Some(d) = p.description.filter(|d| !d.trim().is_empty()) {
        let _ = writeln!(s, "<p class=\"lead\">{}</p>", escape(d.trim()));
    }
    s.push_str("<dl class=\"meta\">\n");
    let _ = writeln!(
        s,
        "<dt>Made with</dt><dd><code>{}</code></dd>",
        escape(p.command)
    );
    let _ = writeln!(
        s,
        "<dt>Version</dt><dd>k2sim {}</dd>",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(run) = p.run {
        let _ = writeln!(
            s,
            "<dt>Model</dt><dd>{}; {}</dd>",
            escape(&figure::model_description(run)),
            escape(&figure::solver_description(run))
        );
        let labels: Vec<String> = run
            .regimens
            .iter()
            .map(|r| escape(&r.regimen.label))
            .collect();
        let _ = writeln!(s, "<dt>Regimens</dt><dd>{}</dd>", labels.join(" · "));
    }
    s.push_str("</dl>\n</header>\n");
    s
}

/// The run's metrics from the registry, a column per regimen (when no comparison table has
/// them already).
fn metrics_table(run: &RunResult) -> String {
    let mut s = String::from("<h3>Metrics</h3>\n<div class=\"table\"><table>\n<thead><tr><th scope=\"col\">metric</th><th scope=\"col\">unit</th>");
    for r in &run.regimens {
        let _ = write!(
            s,
            "<th scope=\"col\" class=\"num\">{}</th>",
            escape(&r.regimen.label)
        );
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for m in Metric::ALL {
        let (name, unit) = m.label();
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", escape(name), escape(unit));
        for r in &run.regimens {
            let _ = write!(s, "<td class=\"num\">{}</td>", opt4(m.value(&r.metrics)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n<p class=\"note\">Steady-state values (,ss) are the model's periodic steady state; – where a schedule has none. Every metric with more digits: <code>summary.json</code>.</p>\n");
    s
}

/// Every `.svg` of `files` as a `<figure>` with its caption, in file order.
fn figures(files: &[(String, Vec<u8>)]) -> Vec<FigureEntry> {
    let mut out = Vec::new();
    let mut shared: Option<(String, usize)> = None;
    for (name, bytes) in files {
        let Some(stem) = name.strip_suffix(".svg") else {
            continue;
        };
        let n = out.len() + 1;
        let caption = files
            .iter()
            .find(|(f, _)| *f == format!("{stem}.txt"))
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned());
        let first = caption.as_deref().and_then(|c| c.lines().next());
        let mut title = first
            .and_then(|l| l.strip_prefix("Figure "))
            .and_then(|l| l.split_once(": "))
            .map_or_else(|| stem.replace('_', " "), |(_, t)| t.to_string());
        // Two figures of one title (the overlay and its panels) are told apart by the part of
        // the file name after the first figure's.
        if out.iter().any(|f: &FigureEntry| f.title == title) {
            let first_stem = files
                .iter()
                .find_map(|(f, _)| f.strip_suffix(".svg"))
                .unwrap_or(stem);
            let suffix = stem
                .strip_prefix(first_stem)
                .map(|s| s.trim_start_matches('_'))
                .filter(|s| !s.is_empty())
                .unwrap_or(stem);
            title = format!("{title} — {}", suffix.replace('_', " "));
        }
        let id = format!("fig-{n}");
        let mut html = format!(
            "<figure id=\"{id}\">\n<h3>Figure {n}. {}</h3>\n",
            escape(&title)
        );
        match inline_svg(bytes, &format!("f{n}-"), &format!("Figure {n}: {title}")) {
            Ok(svg) => {
                html.push_str(&svg);
                html.push('\n');
            }
            Err(why) => {
                let _ = writeln!(
                    html,
                    "<p class=\"missing\">The figure <code>{}</code> is not shown here because {}; open the file beside this report.</p>",
                    escape(name),
                    escape(&why.to_string())
                );
            }
        }
        html.push_str("<figcaption>\n");
        let _ = writeln!(
            html,
            "<p class=\"note\">Files: <code>{}</code>{}.</p>",
            escape(name),
            if caption.is_some() {
                format!(", caption <code>{}.txt</code>", escape(stem))
            } else {
                String::new()
            }
        );
        if let Some(c) = &caption {
            html.push_str(&caption_html(c, n, &mut shared));
        }
        html.push_str("</figcaption>\n</figure>\n");
        out.push(FigureEntry { id, title, html });
    }
    out
}

/// A caption file as HTML: its first line (the title) left out, sentences as paragraphs,
/// indented listings preformatted. The parameter listing is shown once: a later figure with
/// the same listing points to the first (`shared` remembers it and its figure number).
fn caption_html(text: &str, n: usize, shared: &mut Option<(String, usize)>) -> String {
    let body = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("Figure ") => rest,
        _ => text,
    };
    let (before, listing, after) = match body.find(CAPTION_PARAMS) {
        Some(i) => {
            let rest = &body[i..];
            let end = rest.find("\nMade with:").map_or(rest.len(), |e| e + 1);
            (&body[..i], Some(&rest[..end]), &rest[end..])
        }
        None => (body, None, ""),
    };
    let mut s = caption_blocks(before);
    if let Some(l) = listing {
        match shared {
            Some((seen, first)) if seen == l => {
                let _ = writeln!(
                    s,
                    "<p>{CAPTION_PARAMS} as under <a href=\"#fig-{first}\">Figure {first}</a>.</p>"
                );
            }
            _ => {
                s.push_str(&caption_blocks(l));
                *shared = Some((l.to_string(), n));
            }
        }
    }
    s.push_str(&caption_blocks(after));
    s
}

/// Blocks separated by blank lines: a block with indented lines is preformatted, any other
/// becomes one paragraph per line.
fn caption_blocks(text: &str) -> String {
    let mut s = String::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        if lines.iter().any(|l| l.starts_with("  ")) {
            let _ = writeln!(s, "<pre>{}</pre>", escape(&lines.join("\n")));
        } else {
            for l in lines {
                let _ = writeln!(s, "<p>{}</p>", escape(l.trim()));
            }
        }
    }
    s
}

fn about(p: &Page) -> String {
    let mut s = format!(
        "<p>Made by k2sim {} with <code>{}</code>. The page holds no script and loads nothing: it reads the same offline and on any computer.</p>\n",
        env!("CARGO_PKG_VERSION"),
        escape(p.command)
    );
    s.push_str("<p class=\"screen-only\">To make a PDF, print this page from the browser (Ctrl+P or ⌘P, then “Save as PDF”): figures are kept whole on a page and the contents list is left out.</p>\n");
    s.push_str("<h3>Files written with this report</h3>\n<ul class=\"files\">\n");
    for (name, _) in p.files {
        let _ = writeln!(s, "<li><code>{}</code></li>", escape(name));
    }
    s.push_str("</ul>\n<p class=\"note\">CSV and JSON files hold every number at full precision, for spreadsheets and scripts; PNG and SVG are the figures above; the <code>.txt</code> files their captions.</p>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = "<?xml version=\"1.0\"?>\n<svg width=\"40\" height=\"20\" viewBox=\"0 0 40 20\" xmlns=\"http://www.w3.org/2000/svg\"><text>x</text></svg>\n";

    fn caption(stem: &str, title: &str) -> String {
        format!("Figure {stem}: {title}\n\nSimulated serum concentration.\nAxis: ng/mL.\n\n{CAPTION_PARAMS}\n  A — MK-7\n    half_life_h  72 h  [secondary] Schurgers 2007\n\nMolar masses: MK-7 649.02.\nMade with: k2sim run a.toml\n")
    }

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![
            ("summary.json".into(), b"{}".to_vec()),
            (
                "comparison.md".into(),
                b"| metric | A <i>x</i> |\n|---|---:|\n| Cmax | 3.7 |\n".to_vec(),
            ),
            ("a.svg".into(), SVG.as_bytes().to_vec()),
            ("a.txt".into(), caption("a", "First <figure>").into_bytes()),
            ("a_steady_state.svg".into(), SVG.as_bytes().to_vec()),
            (
                "a_steady_state.txt".into(),
                caption("a_steady_state", "Second").into_bytes(),
            ),
            ("fit_curves.svg".into(), SVG.as_bytes().to_vec()),
            (
                "bad.svg".into(),
                b"<svg><script>alert(1)</script></svg>".to_vec(),
            ),
        ]
    }

    #[test]
    fn every_figure_is_inlined_with_its_caption_and_the_listing_once() {
        let f = files();
        let html = page(&Page::new("T", "k2sim run a.toml", &f));
        assert_eq!(html.matches("<svg ").count(), 3, "{html}");
        assert!(html.contains("<h3>Figure 1. First &lt;figure&gt;</h3>"));
        assert!(html.contains("<h3>Figure 2. Second</h3>"));
        assert!(html.contains("<h3>Figure 3. fit curves</h3>"));
        assert!(html.contains("<p>Simulated serum concentration.</p>"));
        assert_eq!(html.matches("half_life_h  72 h").count(), 1);
        assert!(html.contains("as under <a href=\"#fig-1\">Figure 1</a>"));
        assert!(html.contains("<p>Made with: k2sim run a.toml</p>"));
        // The refused figure is named, not inlined.
        assert!(html.contains(
            "<code>bad.svg</code> is not shown here because it holds a &lt;script&gt; element"
        ));
        assert!(!html.contains("<script"));
        assert!(html.contains("<th scope=\"col\" class=\"num\">A &lt;i&gt;x&lt;/i&gt;</th>"));
    }

    #[test]
    fn the_page_loads_nothing_and_repeats_itself_byte_for_byte() {
        let f = files();
        let p = Page {
            printed: Some(("Study summary", "population: 10 subjects\n")),
            ..Page::new("T <b>", "k2sim run \"a b.toml\"", &f)
        };
        let html = page(&p);
        assert_eq!(html, page(&p));
        for bad in [
            "http://", "https://", "src=", "<link", "@import", "<script", "url(",
        ] {
            assert!(!html.contains(bad), "{bad}");
        }
        for href in html.split("href=\"").skip(1) {
            assert!(href.starts_with('#'), "{}", &href[..20]);
        }
        assert!(html.contains("<title>T &lt;b&gt; — k2sim report</title>"));
        assert!(html.contains("<code>k2sim run &quot;a b.toml&quot;</code>"));
        assert!(html.contains(concat!("k2sim ", env!("CARGO_PKG_VERSION"))));
        assert!(html.contains("<pre>population: 10 subjects</pre>"));
        assert!(html.contains("@media print"));
    }

    #[test]
    fn presets_and_parameters_of_a_run() {
        let cases = crate::scenario::case::bundled_cases().unwrap();
        let results: Vec<_> = cases
            .iter()
            .map(|c| crate::study::literature::evaluate(c, crate::model::SolverKind::Exact))
            .collect::<Result<_, _>>()
            .unwrap();
        let status = PresetStatus::of(&results);
        let outcomes: Vec<_> = results.iter().flat_map(|r| r.outcomes.iter()).collect();
        let counted: usize = status
            .compounds
            .iter()
            .map(|c| c.calibration.total + c.independent.total)
            .sum();
        assert_eq!(counted, outcomes.len());
        assert_eq!(status.cases, cases.len());
        let mk7 = status.compounds.iter().find(|c| c.id == "mk7").unwrap();
        assert_eq!(mk7.calibration.passed, mk7.calibration.total);

        let sc = crate::scenario::parse_str(
            "name = \"s\"\nduration = \"2 d\"\n[[regimen]]\ncompound = \"mk7\"\nlabel = \"<script>x</script>\"\ndose = \"180 µg\"\ninterval = \"1 d\"\ndoses = 2\n[regimen.params]\nhalf_life_h = 60\n",
            "s",
        )
        .unwrap();
        let run = crate::engine::run::run(&sc, crate::model::SolverKind::Exact).unwrap();
        let rows = parameter_rows(&run.regimens[0]);
        let half = rows.iter().find(|r| r.key == "half_life_h").unwrap();
        assert_eq!((half.value.as_str(), half.tag), ("60 h", "set in scenario"));
        let v = rows.iter().find(|r| r.key == "v_l").unwrap();
        assert_eq!(v.tag, "derived");
        assert_eq!(v.source, run.regimens[0].regimen.sources.v_l.source);
        let f: Vec<(String, Vec<u8>)> = Vec::new();
        let html = page(&Page {
            run: Some(&run),
            presets: Some(&status),
            ..Page::new("s", "k2sim run s.toml", &f)
        });
        assert!(!html.contains("<script"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains(&escape(&v.source)));
        assert!(html.contains(&format!(
            "{} of {} pass",
            mk7.independent.passed, mk7.independent.total
        )));
        // Only the compound the run uses.
        assert!(!html.contains("MK-4 (menatetrenone)"));
        assert!(html.contains("<h3>Metrics</h3>"));
    }
}
