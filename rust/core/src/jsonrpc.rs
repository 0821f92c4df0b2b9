//! Validation of JSON-RPC 2.0 messages as MCP uses them.
//!
//! The rules live here once and run over any JSON representation through [`JsonValue`]: the Python
//! bindings implement it for the objects orjson decodes (validation reads a handful of top-level
//! members, so it costs the same for any body size); it is also implemented here for `serde_json`
//! (tests, fuzz targets).
//!
//! Decisions: ids are strings or integers that fit in an `i64` (MCP forbids null ids; booleans,
//! floats and bigger integers are refused); a response has exactly one of `result` and `error`, and
//! its id may be null only next to an `error`; duplicate keys resolve to the last one (the decoder's
//! job); an empty batch is one invalid message.

/// JSON-RPC "Invalid Request": JSON that is not a valid JSON-RPC message.
pub const INVALID_REQUEST: i32 = -32600;

/// The JSON types validation distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Integer,
    Float,
    String,
    Array,
    Object,
}

/// The members of a message (and of its `error` object) that validation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Jsonrpc,
    Id,
    Method,
    Params,
    Result,
    Error,
    Code,
    Message,
}

impl Member {
    /// The key as it appears in JSON.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Jsonrpc => "jsonrpc",
            Self::Id => "id",
            Self::Method => "method",
            Self::Params => "params",
            Self::Result => "result",
            Self::Error => "error",
            Self::Code => "code",
            Self::Message => "message",
        }
    }
}

/// What validation needs from one JSON value of any representation.
pub trait JsonValue: Sized {
    fn kind(&self) -> Kind;
    /// The member `member` of an object (the last one when the key is repeated); `None` when absent
    /// or when `self` is not an object.
    fn member(&self, member: Member) -> Option<Self>;
    /// Whether `self` is the string `expected`.
    fn is_str(&self, expected: &str) -> bool;
    /// Whether an integer fits in an `i64` (only asked for [`Kind::Integer`]).
    fn fits_i64(&self) -> bool;
}

/// A validated message, holding the values it was made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<V> {
    Request {
        id: V,
        method: V,
        params: Option<V>,
    },
    Notification {
        method: V,
        params: Option<V>,
    },
    /// `id` may be JSON null (only next to an error).
    Response {
        id: V,
        outcome: Outcome<V>,
    },
    /// `id` is kept whenever it was present and valid.
    Invalid {
        id: Option<V>,
        message: &'static str,
    },
}

/// The one of `result` and `error` a response carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<V> {
    Result(V),
    Error(V),
}

pub const NOT_AN_OBJECT: &str = "message must be a JSON object";
pub const BAD_VERSION: &str = "`jsonrpc` must be \"2.0\"";
pub const BAD_ID: &str = "`id` must be a string or an integer";
pub const ID_OUT_OF_RANGE: &str = "`id` must fit in a signed 64-bit integer";
pub const BAD_METHOD: &str = "`method` must be a string";
pub const MISSING_METHOD: &str = "`method` is missing";
pub const BAD_PARAMS: &str = "`params` must be an object or an array";
pub const RESULT_AND_ERROR: &str = "a response must have exactly one of `result` and `error`";
pub const MISSING_RESPONSE_ID: &str = "a response must have an `id`";
pub const BAD_ERROR: &str =
    "`error` must be an object with an integer `code` and a string `message`";
pub const EMPTY_BATCH: &str = "a batch must not be empty";

/// Why an id cannot be used, if it cannot.
fn id_problem<V: JsonValue>(id: &V) -> Option<&'static str> {
    match id.kind() {
        Kind::String => None,
        Kind::Integer if id.fits_i64() => None,
        Kind::Integer => Some(ID_OUT_OF_RANGE),
        _ => Some(BAD_ID),
    }
}

