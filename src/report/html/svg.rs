//! A figure's SVG document made fit to sit inside an HTML page: the XML prolog, doctype and
//! comments before the root dropped, the namespace declarations dropped (HTML puts `<svg>` in
//! the SVG namespace by itself, and the page then names no URL at all), ids made unique to the
//! figure, and a label for screen readers. A document that could run code or load anything is
//! refused, so that inlining never adds a script or a network request to the page, whatever
//! bytes the figure code produced.

/// Why an SVG document was not inlined.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// Not UTF-8, or no `<svg` root element.
    NotSvg,
    /// An element that runs code or embeds other content (`script`, `foreignObject`, …).
    Element(String),
    /// An event-handler attribute (`onload`, …).
    Handler(String),
    /// A reference to anything outside the figure (`href`, `url(…)` not starting with `#`).
    External(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NotSvg => write!(f, "it is not an SVG document"),
            Refused::Element(e) => write!(f, "it holds a <{e}> element"),
            Refused::Handler(a) => write!(f, "it holds an event handler ({a})"),
            Refused::External(r) => write!(f, "it refers to an outside resource ({r})"),
        }
    }
}

/// Elements that run code, embed other documents or load images.
const REFUSED_ELEMENTS: &[&str] = &[
    "script",
    "foreignobject",
    "iframe",
    "object",
    "embed",
    "image",
    "audio",
    "video",
    "link",
    "meta",
];

/// The tags of an XML text: the text between each `<` and the next `>`. Text content cannot
/// hold a raw `<` (it is escaped as `&lt;`), so this finds every element.
fn tags(text: &str) -> impl Iterator<Item = &str> {
    text.split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(t))
}

/// Attribute names and values of one tag (`name="value"` or `name='value'`).
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            rest = &rest[eq + 1..];
            continue;
        };
        let body = &after[1..];
        let end = body.find(q).unwrap_or(body.len());
        out.push((name, body[..end].to_string()));
        rest = &body[(end + 1).min(body.len())..];
    }
    out
}

fn check(svg: &str) -> Result<(), Refused> {
    for tag in tags(svg) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == ':' || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        let local = name.rsplit(':').next().unwrap_or(&name).to_string();
        if REFUSED_ELEMENTS.contains(&local.as_str()) {
            return Err(Refused::Element(local));
        }
        for (attr, value) in attributes(tag) {
            if attr.starts_with("on") {
                return Err(Refused::Handler(attr));
            }
            let href = attr == "href" || attr.ends_with(":href");
            if (href || attr == "src") && !value.starts_with('#') {
                return Err(Refused::External(value));
            }
        }
    }
    let lower = svg.to_ascii_lowercase();
    for (i, _) in lower.match_indices("url(") {
        let arg = lower[i + 4..].trim_start_matches(['\'', '"', ' ']);
        if !arg.starts_with('#') {
            return Err(Refused::External(
                svg[i..].chars().take(40).collect::<String>(),
            ));
        }
    }
    if lower.contains("@import") {
        return Err(Refused::External("@import".into()));
    }
    Ok(())
}

/// `bytes` (an SVG document) as an `<svg>` element for an HTML page: everything before the
/// root dropped, `xmlns` declarations dropped, every `id` prefixed with `prefix` (and the
/// references to it), `role="img"` and `aria-label` set to `label`.
pub fn inline_svg(bytes: &[u8], prefix: &str, label: &str) -> Result<String, Refused> {
    let text = std::str::from_utf8(bytes).map_err(|_| Refused::NotSvg)?;
    let start = text.find("<svg").ok_or(Refused::NotSvg)?;
    let end = text.rfind("</svg>").ok_or(Refused::NotSvg)? + "</svg>".len();
    if end <= start {
        return Err(Refused::NotSvg);
    }
    let mut svg = text[start..end].to_string();
    check(&svg)?;
    // The root's namespace declarations: HTML's parser supplies the namespace.
    let root_end = svg.find('>').ok_or(Refused::NotSvg)?;
    let mut root = svg[..root_end].to_string();
    for ns in ["xmlns", "xmlns:xlink"] {
        for q in ['"', '\''] {
            let key = format!(" {ns}={q}");
            if let Some(i) = root.find(&key) {
                let vstart = i + key.len();
                if let Some(len) = root[vstart..].find(q) {
                    root.replace_range(i..vstart + len + 1, "");
                }
            }
        }
    }
    root.push_str(&format!(
        " role=\"img\" aria-label=\"{}\"",
        super::markdown::escape(label)
    ));
    svg.replace_range(..root_end, &root);
    // Unique ids: two figures of one page may both use `id="clip0"`.
    let ids: std::collections::HashSet<String> = tags(&svg)
        .flat_map(attributes)
        .filter(|(a, _)| a == "id")
        .map(|(_, v)| v)
        .collect();
    Ok(prefix_references(&svg, &ids, prefix))
}

