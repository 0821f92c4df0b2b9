//! Limits on the shape of a request's `params`: how deep arrays and objects nest, and how long an
//! array may be. Checked before authorization and before any handler walks the value, so a hostile
//! body costs one pass and a clear refusal.
//!
//! The walk goes one level at a time (breadth first), so the shallowest problem is the one reported:
//! a too-long array is named before anything deeper, and nesting is refused as soon as a container
//! sits deeper than the limit. Only containers are visited.

/// One node of a decoded JSON value, as far as nesting is concerned.
pub trait Nested: Sized {
    /// `None` for a scalar; for an array, `(true, its items)`; for an object, `(false, its values)`.
    fn children(&self) -> Option<(bool, Vec<Self>)>;
}

/// What is wrong with a value's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A container sits deeper than the depth limit (the value itself is at depth 1).
    TooDeep,
    /// The shallowest array longer than the limit (first in breadth-first order), by its length.
    ArrayTooLong(usize),
}

/// Check `value` against `max_depth` nested containers and `max_array` items per array.
pub fn check_nesting<V: Nested>(
    value: V,
    max_depth: usize,
    max_array: usize,
) -> Result<(), Violation> {
    let mut level = match value.children() {
        Some(children) => vec![children],
        None => return Ok(()),
    };
    let mut depth = 1;
    while !level.is_empty() {
        if depth > max_depth {
            return Err(Violation::TooDeep);
        }
        let mut nested = Vec::new();
        for (is_array, children) in level {
            if is_array && children.len() > max_array {
                return Err(Violation::ArrayTooLong(children.len()));
            }
            nested.extend(children.iter().filter_map(Nested::children));
        }
        level = nested;
        depth += 1;
    }
    Ok(())
}

impl Nested for &serde_json::Value {
    fn children(&self) -> Option<(bool, Vec<Self>)> {
        match self {
            serde_json::Value::Array(items) => Some((true, items.iter().collect())),
            serde_json::Value::Object(members) => Some((false, members.values().collect())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn check(value: &Value, depth: usize, array: usize) -> Result<(), Violation> {
        check_nesting(value, depth, array)
    }

    #[test]
    fn scalars_and_shallow_values_pass() {
        assert_eq!(check(&json!(1), 0, 0), Ok(()));
        assert_eq!(check(&json!({"a": 1, "b": [1, 2]}), 2, 2), Ok(()));
        assert_eq!(check(&json!([]), 1, 0), Ok(()));
    }

    #[test]
    fn depth_counts_containers() {
        assert_eq!(check(&json!({"a": {"b": {}}}), 3, 10), Ok(()));
        assert_eq!(
            check(&json!({"a": {"b": {}}}), 2, 10),
            Err(Violation::TooDeep)
        );
        assert_eq!(check(&json!({}), 0, 10), Err(Violation::TooDeep));
    }

    #[test]
    fn the_shallowest_long_array_is_reported() {
        let value = json!({"deep": [[1, 2, 3, 4]], "shallow": [1, 2, 3]});
        assert_eq!(check(&value, 10, 2), Err(Violation::ArrayTooLong(3)));
        // a long array above the depth limit is reported before the nesting
        assert_eq!(
            check(&json!([1, 2, 3, [[[]]]]), 2, 2),
            Err(Violation::ArrayTooLong(4))
        );
    }

    #[test]
    fn deep_values_stop_at_the_limit() {
        let mut value = json!(0);
        for _ in 0..1_000 {
            value = json!([value]);
        }
        assert_eq!(check(&value, 64, 10), Err(Violation::TooDeep));
        assert_eq!(check(&value, 1_000, 10), Ok(()));
    }
}