/// Validate one message (a batch element or a whole body).
///
/// Checks run in this order, and the first failure is reported: object, `jsonrpc`, then for calls
/// `id`, `method`, `params`, and for responses exactly one of `result`/`error`, `id`, `error` shape.
pub fn classify<V: JsonValue>(value: V) -> Message<V> {
    if value.kind() != Kind::Object {
        return Message::Invalid {
            id: None,
            message: NOT_AN_OBJECT,
        };
    }
    let raw_id = value.member(Member::Id);
    let problem = raw_id.as_ref().and_then(id_problem);
    let id = if problem.is_none() { raw_id } else { None };
    let invalid = |id: Option<V>, message| Message::Invalid { id, message };
    if !value
        .member(Member::Jsonrpc)
        .is_some_and(|v| v.is_str("2.0"))
    {
        return invalid(id, BAD_VERSION);
    }
    if let Some(method) = value.member(Member::Method) {
        if let Some(problem) = problem {
            return invalid(None, problem);
        }
        if method.kind() != Kind::String {
            return invalid(id, BAD_METHOD);
        }
        let params = value.member(Member::Params);
        if params
            .as_ref()
            .is_some_and(|p| !matches!(p.kind(), Kind::Object | Kind::Array))
        {
            return invalid(id, BAD_PARAMS);
        }
        return match id {
            Some(id) => Message::Request { id, method, params },
            None => Message::Notification { method, params },
        };
    }
    let outcome = match (value.member(Member::Result), value.member(Member::Error)) {
        (None, None) => return invalid(id, MISSING_METHOD),
        (Some(_), Some(_)) => return invalid(id, RESULT_AND_ERROR),
        (Some(result), None) => Outcome::Result(result),
        (None, Some(error)) => Outcome::Error(error),
    };
    let is_error = matches!(outcome, Outcome::Error(_));
    let id = match (id, value.member(Member::Id)) {
        (Some(id), _) => id,
        (None, None) => return invalid(None, MISSING_RESPONSE_ID),
        (None, Some(null)) if is_error && null.kind() == Kind::Null => null,
        (None, Some(_)) => return invalid(None, problem.unwrap_or(BAD_ID)),
    };
    if let Outcome::Error(error) = &outcome {
        let code_ok = error
            .member(Member::Code)
            .is_some_and(|c| c.kind() == Kind::Integer);
        let message_ok = error
            .member(Member::Message)
            .is_some_and(|m| m.kind() == Kind::String);
        if !(code_ok && message_ok) {
            let id = if id.kind() == Kind::Null {
                None
            } else {
                Some(id)
            };
            return invalid(id, BAD_ERROR);
        }
    }
    Message::Response { id, outcome }
}

/// A whole body: one message, or a batch with one entry per element.
#[derive(Debug, Clone, PartialEq)]
pub enum Body<V> {
    Single(Message<V>),
    Batch(Vec<Message<V>>),
}

/// Classify a parsed body (an empty batch is a single invalid message).
pub fn classify_body<V: JsonValue>(value: V, elements: impl FnOnce(V) -> Vec<V>) -> Body<V> {
    if value.kind() != Kind::Array {
        return Body::Single(classify(value));
    }
    let elements = elements(value);
    if elements.is_empty() {
        return Body::Single(Message::Invalid {
            id: None,
            message: EMPTY_BATCH,
        });
    }
    Body::Batch(elements.into_iter().map(classify).collect())
}

/// `serde_json` values, for the tests and the fuzz targets (the bindings use orjson's objects).
impl JsonValue for &serde_json::Value {
    fn kind(&self) -> Kind {
        match self {
            serde_json::Value::Null => Kind::Null,
            serde_json::Value::Bool(_) => Kind::Bool,
            serde_json::Value::Number(n) if n.is_f64() => Kind::Float,
            serde_json::Value::Number(_) => Kind::Integer,
            serde_json::Value::String(_) => Kind::String,
            serde_json::Value::Array(_) => Kind::Array,
            serde_json::Value::Object(_) => Kind::Object,
        }
    }

    fn member(&self, member: Member) -> Option<Self> {
        self.as_object()?.get(member.key())
    }

    fn is_str(&self, expected: &str) -> bool {
        self.as_str() == Some(expected)
    }

    fn fits_i64(&self) -> bool {
        self.is_i64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value as J};

    fn body(text: &str) -> J {
        serde_json::from_str(text).expect("test bodies are JSON")
    }

