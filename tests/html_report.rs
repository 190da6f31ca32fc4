//! `report.html` as the commands write it: every figure, every parameter source, the version
//! and the command; nothing loaded from anywhere; labels from user files escaped; the same bytes
//! twice. And in a real browser: headless Chromium loads it with no console message and no
//! network request, and paints the figures.
//!
//! The browser check (see docs/report.md) runs Chromium three times on one report: once with
//! `--screenshot`, `--dump-dom`, `--enable-logging=stderr` (console messages arrive on stderr as
//! `:CONSOLE` lines) and `--log-net-log` (Chromium's own record of every URL request; a request
//! made by the page carries an `initiator` origin, the browser's own housekeeping requests carry
//! "not an origin"), once on the same page with the figures emptied (the difference in painted
//! pixels is what the figures drew), and once with `--print-to-pdf`. A control page with a
//! console error and an image request is run first, to show that both detectors see what they
//! are meant to see. Every name lookup is mapped to "not found" (`--host-resolver-rules`) and the
//! control's request goes to port 9 of the loopback address, which Chromium refuses to contact:
//! no test traffic leaves the machine. Without Chromium the test is skipped with a message, but
//! fails when `CI` is set (`.ci/run` installs Debian's `chromium`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn k2sim() -> Command {
    let mut c = Command::cargo_bin("k2sim").unwrap();
    c.current_dir(ROOT).env("RUST_BACKTRACE", "0");
    c
}

/// Runs `args` (a k2sim command) with `--out dir -q` and returns the report.
fn report(args: &[&str], dir: &Path) -> String {
    let out = k2sim()
        .args(args)
        .arg("--out")
        .arg(dir)
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("report.html")).unwrap()
}

fn files_ending(dir: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Not the output manifest (`.k2sim-manifest`): it lists the set, it is not in it.
        .filter(|n| n.ends_with(ext) && !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn escape(s: &str) -> String {
    k2sim::report::html::escape(s)
}

/// Nothing in the page can make a browser load anything: no URL at all, no element that
/// loads or runs something, no `src`, in-page links only, no CSS import or `url(…)`. Text
/// content escapes `<`, so the pieces between `<` and `>` are exactly the page's tags.
fn assert_self_contained(html: &str, what: &str) {
    for bad in ["http://", "https://", "@import", "url("] {
        assert!(!html.contains(bad), "{what}: the report contains {bad}");
    }
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(
            ![
                "script",
                "iframe",
                "object",
                "embed",
                "img",
                "link",
                "image",
                "foreignobject"
            ]
            .contains(&name.as_str()),
            "{what}: a <{name}> tag"
        );
        for (attr, value) in attributes(tag) {
            assert!(attr != "src" && !attr.starts_with("on"), "{what}: <{tag}>");
            if attr == "href" {
                assert!(
                    value.starts_with('#'),
                    "{what}: a link leaves the page: <{tag}>"
                );
            }
        }
    }
}

/// The attributes of a tag's text (after its name), as lower-case names and their values:
/// `name="value"`, `name='value'` or a bare name.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = tag.chars().skip_while(|c| !c.is_whitespace()).peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == '/') {
            chars.next();
        }
        let name: String = chars
            .by_ref()
            .take_while(|c| *c != '=' && !c.is_whitespace())
            .collect();
        if name.is_empty() {
            return out;
        }
        let mut value = String::new();
        if let Some(q) = chars.peek().copied().filter(|c| *c == '"' || *c == '\'') {
            chars.next();
            value = chars.by_ref().take_while(|c| *c != q).collect();
        }
        out.push((name.to_ascii_lowercase(), value));
    }
}

/// Every `.svg` of the directory is inlined, under its file name.
fn assert_every_figure(html: &str, dir: &Path, what: &str) {
    let svgs = files_ending(dir, ".svg");
    assert!(!svgs.is_empty(), "{what}: no figures");
    assert_eq!(html.matches("<svg ").count(), svgs.len(), "{what}");
    for s in &svgs {
        assert!(
            html.contains(&format!("<code>{}</code>", escape(s))),
            "{what}: {s}"
        );
    }
    assert!(
        !html.contains("is not shown here"),
        "{what}: a figure was refused"
    );
}

