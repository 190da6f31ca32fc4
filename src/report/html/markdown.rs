//! HTML escaping, and the subset of Markdown that k2sim's own `.md` outputs use (comparison.md,
//! fit.md, validation.md, nca.md) turned into HTML: `#` headings, pipe tables with an alignment
//! row, `- ` bullet lists, paragraphs and `code` spans. Anything else is shown as text, escaped:
//! the input may carry labels from user files, so no Markdown can produce a tag.

use std::fmt::Write as _;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references: safe as element
/// content and inside a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    // Control characters are not text in HTML; shown escaped, as on the terminal.
    for c in crate::format::terminal_safe(text).chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c => s.push(c),
        }
    }
    s
}

/// One line of text: escaped, with `code` spans as `<code>` (an unpaired backtick stays).
pub fn inline(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut s = String::new();
    for (i, p) in parts.iter().enumerate() {
        let closed = i % 2 == 1 && i + 1 < parts.len();
        if closed {
            let _ = write!(s, "<code>{}</code>", escape(p));
        } else {
            if i % 2 == 1 {
                s.push('`');
            }
            s.push_str(&escape(p));
        }
    }
    s
}

/// Column alignment from a table's rule row (`---`, `---:`, `:---:`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
    Center,
}

/// The cells of a `| a | b |` row; `\|` is a pipe inside a cell.
fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cell.push('|');
            }
            '|' => out.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    out.push(cell);
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The alignments of a rule row, or `None` when `line` is not one.
fn rule(line: &str) -> Option<Vec<Align>> {
    let cs = cells(line);
    cs.iter()
        .map(|c| {
            let (l, r) = (c.starts_with(':'), c.ends_with(':'));
            let dashes = c.trim_matches(':');
            (!dashes.is_empty() && dashes.chars().all(|d| d == '-')).then_some(match (l, r) {
                (true, true) => Align::Center,
                (_, true) => Align::Right,
                _ => Align::Left,
            })
        })
        .collect()
}

fn table(out: &mut String, lines: &[&str]) {
    let (head, aligns, body) = match lines.get(1).and_then(|l| rule(l)) {
        Some(a) => (Some(cells(lines[0])), a, &lines[2..]),
        None => (None, Vec::new(), lines),
    };
    let class = |i: usize| match aligns.get(i) {
        Some(Align::Right) => " class=\"num\"",
        Some(Align::Center) => " class=\"mid\"",
        _ => "",
    };
    out.push_str("<div class=\"table\"><table>\n");
    if let Some(h) = head {
        out.push_str("<thead><tr>");
        for (i, c) in h.iter().enumerate() {
            let _ = write!(out, "<th scope=\"col\"{}>{}</th>", class(i), inline(c));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for l in body {
        out.push_str("<tr>");
        for (i, c) in cells(l).iter().enumerate() {
            let _ = write!(out, "<td{}>{}</td>", class(i), inline(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// The Markdown `md` as HTML. Headings are shifted down by `heading_offset` levels (`#` becomes
/// `<h3>` with offset 2), so that a file's own headings sit under the page's section headings.
pub fn markdown_to_html(md: &str, heading_offset: usize) -> String {
    let lines: Vec<&str> = md.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if t.is_empty() {
            i += 1;
        } else if t.starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].trim().starts_with('|') {
                i += 1;
            }
            table(&mut out, &lines[start..i]);
        } else if let Some((level, text)) = heading(t) {
            let h = (level + heading_offset).min(6);
            let _ = writeln!(out, "<h{h}>{}</h{h}>", inline(text));
            i += 1;
        } else if is_item(t) {
            out.push_str("<ul>\n");
            while i < lines.len() && is_item(lines[i].trim()) {
                let mut item = lines[i].trim()[2..].to_string();
                i += 1;
                // Indented continuation lines belong to the item.
                while i < lines.len()
                    && lines[i].starts_with("  ")
                    && !is_item(lines[i].trim())
                    && !lines[i].trim().is_empty()
                {
                    item.push(' ');
                    item.push_str(lines[i].trim());
                    i += 1;
                }
                let _ = writeln!(out, "<li>{}</li>", inline(&item));
            }
            out.push_str("</ul>\n");
        } else {
            let mut para = Vec::new();
            while i < lines.len() {
                let t = lines[i].trim();
                if t.is_empty() || t.starts_with('|') || heading(t).is_some() || is_item(t) {
                    break;
                }
                para.push(t);
                i += 1;
            }
            let _ = writeln!(out, "<p>{}</p>", inline(&para.join(" ")));
        }
    }
    out
}

fn is_item(t: &str) -> bool {
    t.starts_with("- ") || t.starts_with("* ")
}

/// `# Title` → (1, "Title"); up to six `#` followed by a space.
fn heading(t: &str) -> Option<(usize, &str)> {
    let level = t.chars().take_while(|&c| c == '#').count();
    if (1..=6).contains(&level) {
        t[level..]
            .strip_prefix(' ')
            .map(|rest| (level, rest.trim()))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn code_spans_are_escaped_and_an_unpaired_backtick_stays() {
        assert_eq!(inline("run `a<b` now"), "run <code>a&lt;b</code> now");
        assert_eq!(inline("one ` tick"), "one ` tick");
        assert_eq!(inline("`x` and `y"), "<code>x</code> and `y");
    }

    #[test]
    fn a_table_gets_a_header_and_right_aligned_numbers() {
        let html = markdown_to_html(
            "| metric | <b>A</b> |\n|---|---:|\n| Cmax | 3.7 |\n| a \\| b | 1 |\n",
            2,
        );
        assert!(html.contains("<th scope=\"col\">metric</th>"), "{html}");
        assert!(html.contains("<th scope=\"col\" class=\"num\">&lt;b&gt;A&lt;/b&gt;</th>"));
        assert!(html.contains("<td>Cmax</td><td class=\"num\">3.7</td>"));
        assert!(html.contains("<td>a | b</td>"), "{html}");
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn headings_lists_and_paragraphs() {
        let html = markdown_to_html(
            "# NCA of `x.csv`\n\nFirst line\nsecond line.\n\nTolerances:\n\n- one\n  more\n- two\n",
            2,
        );
        assert_eq!(
            html,
            "<h3>NCA of <code>x.csv</code></h3>\n<p>First line second line.</p>\n<p>Tolerances:</p>\n<ul>\n<li>one more</li>\n<li>two</li>\n</ul>\n"
        );
    }

    #[test]
    fn a_table_without_a_rule_row_has_no_header() {
        let html = markdown_to_html("| a | b |\n| c | d |\n", 2);
        assert!(!html.contains("<thead>"));
        assert!(html.contains("<td>c</td><td>d</td>"));
    }
}
