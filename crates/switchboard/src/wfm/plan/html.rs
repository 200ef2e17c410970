//! A self-contained HTML report (inline SVG, no scripts, no network) for
//! `wfm forecast --html` and `wfm staff --html`.

use std::fmt::Write as _;

/// One series of a chart. A `None` value breaks the line (closed hours).
pub struct Line {
    /// Legend text.
    pub label: String,
    /// CSS colour.
    pub color: &'static str,
    /// Dashed stroke.
    pub dashed: bool,
    /// (x in hours from the chart's start, value).
    pub points: Vec<(f64, Option<f64>)>,
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A line chart: `x_ticks` are (x in hours, label) for vertical grid lines.
pub fn chart(title: &str, y_label: &str, x_ticks: &[(f64, String)], lines: &[Line]) -> String {
    let (w, h) = (1100.0, 320.0);
    let (left, right, top, bottom) = (60.0, 20.0, 30.0, 50.0);
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let y1 = lines.iter().flat_map(|l| l.points.iter().filter_map(|p| p.1)).fold(0.0f64, f64::max);
    let y1 = if y1 > 0.0 { nice(y1) } else { 1.0 };
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { (0.0, 1.0) };
    let px = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let py = |y: f64| top + (1.0 - y / y1) * (h - top - bottom);
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\">",
        escape(title)
    );
    for k in 0..=4 {
        let y = y1 * f64::from(k) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{py:.1}\" y2=\"{py:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - right,
            left - 4.0,
            py(y) + 4.0,
            trim(y),
            py = py(y)
        );
    }
    for (x, label) in x_ticks {
        if *x < x0 || *x > x1 {
            continue;
        }
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{top}\" y2=\"{}\" stroke=\"#eee\"/>\
             <text x=\"{:.1}\" y=\"{}\" text-anchor=\"start\">{}</text>",
            h - bottom,
            px(*x) + 2.0,
            h - bottom + 14.0,
            escape(label),
            px = px(*x)
        );
    }
    let _ = write!(
        s,
        "<text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
        h / 2.0,
        h / 2.0,
        escape(y_label)
    );
    for (i, line) in lines.iter().enumerate() {
        let mut d = String::new();
        let mut pen_down = false;
        for &(x, y) in &line.points {
            match y {
                Some(y) => {
                    let _ = write!(d, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, px(x), py(y));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let dash = if line.dashed { " stroke-dasharray=\"5 3\"" } else { "" };
        let _ = write!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{dash}/>\
             <rect x=\"{}\" y=\"{}\" width=\"14\" height=\"3\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            line.color,
            left + 10.0 + 190.0 * i as f64,
            h - 14.0,
            line.color,
            left + 28.0 + 190.0 * i as f64,
            h - 10.0,
            escape(&line.label)
        );
    }
    s.push_str("</svg></figure>\n");
    s
}

/// 1, 2 or 5 × 10^k at or above `v`.
fn nice(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|&c| c >= v).unwrap_or(10.0 * p)
}

fn trim(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// A whole page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>\
         body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#f4f4f4}}\
         figure{{margin:1em 0}}figcaption{{font-weight:bold}}</style></head><body><h1>{t}</h1>\n{body}</body></html>\n",
        t = escape(title)
    )
}

/// An HTML table from a header and rows of cells (escaped here).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", escape(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_draws_paths_and_breaks_lines() {
        let line = Line {
            label: "a<b".into(),
            color: "#123",
            dashed: true,
            points: vec![(0.0, Some(1.0)), (1.0, None), (2.0, Some(3.0)), (3.0, Some(2.0))],
        };
        let svg = chart("T", "calls", &[(0.0, "d1".into())], &[line]);
        assert!(svg.contains("a&lt;b"));
        assert_eq!(svg.matches('M').count(), 2, "{svg}");
        assert!(svg.contains("stroke-dasharray"));
        assert_eq!(nice(3.2), 5.0);
        assert_eq!(nice(120.0), 200.0);
        assert!(page("x & y", "").contains("<title>x &amp; y</title>"));
    }
}
