//! CSV import and export of customers, with row-level error reports.
//!
//! The format (RFC 4180; the export writes exactly what the import reads):
//!
//! ```text
//! id,name,phones,emails,segment,attributes
//! c-1,"Li, Wei",+8613800138000;010 6552 9988,li.wei@example.cn,vip,"{""tier"":""gold""}"
//! ,New Person,+1 555 0100,,new,
//! ```
//!
//! * `id`: empty for a new customer (an id is generated); an existing id
//!   updates that customer.
//! * `phones`, `emails`: several separated by `;`.
//! * `segment`: `new`, `returning` or `vip` (case-insensitive; empty = `new`).
//! * `attributes`: a JSON object, or empty.
//!
//! Fields may be quoted with `"` (a quote inside is doubled); quoted fields
//! may hold commas and line breaks. Lines end with LF or CRLF; a UTF-8 byte
//! order mark is ignored; blank lines are skipped.

use crate::customers::{Customer, CustomerData, CustomerSegment, UpsertCounts};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The header line, in order.
pub const CSV_HEADER: [&str; 6] = ["id", "name", "phones", "emails", "segment", "attributes"];

/// A refused row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// Line (1-based, the header is line 1) where the record starts.
    pub line: usize,
    /// Why it was refused.
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Customers created.
    pub inserted: usize,
    /// Existing customers updated (by id).
    pub updated: usize,
    /// Rows refused, in file order; the other rows were stored.
    pub errors: Vec<RowError>,
}

impl ImportReport {
    pub(crate) fn with_counts(mut self, c: UpsertCounts) -> Self {
        self.inserted = c.inserted;
        self.updated = c.updated;
        self
    }
}

/// One record of a CSV text: the line it starts on and its fields, or why
/// it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvRecord {
    /// Line (1-based) where the record starts.
    pub line: usize,
    /// The fields, or a syntax error.
    pub fields: Result<Vec<String>, String>,
}

/// Split a CSV text into records (see the module docs for the dialect).
pub fn parse_csv(text: &str) -> Vec<CsvRecord> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    loop {
        if chars.peek().is_none() {
            break;
        }
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_any = false;
        let mut error: Option<String> = None;
        // One record: fields until an unquoted line break or the end.
        loop {
            // Start of a field.
            if chars.peek() == Some(&'"') {
                chars.next();
                quoted_any = true;
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\r' if chars.peek() == Some(&'\n') => {
                            chars.next();
                            line += 1;
                            field.push_str("\r\n");
                        }
                        '\n' | '\r' => {
                            line += 1;
                            field.push(c);
                        }
                        _ => field.push(c),
                    }
                }
                if !closed {
                    error.get_or_insert_with(|| "unterminated quoted field".into());
                }
                // After the closing quote: a separator, a line break or the end.
                let mut junk = false;
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '\n' || c == '\r' {
                        break;
                    }
                    junk = true;
                    chars.next();
                }
                if junk {
                    error.get_or_insert_with(|| "unexpected text after a closing quote".into());
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '\n' || c == '\r' {
                        break;
                    }
                    if c == '"' {
                        error.get_or_insert_with(|| "quote inside an unquoted field".into());
                    }
                    field.push(c);
                    chars.next();
                }
            }
            fields.push(std::mem::take(&mut field));
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        let blank = !quoted_any && fields.len() == 1 && fields[0].trim().is_empty();
        if blank && error.is_none() {
            continue;
        }
        out.push(CsvRecord { line: start, fields: error.map_or(Ok(fields), Err) });
    }
    out
}

