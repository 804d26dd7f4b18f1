//! Bodies as ASP.NET Web API reads and writes them: JSON, or XML in the
//! `DataContractSerializer` form (members in alphabetical order, the type's namespace,
//! arrays in the serialization Arrays namespace, `i:nil` for nulls).

use quick_xml::events::Event;
use serde_json::{Map, Value};

/// `xmlns:i`.
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The namespace of string arrays.
pub const ARRAYS_NAMESPACE: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

/// One member's value in a DataContract document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DcValue {
    /// A string.
    Text(String),
    /// `i:nil="true"`.
    Nil,
    /// An array of strings.
    Strings(Vec<String>),
    /// A nested data contract (same namespace).
    Object(Vec<(&'static str, DcValue)>),
}

/// Escapes text for an XML element or attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn write_members(out: &mut String, members: &[(&'static str, DcValue)]) {
    let mut sorted: Vec<&(&str, DcValue)> = members.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (name, value) in sorted {
        match value {
            DcValue::Text(t) => out.push_str(&format!("<{name}>{}</{name}>", escape(t))),
            DcValue::Nil => out.push_str(&format!("<{name} i:nil=\"true\"/>")),
            DcValue::Strings(items) => {
                out.push_str(&format!("<{name} xmlns:d2p1=\"{ARRAYS_NAMESPACE}\">"));
                for item in items {
                    out.push_str(&format!("<d2p1:string>{}</d2p1:string>", escape(item)));
                }
                out.push_str(&format!("</{name}>"));
            }
            DcValue::Object(inner) => {
                out.push_str(&format!("<{name}>"));
                write_members(out, inner);
                out.push_str(&format!("</{name}>"));
            }
        }
    }
}

/// A DataContract document with root `root` in `namespace`.
pub(crate) fn data_contract_xml(
    root: &str,
    namespace: &str,
    members: &[(&'static str, DcValue)],
) -> String {
    let mut out = format!(
        "<{root} xmlns:i=\"{XSI_NAMESPACE}\" xmlns=\"{}\">",
        escape(namespace)
    );
    write_members(&mut out, members);
    out.push_str(&format!("</{root}>"));
    out
}

/// The JSON of the same members (nulls left out, which Web API reads as null).
pub(crate) fn json(members: &[(&'static str, DcValue)]) -> Value {
    let mut map = Map::new();
    for (name, value) in members {
        let v = match value {
            DcValue::Text(t) => Value::String(t.clone()),
            DcValue::Nil => continue,
            DcValue::Strings(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
            DcValue::Object(inner) => json(inner),
        };
        map.insert((*name).to_owned(), v);
    }
    Value::Object(map)
}

#[derive(Debug)]
struct Node {
    name: String,
    nil: bool,
    text: String,
    children: Vec<Node>,
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name.into_owned(),
    }
}

/// Reads an XML reply into JSON-like values: an element with children becomes an object
/// (repeated names become arrays; a root named `ArrayOf…` becomes an array), an element with
/// text a string, `i:nil="true"` null. Namespaces are ignored.
pub(crate) fn xml_to_value(body: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut reader = quick_xml::Reader::from_str(text.trim_start_matches('\u{feff}'));
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                return Err(format!(
                    "content after the root: <{}>",
                    local(e.name().as_ref())
                ));
            }
            Event::Start(e) => {
                let nil = e
                    .attributes()
                    .flatten()
                    .any(|a| local(a.key.as_ref()) == "nil" && a.value.as_ref() == b"true");
                stack.push(Node {
                    name: local(e.name().as_ref()),
                    nil,
                    text: String::new(),
                    children: Vec::new(),
                });
                if stack.len() > 64 {
                    return Err("nested too deeply".into());
                }
            }
            Event::Empty(e) => {
                let nil = e
                    .attributes()
                    .flatten()
                    .any(|a| local(a.key.as_ref()) == "nil" && a.value.as_ref() == b"true");
                let node = Node {
                    name: local(e.name().as_ref()),
                    nil,
                    text: String::new(),
                    children: Vec::new(),
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(c) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&c.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::GeneralRef(r) => {
                let value = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => match r.decode().map_err(|e| e.to_string())?.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => return Err(format!("unknown entity &{other};")),
                    },
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&value);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    let root = root.ok_or("no root element")?;
    Ok(if root.name.starts_with("ArrayOf") {
        Value::Array(root.children.into_iter().map(node_value).collect())
    } else {
        node_value(root)
    })
}

fn node_value(node: Node) -> Value {
    if node.nil {
        return Value::Null;
    }
    if node.children.is_empty() {
        return Value::String(node.text);
    }
    let mut map = Map::new();
    let names: Vec<String> = node.children.iter().map(|c| c.name.clone()).collect();
    // Serialization Arrays (`<d2p1:string>`…): a list even with one item.
    let is_array = names.first().is_some_and(|first| {
        matches!(first.as_str(), "string" | "int" | "long") && names.iter().all(|n| n == first)
    });
    if is_array {
        return Value::Array(node.children.into_iter().map(node_value).collect());
    }
    for child in node.children {
        let name = child.name.clone();
        let value = node_value(child);
        match map.get_mut(&name) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(name, value);
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_parm_matches_the_seed_sample() {
        let xml = data_contract_xml(
            "RefundParm",
            "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.WebInterface",
            &[
                ("orderid", DcValue::Text("sample string 1".into())),
                ("refundallticket", DcValue::Text("sample string 2".into())),
                (
                    "ticketids",
                    DcValue::Strings(vec!["sample string 1".into(), "sample string 2".into()]),
                ),
                ("memory", DcValue::Text("sample string 3".into())),
            ],
        );
        assert_eq!(
            xml,
            "<RefundParm xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.WebInterface\"><memory>sample string 3</memory><orderid>sample string 1</orderid><refundallticket>sample string 2</refundallticket><ticketids xmlns:d2p1=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\"><d2p1:string>sample string 1</d2p1:string><d2p1:string>sample string 2</d2p1:string></ticketids></RefundParm>"
        );
    }

    #[test]
    fn xml_replies_become_values() {
        let v = xml_to_value(b"<OperationResult xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"x\"><errcode>1</errcode><errmsg>sample &amp; string</errmsg></OperationResult>").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"errcode": "1", "errmsg": "sample & string"})
        );
        let v = xml_to_value(b"<ArrayOfTicket><Ticket><ticketcode>A</ticketcode><summary i:nil=\"true\"/></Ticket><Ticket><ticketcode>B</ticketcode></Ticket></ArrayOfTicket>").unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"ticketcode": "A", "summary": null}, {"ticketcode": "B"}])
        );
        let v = xml_to_value(
            b"<x><ids><d2p1:string>1</d2p1:string><d2p1:string>2</d2p1:string></ids></x>",
        )
        .unwrap();
        assert_eq!(v, serde_json::json!({"ids": ["1", "2"]}));
        for bad in [&b"<a><b></a>"[..], b"", b"text", b"<a/><b/>", b"\xff"] {
            assert!(xml_to_value(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_leaves_out_nulls() {
        let v = json(&[
            ("a", DcValue::Nil),
            ("b", DcValue::Strings(vec![])),
            ("c", DcValue::Text("x".into())),
        ]);
        assert_eq!(v, serde_json::json!({"b": [], "c": "x"}));
    }
}
