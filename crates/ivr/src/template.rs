//! Templates in prompts, attribute values and lookup queries: `{name}` is a
//! contact attribute, `{result.a.b}` a field of the last lookup's answer.
//! A name is letters, digits, `_`, `-` and `.`; a missing value is empty.

use serde_json::Value;
use std::collections::BTreeMap;

/// What templates can refer to.
pub(crate) struct Vars<'a> {
    pub attributes: &'a BTreeMap<String, String>,
    pub result: Option<&'a Value>,
}

enum Seg<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn parse(tpl: &str) -> Result<Vec<Seg<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Seg::Text(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("template {tpl:?}: `{{` without `}}`"))?;
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Err(format!("template {tpl:?}: {{{name}}} is not a name (letters, digits, _ - .)"));
        }
        out.push(Seg::Var(name));
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("template {tpl:?}: `}}` without `{{`"));
    }
    if !rest.is_empty() {
        out.push(Seg::Text(rest));
    }
    Ok(out)
}

/// Check a template's syntax.
pub(crate) fn check(tpl: &str) -> Result<(), String> {
    parse(tpl).map(|_| ())
}

/// Whether a text has any `{…}` in it (a clip name with one is not checked
/// against the catalog).
pub(crate) fn is_template(s: &str) -> bool {
    s.contains('{')
}

/// Fill a template; a malformed one is used as it stands (validation
/// reports it).
pub(crate) fn render(tpl: &str, vars: &Vars<'_>) -> String {
    let Ok(segs) = parse(tpl) else { return tpl.to_string() };
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Text(t) => out.push_str(t),
            Seg::Var(name) => out.push_str(&lookup(name, vars)),
        }
    }
    out
}

fn lookup(name: &str, vars: &Vars<'_>) -> String {
    if let Some(path) = name.strip_prefix("result.") {
        let mut v = match vars.result {
            Some(v) => v,
            None => return String::new(),
        };
        for key in path.split('.') {
            let next = match v {
                Value::Object(m) => m.get(key),
                Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            match next {
                Some(n) => v = n,
                None => return String::new(),
            }
        }
        return scalar(v);
    }
    vars.attributes.get(name).cloned().unwrap_or_default()
}

/// A JSON scalar as text; objects, arrays and null are empty.
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Percent-encode everything but the unreserved characters of RFC 3986.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_attributes_and_results() {
        let attrs = BTreeMap::from([("account".to_string(), "12345".to_string())]);
        let result = json!({"status": "shipped", "days": 3, "items": [{"sku": "A1"}], "nested": {"ok": true}});
        let vars = Vars { attributes: &attrs, result: Some(&result) };
        assert_eq!(render("status-{result.status}", &vars), "status-shipped");
        assert_eq!(render("{result.days}", &vars), "3");
        assert_eq!(render("{result.items.0.sku}/{result.nested.ok}", &vars), "A1/true");
        assert_eq!(render("{account}-{missing}-{result.none}", &vars), "12345--");
        assert_eq!(render("plain", &vars), "plain");
        assert_eq!(render("bad {x", &vars), "bad {x");
    }

    #[test]
    fn syntax_errors() {
        assert!(check("{ok.name-1_x}").is_ok());
        assert!(check("{}").is_err());
        assert!(check("{a b}").is_err());
        assert!(check("a}").is_err());
        assert!(check("{a").is_err());
    }

    #[test]
    fn encodes_queries() {
        assert_eq!(percent_encode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
    }
}
