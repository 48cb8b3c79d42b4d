//! Python's `str()` of a property value, as Nova computes it before storing.
//!
//! Nova stores `safe_truncate(str(value), 255)` for every image property
//! (`get_system_metadata_from_image` in nova/utils.py). Property values are
//! JSON values, so `str()` sees Python's `str`, `bool`, `None`, `int`,
//! `float`, `list` and `dict`; nested values are rendered with `repr()`.

mod integer;
mod printable;
mod render;
pub(crate) mod truncate;
pub mod value;

pub use integer::int;
pub(crate) use integer::{is_python_space, python_int_of_value, write_i64};
pub(crate) use render::write_python_str_truncated;
pub use render::{json_dumps, python_float_repr, repr, to_str};

use crate::python::value::Value;

/// Python's truthiness of a JSON value: `None`, `False`, `0`, `0.0`, `""`,
/// `[]` and `{}` are false.
pub(crate) fn python_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => !i.is_zero(),
        // NaN and the infinities are true, as in Python.
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::List(a) => !a.is_empty(),
        Value::Dict(o) => !o.is_empty(),
    }
}
