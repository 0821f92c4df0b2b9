//! Limits on the shape of a request's `params`: how deep arrays and objects nest, and how long an
//! array may be. Checked before authorization and before any handler walks the value, so a hostile
//! body costs one pass and a clear refusal.
//!
//! The walk goes one level at a time (breadth first), so the shallowest problem is the one reported:
//! a too-long array is named before anything deeper, and nesting is refused as soon as a container
//! sits deeper than the limit. Only containers are visited.

/// One node of a decoded JSON value, as far as nesting is concerned.
pub trait Nested: Sized {
    /// Whether this is an array (and how long), an object, or a scalar.
    fn shape(&self) -> Shape;

    /// Appends the items or member values of this container that are containers themselves, in
    /// order: scalars never matter to the walk, so they are never collected.
    fn push_nested(&self, nested: &mut Vec<Self>);
}

/// What a node is, as far as nesting is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    /// An array of this many items.
    Array(usize),
    Object,
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
    if value.shape() == Shape::Scalar {
        return Ok(());
    }
    if max_depth == 0 {
        return Err(Violation::TooDeep);
    }
    // The value itself is visited without a buffer: `params` without nested containers (most of
    // them) allocate nothing.
    let mut level = Vec::new();
    visit(&value, max_array, &mut level)?;
    // Two buffers swapped level after level, so a walk allocates only while a level outgrows them.
    let mut nested = Vec::new();
    let mut depth = 2;
    while !level.is_empty() {
        if depth > max_depth {
            return Err(Violation::TooDeep);
        }
        for container in level.drain(..) {
            visit(&container, max_array, &mut nested)?;
        }
        std::mem::swap(&mut level, &mut nested);
        depth += 1;
    }
    Ok(())
}

/// Checks a container's own length (before reading its items), then queues its nested containers.
fn visit<V: Nested>(container: &V, max_array: usize, nested: &mut Vec<V>) -> Result<(), Violation> {
    if let Shape::Array(length) = container.shape() {
        if length > max_array {
            return Err(Violation::ArrayTooLong(length));
        }
    }
    container.push_nested(nested);
    Ok(())
}

impl Nested for &serde_json::Value {
    fn shape(&self) -> Shape {
        match self {
            serde_json::Value::Array(items) => Shape::Array(items.len()),
            serde_json::Value::Object(_) => Shape::Object,
            _ => Shape::Scalar,
        }
    }

    fn push_nested(&self, nested: &mut Vec<Self>) {
        let is_container = |child: &&serde_json::Value| child.is_array() || child.is_object();
        match self {
            serde_json::Value::Array(items) => nested.extend(items.iter().filter(is_container)),
            serde_json::Value::Object(members) => {
                nested.extend(members.values().filter(is_container));
            }
            _ => {}
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
    fn only_containers_are_queued_in_order() {
        let value = json!({"a": 1, "b": [2, [3]], "c": "x", "d": {}});
        let mut nested = Vec::new();
        (&value).push_nested(&mut nested);
        assert_eq!(nested, [&json!([2, [3]]), &json!({})]);
        assert_eq!((&value).shape(), Shape::Object);
        assert_eq!((&json!([1, 2])).shape(), Shape::Array(2));
        assert_eq!((&json!("x")).shape(), Shape::Scalar);
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
