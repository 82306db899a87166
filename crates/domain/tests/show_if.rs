//! The show-if fixtures the terminal's JavaScript is tested against too
//! (the browser test reads the same file): the Rust rule must agree.

use doorstep_domain::survey::{shown_questions, SurveyDefinition};
use serde_json::Value;

#[test]
fn the_rust_rule_agrees_with_the_shared_fixtures() {
    let fixtures: Value = serde_json::from_str(include_str!("show_if.json")).unwrap();
    let survey: SurveyDefinition = serde_json::from_value(fixtures["survey"].clone()).unwrap();
    assert_eq!(survey.validate(), vec![], "the fixtures' survey is valid");
    let cases = fixtures["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let answers: Vec<(String, Value)> = case["answers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let expected: Vec<&str> = case["shown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            shown_questions(&survey, &answers),
            expected,
            "{}",
            case["name"]
        );
    }
}
