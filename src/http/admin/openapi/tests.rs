use actix_web::http::{Method, StatusCode};
use actix_web::test::{call_service, init_service, TestRequest};
use actix_web::{web, App, HttpResponse};
use serde_json::Value;
use warung_actors::domain::PRODUCT_CODE_PATTERN;

use super::document;

/// Every method a route could be registered for.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The admin API's operations; one more or fewer is a change of the API, made here on purpose.
const OPERATIONS: usize = 30;

fn described() -> Value {
    serde_json::to_value(document()).expect("the document is JSON")
}

/// Every `(method, path, operation)` of the document.
fn operations(document: &Value) -> Vec<(&str, &str, &Value)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |method| item.get(*method).map(|operation| (*method, path.as_str(), operation)))
        })
        .collect()
}

/// The routes themselves, without the token check, are asked each method on each documented
/// path: a method routed but not documented, or documented but not routed, fails. Anything the
/// routes do not take falls to the teapot.
#[actix_web::test]
async fn every_route_of_the_admin_scope_is_in_the_document_with_its_method_and_path() {
    let document = described();
    let unrouted = || async { HttpResponse::ImATeapot().finish() };
    let routes = super::super::routes(utoipa_actix_web::scope("/admin/api"));
    let app = init_service(App::new().service(routes).default_service(web::to(unrouted))).await;
    let paths = document["paths"].as_object().expect("paths");
    for (path, item) in paths {
        assert!(path.starts_with("/admin/api/"), "{path}");
        let uri = path.replace('{', "x").replace('}', "");
        for method in METHODS {
            let asked = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = call_service(&app, TestRequest::default().method(asked).uri(&uri).to_request()).await.status();
            let routed = status != StatusCode::IM_A_TEAPOT;
            assert_eq!(routed, item.get(method).is_some(), "{method} {path}: routed {routed}");
        }
    }
    assert_eq!(operations(&document).len(), OPERATIONS);
}

#[test]
fn every_operation_answers_the_token_check_and_every_answer_has_a_schema() {
    let document = described();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["security"][0]["bearer"], serde_json::json!([]));
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for (method, path, operation) in operations(&document) {
        let parameters: Vec<(&str, &str)> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
            .collect();
        let mut in_path: Vec<&str> = parameters.iter().filter(|(_, at)| *at == "path").map(|(n, _)| *n).collect();
        let mut templated: Vec<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        in_path.sort_unstable();
        templated.sort_unstable();
        assert_eq!(in_path, templated, "{method} {path}: each path parameter documented once");
        let mut unique = parameters.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), parameters.len(), "{method} {path}: a parameter twice");
        let responses = operation["responses"].as_object().expect("responses");
        for status in ["401", "403"] {
            assert!(responses.contains_key(status), "{method} {path} answers {status}");
        }
        if operation["requestBody"]["content"].get("application/json").is_some() {
            for status in ["400", "413", "415"] {
                assert!(responses.contains_key(status), "{method} {path} with a JSON body answers {status}");
            }
        }
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} succeeds somehow");
        for (status, response) in responses {
            // The exports answer CSV; everything else, errors included, answers JSON.
            let content = &response["content"];
            let schema = content.get("application/json").or_else(|| content.get("text/csv")).map(|c| &c["schema"]);
            assert!(schema.is_some_and(|s| s.is_object()), "{method} {path} {status} has a schema");
            assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
        }
    }
}

fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

#[test]
fn every_schema_the_document_names_is_in_it() {
    let document = described();
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}"));
        assert!(document["components"]["schemas"].get(name).is_some(), "{target} is missing");
    }
}

#[test]
fn a_product_code_is_documented_with_the_parsers_own_pattern() {
    let document = described();
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["ProductCode"]["pattern"], PRODUCT_CODE_PATTERN);
    let code = serde_json::json!({"$ref": "#/components/schemas/ProductCode"});
    for (method, path, operation) in operations(&document) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["name"] == "code" {
                assert_eq!(parameter["schema"], code, "{method} {path}");
            }
        }
    }
    assert_eq!(schemas["NewProduct"]["properties"]["code"], code);
}
