//! Every number, time and amount formatter, once, so tables, captions, figures and error
//! messages agree and no module borrows a helper from a sibling.
//!
//! Ground floor: it imports nothing from the crate. (Tick labels are the plot's own concern and
//! stay in `plot/`, the one layer that must not depend on anything.)

/// A number as a person writes it: no trailing zeros, at most 6 significant digits.
pub fn fmt_value(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e12) {
        return format!("{x:e}");
    }
    let s = format!("{:.6}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// "180 µg" or "15 mg".
pub fn fmt_amount(ug: f64) -> String {
    if ug >= 1000.0 {
        format!("{} mg", fmt_value(ug / 1000.0))
    } else {
        format!("{} µg", fmt_value(ug))
    }
}

/// A bound as written in messages: 1e9 rather than 1000000000.
pub fn fmt_limit(x: f64) -> String {
    if x >= 1e6 {
        format!("{x:e}")
    } else {
        fmt_value(x)
    }
}

/// A time in hours with at most 9 decimals and no trailing zeros (grid times are i·step, whose
/// binary rounding would otherwise show as 0.30000000000000004).
pub fn fmt_time(t: f64) -> String {
    let s = format!("{t:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A value with 10 significant digits, plain notation for ordinary magnitudes.
pub fn fmt_sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-6..=12).contains(&mag) {
        return format!("{x:.9e}");
    }
    let decimals = (9 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A value with 4 significant digits (plain notation), for tables.
pub fn fmt4(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..=8).contains(&mag) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - mag).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Four significant digits without trailing zeros: 1.2202 → "1.22", 72 → "72".
pub fn short(v: f64) -> String {
    let s = fmt4(v);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// "68 h", "180 µg", "0.8": a value with its unit.
pub fn with_unit(v: f64, unit: &str) -> String {
    if unit.is_empty() {
        fmt_value(v)
    } else {
        format!("{} {unit}", fmt_value(v))
    }
}

/// Four significant digits, at most 6 decimals, "–" for a non-finite value (validation tables).
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

/// `s` with its first letter in lower case ("Two-compartment model" → "two-compartment model"),
/// leaving names such as Michaelis–Menten alone.
pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A file or directory name made from free text: ASCII letters, digits, `-` and `_` only, never empty,
/// never `.` or `..`, so no scenario name can point outside the output directory.
pub fn sanitize_file_stem(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| match c {
            'µ' | 'μ' => 'u',
            c if c.is_ascii_alphanumeric() || c == '-' => c,
            _ => '_',
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').chars().take(80).collect::<String>();
    if s.is_empty() {
        "scenario".into()
    } else {
        s
    }
}

/// `text` made safe to print on a terminal or into a plain-text caption: control characters
/// (C0 except newline and tab, DEL, C1) and the bidirectional overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069) are written as Rust escapes (`\u{1b}`, `\r`), so a label or
/// name from an input file cannot move the cursor, recolour or retitle the terminal, or
/// reorder what follows it. Anything else is returned unchanged (and escaping twice changes
/// nothing more).
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut s = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            s.extend(c.escape_debug());
        } else {
            s.push(c);
        }
    }
    std::borrow::Cow::Owned(s)
}

/// A value with at most `digits` decimals and no trailing zeros: 230.7692, 0.5, 72.
pub fn fmt_decimals(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A time in hours, with days beside it past three days: "48 h", "144 h (6 d)", "230 h (9.6 d)".
pub fn fmt_hours_days(h: f64) -> String {
    if h > 72.0 {
        format!("{} h ({} d)", fmt_time(h), fmt_decimals(h / 24.0, 1))
    } else {
        format!("{} h", fmt_time(h))
    }
}

/// An optional value with `digits` decimals, "–" when absent (terminal tables).
pub fn opt_fixed(x: Option<f64>, digits: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:.digits$}"))
}

/// An optional value with [`fmt_sig`], empty when absent (CSV cells).
pub fn opt_sig(x: Option<f64>) -> String {
    x.map_or(String::new(), fmt_sig)
}

/// An optional value with [`fmt4`], "–" when absent (comparison tables).
pub fn opt4(v: Option<f64>) -> String {
    v.map_or("–".into(), fmt4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_safe_escapes_controls_and_keeps_text() {
        assert_eq!(
            terminal_safe("A\u{1b}[31mred\u{7}\u{0}\r\u{7f}\u{9b}2J"),
            "A\\u{1b}[31mred\\u{7}\\0\\r\\u{7f}\\u{9b}2J"
        );
        assert_eq!(
            terminal_safe("abc\u{202e}cba\u{2066}"),
            "abc\\u{202e}cba\\u{2066}"
        );
        let plain = "MK-7 180 µg\tdaily\n  ✓ ±5 %";
        assert!(matches!(terminal_safe(plain), std::borrow::Cow::Borrowed(p) if p == plain));
        let once = terminal_safe("\u{1b}]0;title\u{7}").into_owned();
        assert_eq!(terminal_safe(&once), once);
        assert!(!once.chars().any(char::is_control));
    }

    #[test]
    fn decimals_are_trimmed() {
        assert_eq!(fmt_decimals(230.769_230_769, 4), "230.7692");
        assert_eq!(fmt_decimals(0.5, 4), "0.5");
        assert_eq!(fmt_decimals(72.0, 4), "72");
        assert_eq!(fmt_decimals(0.0, 4), "0");
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(fmt_time(0.1 * 3.0), "0.3");
        assert_eq!(fmt_time(672.0), "672");
        assert_eq!(fmt_sig(1.234567890123), "1.23456789");
        assert_eq!(fmt_sig(325.0), "325");
        assert_eq!(fmt_sig(0.000123456789012), "0.000123456789");
        assert_eq!(fmt_sig(1.5e-9), "1.500000000e-9");
    }

    #[test]
    fn names_cannot_escape_the_output_directory() {
        assert_eq!(sanitize_file_stem("../../etc/passwd"), "etc_passwd");
        assert_eq!(
            sanitize_file_stem("MK-7 180 µg once daily"),
            "MK-7_180_ug_once_daily"
        );
        assert_eq!(sanitize_file_stem(".."), "scenario");
        assert_eq!(sanitize_file_stem("/"), "scenario");
    }
}