    fn elements(value: &J) -> Vec<&J> {
        value
            .as_array()
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    }

    fn single(value: &J) -> Message<&J> {
        match classify_body(value, elements) {
            Body::Single(message) => message,
            Body::Batch(_) => panic!("expected one message for {value}"),
        }
    }

    #[test]
    fn request_notification_response() {
        let request =
            body(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#);
        let Message::Request { id, method, params } = single(&request) else {
            panic!("a request")
        };
        assert_eq!(
            (id, method, params),
            (&json!(7), &json!("tools/call"), Some(&json!({"name": "x"})))
        );

        let notification = body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        let expected = Message::Notification {
            method: &json!("notifications/initialized"),
            params: None,
        };
        assert_eq!(single(&notification), expected);

        let response = body(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#);
        let expected = Message::Response {
            id: &json!("a"),
            outcome: Outcome::Result(&json!({})),
        };
        assert_eq!(single(&response), expected);

        let null_id_error =
            body(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"m"}}"#);
        let error = json!({"code": -1, "message": "m"});
        assert_eq!(
            single(&null_id_error),
            Message::Response {
                id: &J::Null,
                outcome: Outcome::Error(&error)
            }
        );
    }

    #[test]
    fn invalid_messages_say_what_is_wrong() {
        let (one, two, x) = (json!(1), json!(2), json!("x"));
        let cases = [
            ("3", None, NOT_AN_OBJECT),
            (r#"{"id":1,"method":"m"}"#, Some(&one), BAD_VERSION),
            (
                r#"{"jsonrpc":2.0,"id":"x","method":"m"}"#,
                Some(&x),
                BAD_VERSION,
            ),
            (r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#, None, BAD_ID),
            (r#"{"jsonrpc":"2.0","id":true,"method":"m"}"#, None, BAD_ID),
            (r#"{"jsonrpc":"2.0","id":1.0,"method":"m"}"#, None, BAD_ID),
            (
                r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"m"}"#,
                None,
                ID_OUT_OF_RANGE,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":3}"#,
                Some(&one),
                BAD_METHOD,
            ),
            (r#"{"jsonrpc":"2.0","id":1}"#, Some(&one), MISSING_METHOD),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"m","params":null}"#,
                Some(&one),
                BAD_PARAMS,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#,
                Some(&one),
                RESULT_AND_ERROR,
            ),
            (r#"{"jsonrpc":"2.0","result":1}"#, None, MISSING_RESPONSE_ID),
            (r#"{"jsonrpc":"2.0","id":null,"result":1}"#, None, BAD_ID),
            (
                r#"{"jsonrpc":"2.0","id":2,"error":{"code":"x","message":"m"}}"#,
                Some(&two),
                BAD_ERROR,
            ),
            (
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":1}}"#,
                None,
                BAD_ERROR,
            ),
            ("[]", None, EMPTY_BATCH),
        ];
        for (text, id, message) in cases {
            assert_eq!(
                single(&body(text)),
                Message::Invalid { id, message },
                "{text}"
            );
        }
    }

    #[test]
    fn extreme_ids() {
        let smallest = body(r#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"m"}"#);
        assert!(
            matches!(single(&smallest), Message::Request { id, .. } if id.as_i64() == Some(i64::MIN))
        );
        let huge = body(r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"m"}"#);
        assert_eq!(
            single(&huge),
            Message::Invalid {
                id: None,
                message: ID_OUT_OF_RANGE
            }
        );
    }

    #[test]
    fn batch_elements_are_classified_one_by_one() {
        let batch =
            body(r#"[{"jsonrpc":"2.0","method":"m"}, 1, {"jsonrpc":"2.0","id":3,"method":[]}]"#);
        let Body::Batch(messages) = classify_body(&batch, elements) else {
            panic!("a batch")
        };
        assert!(matches!(messages[0], Message::Notification { .. }));
        assert_eq!(
            messages[1],
            Message::Invalid {
                id: None,
                message: NOT_AN_OBJECT
            }
        );
        assert_eq!(
            messages[2],
            Message::Invalid {
                id: Some(&json!(3)),
                message: BAD_METHOD
            }
        );
    }
}