/// Quote a field when it needs it.
pub fn csv_field(s: &str) -> String {
    let needs = s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if needs { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// A customer row read from CSV: its line, id (`None`: generate) and data.
pub(crate) type CsvCustomer = (usize, Option<String>, CustomerData);

/// Read customer rows; the refused ones are reported with line and reason.
pub(crate) fn read_customers(text: &str) -> (Vec<CsvCustomer>, Vec<RowError>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut records = parse_csv(text).into_iter();
    let Some(header) = records.next() else {
        errors.push(RowError { line: 1, reason: "empty file: expected a header line".into() });
        return (rows, errors);
    };
    let header_ok = matches!(&header.fields, Ok(f) if f.len() == CSV_HEADER.len()
        && f.iter().zip(CSV_HEADER).all(|(a, b)| a.trim().eq_ignore_ascii_case(b)));
    if !header_ok {
        errors.push(RowError { line: header.line, reason: format!("header must be {}", CSV_HEADER.join(",")) });
        return (rows, errors);
    }
    for rec in records {
        match customer_from_fields(rec.fields) {
            Ok((id, data)) => rows.push((rec.line, id, data)),
            Err(reason) => errors.push(RowError { line: rec.line, reason }),
        }
    }
    (rows, errors)
}

fn customer_from_fields(fields: Result<Vec<String>, String>) -> Result<(Option<String>, CustomerData), String> {
    let f = fields?;
    if f.len() != CSV_HEADER.len() {
        return Err(format!("expected {} fields, found {}", CSV_HEADER.len(), f.len()));
    }
    let id = f[0].trim();
    if id.chars().count() > 64 || id.chars().any(char::is_control) {
        return Err(format!("bad id {id:?}: at most 64 printable characters"));
    }
    let segment = if f[4].trim().is_empty() {
        CustomerSegment::New
    } else {
        f[4].parse::<CustomerSegment>()
            .map_err(|_| format!("unknown segment {:?} (expected new, returning or vip)", f[4]))?
    };
    let attributes = if f[5].trim().is_empty() {
        Map::new()
    } else {
        match serde_json::from_str::<Value>(&f[5]) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("attributes must be a JSON object".into()),
            Err(e) => return Err(format!("attributes are not valid JSON: {e}")),
        }
    };
    let data =
        CustomerData { name: f[1].clone(), phones: split_list(&f[2]), emails: split_list(&f[3]), segment, attributes };
    let data = data.normalised()?;
    Ok(((!id.is_empty()).then(|| id.to_string()), data))
}

/// The header line with its line break.
pub(crate) fn header_line() -> String {
    format!("{}\r\n", CSV_HEADER.join(","))
}

/// One customer as a CSV line with its line break (CRLF, as RFC 4180 says).
pub(crate) fn customer_line(c: &Customer) -> String {
    let attrs = if c.attributes.is_empty() { String::new() } else { Value::Object(c.attributes.clone()).to_string() };
    let fields = [c.id.clone(), c.name.clone(), c.phones.join(";"), c.emails.join(";"), c.segment.name().into(), attrs];
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(usize, Result<Vec<String>, String>)> {
        parse_csv(text).into_iter().map(|r| (r.line, r.fields)).collect()
    }

    fn ok(v: &[&str]) -> Result<Vec<String>, String> {
        Ok(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn quoted_commas_quotes_and_newlines() {
        let t = "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n\nlast,\"\"";
        assert_eq!(
            fields(t),
            vec![
                (1, ok(&["a", "b"])),
                (2, ok(&["x, y", "say \"hi\""])),
                (3, ok(&["multi\nline", "z"])),
                (6, ok(&["last", ""])),
            ]
        );
    }

    #[test]
    fn syntax_errors_keep_line_numbers() {
        let t = "h\n\"open,\nstill open\nx\n";
        assert_eq!(fields(t), vec![(1, ok(&["h"])), (2, Err("unterminated quoted field".into()))]);
        let t = "h\n\"a\"b,c\nok\nbad\"quote\nfine";
        let f = fields(t);
        assert_eq!(f[1], (2, Err("unexpected text after a closing quote".into())));
        assert_eq!(f[2], (3, ok(&["ok"])));
        assert_eq!(f[3], (4, Err("quote inside an unquoted field".into())));
        assert_eq!(f[4], (5, ok(&["fine"])));
    }

    #[test]
    fn bom_trailing_comma_and_empty_fields() {
        assert_eq!(fields("\u{feff}a,\n,\n"), vec![(1, ok(&["a", ""])), (2, ok(&["", ""]))]);
    }

    #[test]
    fn field_quoting_round_trips() {
        for s in ["plain", "a,b", "say \"x\"", "two\nlines", " padded ", ""] {
            let line = format!("{},end\n", csv_field(s));
            assert_eq!(fields(&line), vec![(1, ok(&[s, "end"]))], "{s:?}");
        }
    }
}