/// Version, command and the other files named.
fn assert_header(html: &str, command: &str, dir: &Path, what: &str) {
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{what}");
    assert!(
        html.contains(concat!("k2sim ", env!("CARGO_PKG_VERSION"))),
        "{what}"
    );
    assert!(
        html.contains(&format!("<code>{}</code>", escape(command))),
        "{what}: {command}"
    );
    for f in files_ending(dir, "") {
        if f != "report.html" {
            assert!(
                html.contains(&format!("<li><code>{}</code></li>", escape(&f))),
                "{what}: {f}"
            );
        }
    }
}

/// Every parameter source of every regimen, as `summary.json` records it, is on the page.
fn assert_every_source(html: &str, dir: &Path, what: &str) {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let regimens = summary["regimens"].as_array().unwrap();
    assert!(!regimens.is_empty());
    for r in regimens {
        let label = r["label"].as_str().unwrap();
        assert!(
            html.contains(&format!("<h3>{}</h3>", escape(label))),
            "{what}: {label}"
        );
        let sources = r["param_sources"].as_object().unwrap();
        assert!(sources.len() >= 6);
        for (key, p) in sources {
            let src = p["source"].as_str().unwrap();
            assert!(html.contains(&escape(src)), "{what}: {label} {key}: {src}");
            assert!(
                html.contains(&format!("<code>{key}</code>")),
                "{what}: {key}"
            );
        }
    }
}

#[test]
fn run_reports_hold_every_figure_source_the_version_and_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    for (scenario, presets) in [
        ("scenarios/mk7_daily.toml", &["MK-7 (menaquinone-7)"][..]),
        (
            "scenarios/mk4_vs_mk7.toml",
            &["MK-4 (menatetrenone)", "MK-7 (menaquinone-7)"][..],
        ),
    ] {
        let dir = tmp.path().join(Path::new(scenario).file_stem().unwrap());
        let html = report(&["run", scenario], &dir);
        assert_self_contained(&html, scenario);
        assert_every_figure(&html, &dir, scenario);
        assert_header(&html, &format!("k2sim run {scenario}"), &dir, scenario);
        assert_every_source(&html, &dir, scenario);
        // The caption text is there (its first sentence), and so are the tables.
        assert!(html.contains("<p>Simulated serum concentration over the run, one line per regimen (colour and line style).</p>"));
        if scenario.contains("vs") {
            assert!(html.contains("<h3>Comparison of the regimens</h3>"));
            assert!(html.contains("÷ reference</th>"));
        } else {
            assert!(html.contains("<h3>Metrics</h3>") && html.contains("<td>Cavg,ss</td>"));
        }
        // The validation status of each compound used, and only those.
        for name in presets {
            assert!(
                html.contains(&format!("<tr><td>{name}</td>")),
                "{scenario}: {name}"
            );
        }
        assert!(!html.contains("<tr><td>K1"), "{scenario}");
        assert!(html.contains("@media print") && html.contains("break-inside: avoid"));
        // Same scenario, same bytes, whatever the output directory.
        let again = report(&["run", scenario], &tmp.path().join("again"));
        assert!(
            again == html,
            "{scenario}: report.html differs between two runs"
        );
    }
}

