//! Batch bodies: a bare JSON array, or an object that wraps it under one
//! key (`{"orders": [...]}`) — the API takes both — parsed item by item,
//! so that one bad item is answered on its own and never blocks the rest.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::http::error::{ApiError, FieldProblem};

/// The items of a batch body whose list is called `key`, at most `max`.
pub fn items(body: Value, key: &str, max: usize) -> Result<Vec<Value>, ApiError> {
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove(key) {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ApiError::invalid(key, "must be a JSON array")),
            None => {
                return Err(ApiError::invalid(
                    "body",
                    format!("send a JSON array, or an object with the array under {key:?}"),
                ))
            }
        },
        _ => {
            return Err(ApiError::invalid(
                "body",
                format!("send a JSON array, or an object with the array under {key:?}"),
            ))
        }
    };
    if items.len() > max {
        return Err(ApiError::invalid(
            key,
            format!(
                "holds {} items; send at most {max} per request",
                items.len()
            ),
        ));
    }
    Ok(items)
}

/// One item as `T`; a problem names the field that did not fit
/// (`orders[3].city: invalid type: integer `5`, expected a string`).
pub fn item<T: DeserializeOwned>(value: Value, key: &str, index: usize) -> Result<T, FieldProblem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        FieldProblem {
            field: if path == "." {
                format!("{key}[{index}]")
            } else {
                format!("{key}[{index}].{path}")
            },
            message: e.into_inner().to_string(),
        }
    })
}