/// `svg` with `prefix` put before each of `ids` where it is defined (`id="x"`) or referred
/// to (`url(#x)`, `href="#x"`), in one pass over the text: a figure with a thousand curve
/// groups costs no more per id than one with two (a replace of the whole text per id made
/// it quadratic).
fn prefix_references(svg: &str, ids: &std::collections::HashSet<String>, prefix: &str) -> String {
    const OPENERS: [(&str, char); 3] = [("id=\"", '"'), ("url(#", ')'), ("href=\"#", '"')];
    let mut out = String::with_capacity(svg.len() + ids.len() * 3 * prefix.len());
    // The next position of each opener at or after `at`, searched again only once passed, so
    // the text is scanned once per opener in all.
    let find = |o: &str, from: usize| svg[from..].find(o).map(|i| from + i);
    let mut next: Vec<Option<usize>> = OPENERS.iter().map(|(o, _)| find(o, 0)).collect();
    let mut at = 0;
    while let Some((k, i)) = next
        .iter()
        .enumerate()
        .filter_map(|(k, p)| p.map(|i| (k, i)))
        .min_by_key(|&(_, i)| i)
    {
        let (opener, close) = OPENERS[k];
        let value_at = i + opener.len();
        out.push_str(&svg[at..value_at]);
        at = value_at;
        if let Some(len) = svg[at..].find(close) {
            if ids.contains(&svg[at..at + len]) {
                out.push_str(prefix);
            }
        }
        for (j, p) in next.iter_mut().enumerate() {
            if p.is_some_and(|p| p < at) {
                *p = find(OPENERS[j].0, at);
            }
        }
    }
    out.push_str(&svg[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- made by plotters -->\n<svg width=\"10\" height=\"5\" viewBox=\"0 0 10 5\" xmlns=\"http://www.w3.org/2000/svg\">\n<text x=\"1\">a &lt;b&gt;</text>\n</svg>\n";

    #[test]
    fn the_prolog_and_the_namespace_go_and_the_label_comes() {
        let s = inline_svg(PLAIN.as_bytes(), "f1-", "Figure <1>").unwrap();
        assert!(s.starts_with("<svg width=\"10\" height=\"5\" viewBox=\"0 0 10 5\" role=\"img\" aria-label=\"Figure &lt;1&gt;\">"), "{s}");
        assert!(s.ends_with("</svg>"));
        assert!(!s.contains("http"));
        assert!(!s.contains("<?xml"));
        assert!(s.contains("a &lt;b&gt;"));
    }

    #[test]
    fn ids_and_their_references_are_prefixed() {
        let svg = "<svg><defs><clipPath id=\"c0\"><rect/></clipPath></defs><g clip-path=\"url(#c0)\"/><use href=\"#c0\"/></svg>";
        let s = inline_svg(svg.as_bytes(), "f2-", "x").unwrap();
        assert!(s.contains("id=\"f2-c0\""), "{s}");
        assert!(s.contains("url(#f2-c0)"));
        assert!(s.contains("href=\"#f2-c0\""));
    }

    #[test]
    fn every_id_of_many_is_prefixed_once_and_similar_names_are_kept_apart() {
        // curve-1 is a prefix of curve-10 .. curve-19: each reference must get its own id's
        // prefix once, and text that only looks like an id (`c1` in a title) is left alone.
        let mut svg = String::from("<svg><title>c1 url(#c1</title>");
        for k in 1..=20 {
            svg.push_str(&format!(
                "<g id=\"curve-{k}\" clip-path=\"url(#curve-{k})\"/><use href=\"#curve-{k}\"/>"
            ));
        }
        svg.push_str("<use href=\"#other\"/></svg>");
        let s = inline_svg(svg.as_bytes(), "f3-", "x").unwrap();
        for k in 1..=20 {
            assert_eq!(s.matches(&format!("id=\"f3-curve-{k}\"")).count(), 1, "{s}");
            assert_eq!(s.matches(&format!("url(#f3-curve-{k})")).count(), 1, "{s}");
            assert_eq!(
                s.matches(&format!("href=\"#f3-curve-{k}\"")).count(),
                1,
                "{s}"
            );
        }
        assert_eq!(s.matches("f3-").count(), 60, "{s}");
        assert!(s.contains("<title>c1 url(#c1</title>"), "{s}");
        assert!(
            s.contains("href=\"#other\""),
            "an id not defined here is not renamed: {s}"
        );
    }

    #[test]
    fn scripts_handlers_and_outside_references_are_refused() {
        for (svg, want) in [
            (
                "<svg><script>alert(1)</script></svg>",
                Refused::Element("script".into()),
            ),
            (
                "<svg><foreignObject/></svg>",
                Refused::Element("foreignobject".into()),
            ),
            (
                "<svg onload=\"alert(1)\"></svg>",
                Refused::Handler("onload".into()),
            ),
            (
                "<svg><use xlink:href=\"http://x/y.svg#a\"/></svg>",
                Refused::External("http://x/y.svg#a".into()),
            ),
            (
                "<svg><rect fill=\"url(http://x/p)\"/></svg>",
                Refused::External("url(http://x/p)\"/></svg>".into()),
            ),
            (
                "<svg><style>@import 'a.css';</style></svg>",
                Refused::External("@import".into()),
            ),
            ("not svg", Refused::NotSvg),
        ] {
            assert_eq!(inline_svg(svg.as_bytes(), "f-", "x"), Err(want), "{svg}");
        }
        assert_eq!(inline_svg(&[0xff, 0xfe], "f-", "x"), Err(Refused::NotSvg));
    }
}