#[test]
fn labels_and_names_from_user_files_are_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("hostile.toml");
    std::fs::write(
        &scen,
        "name = \"<img src=x onerror=alert(1)> & co\"\ndescription = \"</p><script>alert(2)</script>\"\nduration = \"3 d\"\n[[regimen]]\ncompound = \"mk7\"\nlabel = \"<script>alert('x')</script> \\\"q\\\"\"\ndose = \"180 µg\"\ninterval = \"1 d\"\ndoses = 3\n",
    )
    .unwrap();
    let dir = tmp.path().join("out");
    let html = report(&["run", scen.to_str().unwrap()], &dir);
    assert_self_contained(&html, "hostile");
    assert!(html.contains("<h1>&lt;img src=x onerror=alert(1)&gt; &amp; co</h1>"));
    assert!(html.contains("&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(html.contains("<h3>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;q&quot;</h3>"));
    assert_every_figure(&html, &dir, "hostile");
}

const STUDY: &str = r#"
name = "small study"
description = "A small population with a sweep, for the report test."
duration_h = 240
step_h = 2
[[regimen]]
label = "MK-7"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 10
[population]
n = 60
seed = 9
cv_pct = { ka_per_h = 30, half_life_h = 30, v_l = 30 }
target_trough_ng_ml = 1.0
[sweep]
half_life_h = { from = 60, to = 90, steps = 4 }
"#;

#[test]
fn every_command_writes_its_report() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tmp.path().join("study.toml");
    std::fs::write(&study, STUDY).unwrap();
    let study = study.to_str().unwrap();

    // A study: the population table the terminal shows is on the page, with the figures.
    let dir = tmp.path().join("study");
    let html = report(&["run", study], &dir);
    assert_self_contained(&html, "study");
    assert_every_figure(&html, &dir, "study");
    assert_every_source(&html, &dir, "study");
    assert!(html.contains("<h2>Study summary</h2>") && html.contains("population: 60 subjects"));
    assert!(html
        .contains("<p class=\"lead\">A small population with a sweep, for the report test.</p>"));

    // compare: the comparison table and both scenarios' regimens.
    let dir = tmp.path().join("compare");
    let args = [
        "compare",
        "scenarios/mk4_daily.toml",
        "scenarios/mk7_daily.toml",
    ];
    let html = report(&args, &dir);
    assert_self_contained(&html, "compare");
    assert_every_figure(&html, &dir, "compare");
    assert_every_source(&html, &dir, "compare");
    assert_header(
        &html,
        &args.join(" ").replacen("compare", "k2sim compare", 1),
        &dir,
        "compare",
    );
    assert!(html.contains("<h3>Comparison of the regimens</h3>"));

    // sensitivity: the printed table and the parameters of the unchanged run.
    let dir = tmp.path().join("sensitivity");
    let html = report(&["sensitivity", "scenarios/mk7_daily.toml"], &dir);
    assert_self_contained(&html, "sensitivity");
    assert_every_figure(&html, &dir, "sensitivity");
    assert!(html.contains("<h2>Sensitivity</h2>") && html.contains("one-at-a-time sensitivity"));
    assert!(html.contains("<h3>MK-7 180 µg daily</h3>"));
    assert!(html.contains("— sensitivity</h1>"));

    // fit: the estimates table from fit.md, the figures without captions.
    let dir = tmp.path().join("fit");
    let html = report(&["fit", "tests/fixtures/observed/mk7_single.toml"], &dir);
    assert_self_contained(&html, "fit");
    assert_every_figure(&html, &dir, "fit");
    assert!(html.contains("<h3>Parameter estimates</h3>"));
    assert!(html.contains("<th scope=\"col\" class=\"num\">estimate</th>"));
    assert!(html.contains("The values the fit started from"));

    // validate: the checks table, a figure per case, every compound's counts.
    let dir = tmp.path().join("validate");
    let html = report(&["validate"], &dir);
    assert_self_contained(&html, "validate");
    assert_every_figure(&html, &dir, "validate");
    assert_header(&html, "k2sim validate", &dir, "validate");
    let csv = std::fs::read_to_string(dir.join("validation.csv")).unwrap();
    let checks = csv.lines().count() - 1;
    let passing = csv.lines().filter(|l| l.contains(",pass,")).count();
    assert!(
        html.contains(&format!("({passing} of their {checks} checks pass")),
        "{passing}/{checks}"
    );
    for name in [
        "MK-4 (menatetrenone)",
        "MK-7 (menaquinone-7)",
        "K1 (phylloquinone)",
    ] {
        assert!(
            html.contains(&format!("<tr><td>{name}</td>")),
            "validate: {name}"
        );
    }
    // A row per check, and one per compound.
    assert_eq!(html.matches("<tr><td>").count(), checks + 3);
}

// ---------------------------------------------------------------------------------------------
// In a browser.

/// Chromium on the PATH, as Debian's package installs it.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// What one headless Chromium run saw.
struct Browsed {
    dom: String,
    stderr: String,
    netlog: String,
}

