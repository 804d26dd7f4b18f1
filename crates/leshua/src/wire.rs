//! Requests are `application/x-www-form-urlencoded` UTF-8; replies and notifications are
//! `<leshua>` XML documents whose values are usually wrapped in CDATA.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use quick_xml::events::Event;

/// Characters left as they are in a form body: ALPHA / DIGIT / `*-._` (WHATWG
/// `application/x-www-form-urlencoded`); everything else is percent-encoded.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// The form body of `fields`, in the given order, empty values left out (LeShua: "空值不传递").
pub(crate) fn form_body(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in fields.iter().filter(|(_, v)| !v.is_empty()) {
        if !out.is_empty() {
            out.push('&');
        }
        out.extend(utf8_percent_encode(name, FORM));
        out.push('=');
        out.extend(utf8_percent_encode(value, FORM));
    }
    out
}

/// Decodes a form body (for the sandbox).
#[cfg(any(test, feature = "sandbox"))]
pub(crate) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Why a body is not a `<leshua>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum XmlError {
    /// Not XML at all (the gateway answers an empty or malformed request with the plain
    /// text "接口为可用状态").
    NotXml(String),
    /// XML, but malformed or not the expected shape.
    Malformed(String),
}

/// The fields of a `<leshua>` document, in document order.
///
/// Element text and CDATA are concatenated as they appear; the predefined entities and
/// character references are resolved; a nested element's text counts toward its top-level
/// field. A repeated field is an error (a signature over it would be ambiguous).
pub(crate) fn parse_xml(body: &[u8]) -> Result<Vec<(String, String)>, XmlError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| XmlError::Malformed("the body is not UTF-8".into()))?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if !trimmed.starts_with('<') {
        let shown: String = trimmed.chars().take(200).collect();
        return Err(XmlError::NotXml(shown));
    }
    let mut reader = quick_xml::Reader::from_str(trimmed);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut depth = 0usize;
    let mut seen_root = false;
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    loop {
        let event = reader.read_event().map_err(|e| malformed(&e))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match depth {
                    0 if seen_root => {
                        return Err(XmlError::Malformed("more than one root element".into()));
                    }
                    0 if name != "leshua" => {
                        return Err(XmlError::Malformed(format!(
                            "root element is <{name}>, not <leshua>"
                        )));
                    }
                    0 => seen_root = true,
                    1 => add_field(&mut fields, &mut names, name)?,
                    _ => {}
                }
                depth += 1;
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match depth {
                    0 => {
                        if name != "leshua" || seen_root {
                            return Err(XmlError::Malformed(format!("unexpected <{name}/>")));
                        }
                        seen_root = true;
                    }
                    1 => add_field(&mut fields, &mut names, name)?,
                    _ => {}
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| XmlError::Malformed("unbalanced end tag".into()))?;
            }
            Event::Text(t) => {
                let value = t.decode().map_err(|e| malformed(&e))?;
                append(&mut fields, depth, &value)?;
            }
            Event::CData(c) => {
                let value = c.decode().map_err(|e| malformed(&e))?;
                append(&mut fields, depth, &value)?;
            }
            Event::GeneralRef(r) => {
                let value = match r.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| malformed(&e))?;
                        match name.as_ref() {
                            "amp" => "&".to_owned(),
                            "lt" => "<".to_owned(),
                            "gt" => ">".to_owned(),
                            "quot" => "\"".to_owned(),
                            "apos" => "'".to_owned(),
                            other => {
                                return Err(XmlError::Malformed(format!(
                                    "unknown entity &{other};"
                                )));
                            }
                        }
                    }
                };
                append(&mut fields, depth, &value)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if depth != 0 || !seen_root {
        return Err(XmlError::Malformed(
            "the document ends before </leshua>".into(),
        ));
    }
    Ok(fields)
}

/// The most fields a `<leshua>` document may have; real ones have a few dozen.
pub(crate) const MAX_FIELDS: usize = 256;

fn add_field(
    fields: &mut Vec<(String, String)>,
    names: &mut std::collections::HashSet<String>,
    name: String,
) -> Result<(), XmlError> {
    if !names.insert(name.clone()) {
        return Err(XmlError::Malformed(format!("<{name}> appears twice")));
    }
    if fields.len() >= MAX_FIELDS {
        return Err(XmlError::Malformed(format!(
            "more than {MAX_FIELDS} fields"
        )));
    }
    fields.push((name, String::new()));
    Ok(())
}

fn append(fields: &mut [(String, String)], depth: usize, value: &str) -> Result<(), XmlError> {
    match depth {
        0 | 1 if value.trim().is_empty() => Ok(()),
        0 => Err(XmlError::Malformed("text outside <leshua>".into())),
        1 => Err(XmlError::Malformed("text directly inside <leshua>".into())),
        _ => {
            if let Some((_, v)) = fields.last_mut() {
                v.push_str(value);
            }
            Ok(())
        }
    }
}

/// Writes a `<leshua>` document with CDATA values (for the sandbox).
pub(crate) fn write_xml(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("<leshua>\n");
    for (name, value) in fields {
        // "]]>" cannot appear inside one CDATA section: split it across two.
        let value = value.replace("]]>", "]]]]><![CDATA[>");
        out.push_str(&format!("<{name}><![CDATA[{value}]]></{name}>\n"));
    }
    out.push_str("</leshua>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_body(&[
                ("notify_url", "https://a.b/n?x=1&y=2"),
                ("body", "门票 x2"),
                ("attach", "")
            ]),
            "notify_url=https%3A%2F%2Fa.b%2Fn%3Fx%3D1%26y%3D2&body=%E9%97%A8%E7%A5%A8%20x2"
        );
        let parsed = parse_form(b"a=1&b=%E9%97%A8+x&c");
        assert_eq!(
            parsed,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "门 x".into()),
                ("c".into(), String::new())
            ]
        );
    }

    #[test]
    fn parses_the_manual_sample() {
        let xml = "<leshua>\n<resp_code><![CDATA[0]]></resp_code>\n<merchant_id><![CDATA[9605008025]]></merchant_id>\n<td_code><![CDATA[weixin://wxpay/bizpayurl?pr=kZF1s1X]]></td_code>\n<empty></empty><self/>\n</leshua>";
        let fields = parse_xml(xml.as_bytes()).unwrap();
        assert_eq!(
            fields,
            vec![
                ("resp_code".into(), "0".into()),
                ("merchant_id".into(), "9605008025".into()),
                (
                    "td_code".into(),
                    "weixin://wxpay/bizpayurl?pr=kZF1s1X".into()
                ),
                ("empty".into(), String::new()),
                ("self".into(), String::new()),
            ]
        );
    }

    #[test]
    fn entities_and_mixed_content() {
        let xml = "<?xml version=\"1.0\"?><leshua><a>x &amp; y &#20320;<![CDATA[<z>]]></a><b><inner>n</inner></b></leshua>";
        let fields = parse_xml(xml.as_bytes()).unwrap();
        assert_eq!(fields[0], ("a".into(), "x & y 你<z>".into()));
        assert_eq!(fields[1], ("b".into(), "n".into()));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(
            matches!(parse_xml("接口为可用状态".as_bytes()), Err(XmlError::NotXml(t)) if t == "接口为可用状态")
        );
        assert!(matches!(parse_xml(b""), Err(XmlError::NotXml(_))));
        for bad in [
            "<other><a>1</a></other>",
            "<leshua><a>1</a>",
            "<leshua><a>1</a><a>2</a></leshua>",
            "<leshua><a>1</b></leshua>",
            "<leshua>text<a>1</a></leshua>",
            "<leshua><a>&nbsp;</a></leshua>",
            "<leshua></leshua><leshua></leshua>",
        ] {
            assert!(
                matches!(parse_xml(bad.as_bytes()), Err(XmlError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(parse_xml(b"\xff<leshua/>").is_err());
        let many: String = (0..=MAX_FIELDS).map(|i| format!("<a{i}/>")).collect();
        assert!(parse_xml(format!("<leshua>{many}</leshua>").as_bytes()).is_err());
        assert_eq!(parse_xml(b"<leshua/>").unwrap(), vec![]);
    }

    #[test]
    fn write_round_trips() {
        let xml = write_xml(&[("a", "1"), ("b", ""), ("c", "x]]>y")]);
        let fields = parse_xml(xml.as_bytes()).unwrap();
        assert_eq!(fields[2], ("c".into(), "x]]>y".into()));
        assert_eq!(fields[1], ("b".into(), String::new()));
    }
}
