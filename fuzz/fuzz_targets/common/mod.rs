//! Shared by every target: the property checks (one definition, also run by
//! `parsers/tests/fuzz_regressions.rs`) and a serde_json cross-check of the JSON.

#![allow(dead_code)]

#[path = "../../../parsers/tests/fuzz_support/mod.rs"]
pub mod props;

/// serde_json agrees with the checks' own reader: one object, and `event.original` decodes to
/// the input (exactly, when the input is UTF-8).
pub fn check_with_serde(input: &[u8], json: &[u8]) {
    let v: serde_json::Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => panic!(
            "property (c) failed: serde_json rejects the JSON ({e}): {}",
            String::from_utf8_lossy(json)
        ),
    };
    assert!(v.is_object(), "property (c) failed: JSON is not an object");
    let original = v
        .pointer("/event/original")
        .and_then(|o| o.as_str())
        .expect("property (c) failed: no event.original string");
    assert_eq!(
        original,
        props::expected_text(input),
        "property (c) failed: serde_json reads event.original differently"
    );
    if let Ok(text) = std::str::from_utf8(input) {
        assert_eq!(
            original, text,
            "property (c) failed: event.original is not the input"
        );
    }
    let mine = props::minijson::parse(std::str::from_utf8(json).unwrap()).unwrap();
    assert_eq!(
        to_serde(&mine),
        v,
        "the checks' JSON reader and serde_json disagree"
    );
}

fn to_serde(v: &props::Value) -> serde_json::Value {
    use props::Value as V;
    match v {
        V::Null => serde_json::Value::Null,
        V::Bool(b) => serde_json::Value::Bool(*b),
        V::Num(n) => serde_json::from_str(n).unwrap(),
        V::Str(s) => serde_json::Value::String(s.clone()),
        V::Arr(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        V::Obj(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect())
        }
    }
}