/// Loads `page` in headless Chromium with a fresh profile; `extra` adds the output flags.
fn browse(chromium: &Path, page: &Path, work: &Path, extra: &[String]) -> Browsed {
    let profile = tempfile::tempdir_in(work).unwrap();
    let netlog = work.join("netlog.json");
    let (out, err) = (work.join("stdout.txt"), work.join("stderr.txt"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--no-pings",
            "--hide-scrollbars",
            // No name is looked up: the browser's own update checks fail on the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--net-log-capture-mode=Default",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took over 2 minutes on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(status.success(), "chromium failed: {status}\n{stderr}");
    Browsed {
        dom: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr,
        netlog: std::fs::read_to_string(&netlog).unwrap_or_default(),
    }
}

impl Browsed {
    /// Console messages (errors, warnings, logs) of the page.
    fn console(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .collect()
    }

    /// Initiators of the URL requests in the net log other than the browser's own: a request
    /// the page made names its origin (`null` for a file).
    fn page_requests(&self) -> Vec<String> {
        self.netlog
            .split("\"initiator\":\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap_or("").to_string())
            .filter(|s| s != "not an origin")
            .collect()
    }
}

/// Non-white pixels and pixels near Okabe–Ito vermillion (the second regimen's line).
fn painted(png: &Path) -> (usize, usize, usize) {
    let img = image::open(png).unwrap().to_rgb8();
    let total = (img.width() * img.height()) as usize;
    let ink = img
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 235))
        .count();
    let near = |p: &image::Rgb<u8>, q: [u8; 3]| p.0.iter().zip(q).all(|(&a, b)| a.abs_diff(b) < 40);
    let vermillion = img.pixels().filter(|p| near(p, [0xD5, 0x5E, 0x00])).count();
    (total, ink, vermillion)
}

/// The page with every figure emptied: `<svg …>` kept (same size, same layout), content gone.
fn without_figures(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find("<svg ") {
        let open_end = i + rest[i..].find('>').unwrap() + 1;
        let close = open_end + rest[open_end..].find("</svg>").unwrap();
        out.push_str(&rest[..open_end]);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

#[test]
fn chromium_renders_the_report_with_no_console_message_and_no_request() {
    let Some(chromium) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed, and CI must run the browser check: .ci/run installs it with apt-get (Debian package `chromium`)");
        }
        eprintln!("skipped: no chromium on the PATH (Debian: apt-get install chromium); the browser check of report.html did not run");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();

    // The control: both detectors must fire on a page that logs and loads.
    let control = work.join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>control</title></head><body><p>control</p><img src=\"http://127.0.0.1:9/x.png\" alt=\"\"><script>console.error(\"control error\");</script></body></html>",
    )
    .unwrap();
    let c = browse(&chromium, &control, work, &["--dump-dom".into()]);
    assert!(
        c.console().iter().any(|l| l.contains("control error")),
        "the console detector saw nothing on the control page:\n{}",
        c.stderr
    );
    assert!(
        !c.page_requests().is_empty(),
        "the request detector saw nothing on the control page"
    );

    // The report of a comparison: two regimens, three figures.
    let dir = work.join("report");
    let html = report(&["run", "scenarios/mk4_vs_mk7.toml"], &dir);
    let page = dir.join("report.html");
    let shot = work.join("report.png");
    let b = browse(
        &chromium,
        &page,
        work,
        &[
            "--dump-dom".into(),
            "--window-size=1100,2600".into(),
            format!("--screenshot={}", shot.display()),
        ],
    );
    assert_eq!(b.console(), Vec::<&str>::new(), "console messages");
    assert_eq!(
        b.page_requests(),
        Vec::<String>::new(),
        "requests made by the page"
    );
    // The rendered DOM holds the figures, with their drawn text.
    let svgs = files_ending(&dir, ".svg").len();
    assert_eq!(b.dom.matches("<svg ").count(), svgs);
    assert!(b
        .dom
        .contains("<h3>Figure 1. MK-4 3 × 15 mg vs MK-7 180 µg daily</h3>"));
    assert!(b.dom.contains("Serum concentration (ng/mL)"));
    assert!(b.dom.contains("Parameters and their sources"));

    // The figures paint: the same page with the figures emptied paints much less, and no
    // vermillion (the MK-7 line).
    let bare = work.join("bare.html");
    std::fs::write(&bare, without_figures(&html)).unwrap();
    let bare_shot = work.join("bare.png");
    browse(
        &chromium,
        &bare,
        work,
        &[
            "--window-size=1100,2600".into(),
            format!("--screenshot={}", bare_shot.display()),
        ],
    );
    let (total, ink, vermillion) = painted(&shot);
    let (_, bare_ink, bare_vermillion) = painted(&bare_shot);
    assert!(
        ink > total / 20,
        "the screenshot is nearly blank: {ink} of {total} pixels"
    );
    assert!(
        ink > bare_ink + total / 200,
        "the figures paint little: {ink} pixels with them, {bare_ink} without"
    );
    assert!(
        vermillion > 200 && bare_vermillion < vermillion / 10,
        "vermillion {vermillion}, without figures {bare_vermillion}"
    );

    // Printing to PDF works and gives several pages.
    let pdf = work.join("report.pdf");
    let p = browse(
        &chromium,
        &page,
        work,
        &[
            "--no-pdf-header-footer".into(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
    );
    assert_eq!(p.console(), Vec::<&str>::new());
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(
        bytes.starts_with(b"%PDF-") && bytes.len() > 50_000,
        "{} bytes",
        bytes.len()
    );
}
