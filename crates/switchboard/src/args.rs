//! Parsers of command-line values shared by the subcommands: numbers that
//! must be finite, positive or non-negative, with a message that says why.

/// A finite number.
pub fn number(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("\"{s}\" is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{s} is not a finite number"));
    }
    Ok(v)
}

/// A finite number greater than zero.
pub fn positive(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v <= 0.0 { Err(format!("must be greater than 0, not {v}")) } else { Ok(v) }
}

/// A finite number, zero or more.
pub fn non_negative(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v < 0.0 { Err(format!("must be 0 or more, not {v}")) } else { Ok(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked() {
        assert_eq!(positive("2.5"), Ok(2.5));
        assert!(positive("0").is_err());
        assert!(non_negative("-1").is_err());
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(number("NaN").is_err());
        assert!(number("abc").is_err());
    }
}
