//! cty types and values with Terraform's wire encodings of `DynamicValue`: msgpack (what
//! Terraform sends and what providers must reply with) and JSON (the fallback, and the format of
//! stored state handed to `UpgradeResourceState`). Unknown values, refined unknowns and
//! `dynamic` positions are covered. Protocol-free: no gRPC types here.
//!
//! ```
//! use tfplugin_cty::{Type, Value, msgpack};
//!
//! let ty = Type::object([("name", Type::String), ("size", Type::Number)]);
//! let value = Value::object([("name", Value::string("web")), ("size", Value::unknown())]);
//! let bytes = msgpack::encode(&value, &ty).unwrap();
//! assert_eq!(msgpack::decode(&bytes, &ty).unwrap(), value);
//! ```

mod codec;
mod error;
pub mod json;
pub mod msgpack;
mod number;
mod path;
mod types;
mod value;

pub use error::{DecodeError, EncodeError, TypeError};
pub use number::Number;
pub use path::{Path, PathStep};
pub use types::Type;
pub use value::{Refinements, Value};
