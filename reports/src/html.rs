//! The static HTML report: one page, inline style, images by relative path,
//! so it opens from the file system with no server and no network.

use crate::plot::Verdict;
use std::fmt::Write;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub title: String,
    /// Paragraphs under the title.
    pub intro: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Section {
    /// The anchor (letters, digits and dashes).
    pub id: String,
    pub title: String,
    pub verdict: Option<Verdict>,
    /// Label → value lines (paper, scenario, seeds, …).
    pub facts: Vec<(String, String)>,
    pub paragraphs: Vec<String>,
    /// Image stems relative to the report: `<stem>.png` is shown, and
    /// `<stem>.svg` linked.
    pub images: Vec<String>,
    pub tables: Vec<HtmlTable>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HtmlTable {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn verdict_badge(verdict: Option<Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::Pass) => r#"<span class="pass">PASS</span>"#,
        Some(Verdict::Fail) => r#"<span class="fail">FAIL</span>"#,
        None => r#"<span class="none">no band</span>"#,
    }
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.3em;border-top:1px solid #ccc;padding-top:1em}\
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}\
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}th{background:#f3f3f3}\
td:first-child,th:first-child{text-align:left}caption{text-align:left;font-weight:bold;padding:.3em 0}\
img{max-width:100%;border:1px solid #ddd}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}\
dt{font-weight:bold}dd{margin:0}.pass{color:#1e8c32;font-weight:bold}.fail{color:#c81e1e;font-weight:bold}\
.none{color:#777}code{background:#f3f3f3;padding:0 .2em}";

/// The report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&report.title),
        escape(&report.title)
    );
    for paragraph in &report.intro {
        let _ = writeln!(html, "<p>{}</p>", escape(paragraph));
    }
    html.push_str("<ul>\n");
    for section in &report.sections {
        let _ = writeln!(
            html,
            "<li><a href=\"#{}\">{}</a> {}</li>",
            escape(&section.id),
            escape(&section.title),
            verdict_badge(section.verdict)
        );
    }
    html.push_str("</ul>\n");
    for section in &report.sections {
        let _ = writeln!(
            html,
            "<h2 id=\"{}\">{} {}</h2>",
            escape(&section.id),
            escape(&section.title),
            verdict_badge(section.verdict)
        );
        if !section.facts.is_empty() {
            html.push_str("<dl>\n");
            for (label, value) in &section.facts {
                let _ = writeln!(html, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
            }
            html.push_str("</dl>\n");
        }
        for paragraph in &section.paragraphs {
            let _ = writeln!(html, "<p>{}</p>", escape(paragraph));
        }
        for stem in &section.images {
            let stem = escape(stem);
            let _ = writeln!(
                html,
                "<p><img src=\"{stem}.png\" alt=\"{stem}\"><br><a href=\"{stem}.svg\">{stem}.svg</a></p>"
            );
        }
        for table in &section.tables {
            let _ = writeln!(html, "<table>\n<caption>{}</caption>", escape(&table.caption));
            html.push_str("<tr>");
            for cell in &table.header {
                let _ = write!(html, "<th>{}</th>", escape(cell));
            }
            html.push_str("</tr>\n");
            for row in &table.rows {
                html.push_str("<tr>");
                for cell in row {
                    let _ = write!(html, "<td>{}</td>", escape(cell));
                }
                html.push_str("</tr>\n");
            }
            html.push_str("</table>\n");
        }
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_text_links_images_and_marks_verdicts() {
        let report = Report {
            title: "Figures <1>".into(),
            intro: vec!["a & b".into()],
            sections: vec![Section {
                id: "chord-path".into(),
                title: "Path".into(),
                verdict: Some(Verdict::Fail),
                facts: vec![("Seeds".into(), "1..10".into())],
                images: vec!["chord-path-1".into()],
                tables: vec![HtmlTable {
                    caption: "c".into(),
                    header: vec!["x".into()],
                    rows: vec![vec!["<b>".into()]],
                }],
                ..Section::default()
            }],
        };
        let html = render(&report);
        assert!(html.contains("<title>Figures &lt;1&gt;</title>"));
        assert!(html.contains("<p>a &amp; b</p>"));
        assert!(html.contains("<img src=\"chord-path-1.png\""));
        assert!(html.contains("href=\"chord-path-1.svg\""));
        assert!(html.contains("<td>&lt;b&gt;</td>"));
        assert!(html.contains("class=\"fail\""));
        assert!(!html.contains("http"), "the page must not reach the network");
    }
}
