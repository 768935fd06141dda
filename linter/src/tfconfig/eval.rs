//! Evaluation of the expressions configuration mode may read: literals, `var.*` with a literal
//! default, a module argument or a tfvars value, `local.*` built from those, and a few pure
//! functions. Anything else is unknown, with the reason `--verbose` prints; it is never guessed.

use std::cell::RefCell;
use std::collections::HashMap;

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Element, Template};
use serde_json::{Map, Number, Value};

pub use crate::config_resource::Unknown;

pub type Eval = Result<Value, Unknown>;

fn unknown<T>(why: impl Into<String>) -> Result<T, Unknown> {
    Err(Unknown(why.into()))
}

/// A `locals` entry: HCL, or a value of a `.tf.json` file (whose strings are templates).
#[derive(Clone, Copy)]
pub enum LocalDef<'a> {
    Hcl(&'a Expression),
    Json(&'a Value),
}

/// Locals are evaluated on first use and remembered, so a chain of locals costs its length.
enum LocalState {
    Busy,
    Done(Eval),
}

/// The names one module's expressions can see.
pub struct Scope<'a> {
    /// Variables: their value or why it is unknown.
    pub vars: HashMap<String, Eval>,
    pub locals: HashMap<String, LocalDef<'a>>,
    memo: RefCell<HashMap<String, LocalState>>,
}

/// Nesting limit: a deeper expression is unknown rather than a stack overflow.
const MAX_DEPTH: usize = 64;

impl<'a> Scope<'a> {
    pub fn new(vars: HashMap<String, Eval>, locals: HashMap<String, LocalDef<'a>>) -> Self {
        Self {
            vars,
            locals,
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// A scope with no names, for tfvars files (which are literal by definition).
    pub fn empty() -> Self {
        Self::new(HashMap::new(), HashMap::new())
    }

    pub fn eval(&self, expr: &Expression) -> Eval {
        self.eval_at(expr, 0)
    }

    fn eval_at(&self, expr: &Expression, depth: usize) -> Eval {
        if depth > MAX_DEPTH {
            return unknown("nested too deeply");
        }
        let d = depth + 1;
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => number(n.value()),
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(items) => items
                .iter()
                .map(|e| self.eval_at(e, d))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Expression::Object(object) => {
                let mut map = Map::new();
                for (key, value) in object {
                    let key = self.object_key(key, d)?;
                    map.insert(key, self.eval_at(value.expr(), d)?);
                }
                Ok(Value::Object(map))
            }
            Expression::StringTemplate(t) => self.template(t, d),
            Expression::HeredocTemplate(h) => self.template(&h.template, d),
            Expression::Parenthesis(p) => self.eval_at(p.inner(), d),
            Expression::Variable(v) => unknown(format!("refers to {}", v.as_str())),
            Expression::Conditional(c) => match self.eval_at(&c.cond_expr, d)? {
                Value::Bool(true) => self.eval_at(&c.true_expr, d),
                Value::Bool(false) => self.eval_at(&c.false_expr, d),
                _ => unknown("a condition that is not a boolean"),
            },
            Expression::FuncCall(call) => {
                if call.args.expand_final() || call.name.is_namespaced() {
                    return unknown(format!("calls {}()", call.name.name.as_str()));
                }
                let args = call
                    .args
                    .iter()
                    .map(|a| self.eval_at(a, d))
                    .collect::<Result<Vec<_>, _>>()?;
                function(call.name.name.as_str(), args)
            }
            Expression::Traversal(t) => self.traversal(&t.expr, &t.operators, d),
            Expression::UnaryOp(op) => {
                let value = self.eval_at(&op.expr, d)?;
                match (op.operator.value(), value) {
                    (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOperator::Neg, Value::Number(n)) => n
                        .as_i64()
                        .map(|i| Value::from(-i))
                        .or_else(|| {
                            n.as_f64()
                                .and_then(|f| Number::from_f64(-f))
                                .map(Value::Number)
                        })
                        .ok_or_else(|| Unknown("a negated number out of range".to_owned())),
                    _ => unknown("an operator applied to the wrong type"),
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval_at(&op.lhs_expr, d)?;
                let rhs = self.eval_at(&op.rhs_expr, d)?;
                binary(*op.operator.value(), &lhs, &rhs)
            }
            Expression::ForExpr(_) => unknown("a for expression"),
        }
    }

    fn object_key(&self, key: &ObjectKey, depth: usize) -> Result<String, Unknown> {
        match key {
            ObjectKey::Ident(ident) => Ok(ident.as_str().to_owned()),
            ObjectKey::Expression(expr) => to_text(&self.eval_at(expr, depth)?),
        }
    }

    fn template(&self, template: &Template, depth: usize) -> Eval {
        let mut text = String::new();
        for element in template {
            match element {
                Element::Literal(s) => text.push_str(s.value()),
                Element::Interpolation(i) => {
                    text.push_str(&to_text(&self.eval_at(&i.expr, depth)?)?);
                }
                Element::Directive(_) => return unknown("a template directive"),
            }
        }
        Ok(Value::String(text))
    }

    fn traversal(
        &self,
        root: &Expression,
        operators: &[hcl_edit::Decorated<TraversalOperator>],
        depth: usize,
    ) -> Eval {
        let (Expression::Variable(v), Some((op, rest))) = (root, operators.split_first()) else {
            let base = self.eval_at(root, depth)?;
            return self.walk(base, operators, depth);
        };
        let TraversalOperator::GetAttr(attr) = op.value() else {
            return unknown(format!("refers to {}", v.as_str()));
        };
        let first = (v.as_str(), attr.as_str());
        let base = match first {
            ("var", name) => match self.vars.get(name) {
                Some(value) => value.clone()?,
                None => return unknown(format!("var.{name} is not declared")),
            },
            ("local", name) => self.local(name, depth)?,
            (root, attr) => return unknown(format!("refers to {root}.{attr}")),
        };
        self.walk(base, rest, depth)
    }

    fn walk(
        &self,
        mut value: Value,
        operators: &[hcl_edit::Decorated<TraversalOperator>],
        depth: usize,
    ) -> Eval {
        for op in operators {
            let key = match op.value() {
                TraversalOperator::GetAttr(attr) => Value::String(attr.as_str().to_owned()),
                TraversalOperator::Index(expr) => self.eval_at(expr, depth + 1)?,
                TraversalOperator::LegacyIndex(i) => Value::from(*i.value()),
                _ => return unknown("a splat expression"),
            };
            value = match (value, key) {
                (Value::Object(mut map), Value::String(k)) => match map.remove(&k) {
                    Some(v) => v,
                    None => return unknown(format!("has no key {k:?}")),
                },
                (Value::Array(mut list), Value::Number(n)) => {
                    match n.as_u64().and_then(|i| usize::try_from(i).ok()) {
                        Some(i) if i < list.len() => list.swap_remove(i),
                        _ => return unknown("an index out of range"),
                    }
                }
                _ => return unknown("an index of the wrong type"),
            };
        }
        Ok(value)
    }

    fn local(&self, name: &str, depth: usize) -> Eval {
        match self.memo.borrow().get(name) {
            Some(LocalState::Done(value)) => return value.clone(),
            Some(LocalState::Busy) => return unknown(format!("local.{name} refers to itself")),
            None => {}
        }
        let Some(def) = self.locals.get(name).copied() else {
            return unknown(format!("local.{name} is not declared"));
        };
        self.memo
            .borrow_mut()
            .insert(name.to_owned(), LocalState::Busy);
        let value = match def {
            LocalDef::Hcl(expr) => self.eval_at(expr, depth + 1),
            LocalDef::Json(value) => self.json(value, depth + 1),
        }
        .map_err(|Unknown(why)| Unknown(format!("local.{name}: {why}")));
        self.memo
            .borrow_mut()
            .insert(name.to_owned(), LocalState::Done(value.clone()));
        value
    }

    /// A value from a `.tf.json` file: strings are templates (`"${var.x}"`), the rest literal.
    pub fn json(&self, value: &Value, depth: usize) -> Eval {
        if depth > MAX_DEPTH {
            return unknown("nested too deeply");
        }
        match value {
            Value::String(s) if s.contains("${") || s.contains("%{") => {
                match hcl_edit::parser::parse_template(s) {
                    Ok(template) => self.template(&template, depth + 1),
                    Err(_) => unknown("a template that does not parse"),
                }
            }
            Value::Array(list) => list
                .iter()
                .map(|v| self.json(v, depth + 1))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => map
                .iter()
                .filter(|(k, _)| k.as_str() != "//")
                .map(|(k, v)| Ok((k.clone(), self.json(v, depth + 1)?)))
                .collect::<Result<Map<_, _>, _>>()
                .map(Value::Object),
            other => Ok(other.clone()),
        }
    }
}

fn number(n: &hcl_edit::Number) -> Eval {
    if let Some(i) = n.as_i64() {
        Ok(Value::from(i))
    } else if let Some(u) = n.as_u64() {
        Ok(Value::from(u))
    } else {
        n.as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| Unknown("a number out of range".to_owned()))
    }
}

/// A value as it appears interpolated into a string.
fn to_text(value: &Value) -> Result<String, Unknown> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => unknown("a value that is not a string"),
    }
}

fn binary(op: BinaryOperator, lhs: &Value, rhs: &Value) -> Eval {
    use BinaryOperator as B;
    let numbers = || match (lhs.as_f64(), rhs.as_f64()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => unknown("arithmetic on values that are not numbers"),
    };
    Ok(match op {
        B::Eq => Value::Bool(lhs == rhs),
        B::NotEq => Value::Bool(lhs != rhs),
        B::And | B::Or => match (lhs, rhs) {
            (Value::Bool(a), Value::Bool(b)) => {
                Value::Bool(if op == B::And { *a && *b } else { *a || *b })
            }
            _ => return unknown("a logical operator on values that are not booleans"),
        },
        B::Less | B::LessEq | B::Greater | B::GreaterEq => {
            let (a, b) = numbers()?;
            Value::Bool(match op {
                B::Less => a < b,
                B::LessEq => a <= b,
                B::Greater => a > b,
                _ => a >= b,
            })
        }
        B::Plus | B::Minus | B::Mul => match (lhs.as_i64(), rhs.as_i64()) {
            (Some(a), Some(b)) => {
                let result = match op {
                    B::Plus => a.checked_add(b),
                    B::Minus => a.checked_sub(b),
                    _ => a.checked_mul(b),
                };
                result.map_or_else(|| unknown("an integer overflow"), |r| Ok(Value::from(r)))?
            }
            _ => return unknown("arithmetic that is not on integers"),
        },
        B::Div | B::Mod => return unknown("a division"),
    })
}

/// The pure functions whose result configuration mode computes; others are unknown.
fn function(name: &str, mut args: Vec<Value>) -> Eval {
    let one = |args: &mut Vec<Value>| {
        if args.len() == 1 {
            Ok(args.remove(0))
        } else {
            unknown(format!("{name}() with {} arguments", args.len()))
        }
    };
    let text = |args: &mut Vec<Value>| match one(args)? {
        Value::String(s) => Ok(s),
        _ => unknown(format!("{name}() of a value that is not a string")),
    };
    match name {
        "jsonencode" => serde_json::to_string(&one(&mut args)?)
            .map(Value::String)
            .map_err(|e| Unknown(e.to_string())),
        "tostring" => to_text(&one(&mut args)?).map(Value::String),
        "tolist" | "toset" | "tomap" | "tonumber" | "tobool" => one(&mut args),
        "lower" => Ok(Value::String(text(&mut args)?.to_lowercase())),
        "upper" => Ok(Value::String(text(&mut args)?.to_uppercase())),
        "trimspace" => Ok(Value::String(text(&mut args)?.trim().to_owned())),
        "concat" => {
            let mut out = Vec::new();
            for arg in args {
                match arg {
                    Value::Array(list) => out.extend(list),
                    _ => return unknown("concat() of a value that is not a list"),
                }
            }
            Ok(Value::Array(out))
        }
        "merge" => {
            let mut out = Map::new();
            for arg in args {
                match arg {
                    Value::Object(map) => out.extend(map),
                    Value::Null => {}
                    _ => return unknown("merge() of a value that is not an object"),
                }
            }
            Ok(Value::Object(out))
        }
        _ => unknown(format!("calls {name}()")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn eval(scope: &Scope<'_>, text: &str) -> Eval {
        scope.eval(&hcl_edit::parser::parse_expr(text).unwrap())
    }

    #[test]
    fn literals_variables_and_locals() {
        let local_exprs: Vec<(String, Expression)> = [
            ("port", "22"),
            ("cidrs", "[\"0.0.0.0/0\", local.extra]"),
            ("extra", "\"::/0\""),
            ("loop", "local.loop"),
            ("image", "\"${var.repo}:latest\""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), hcl_edit::parser::parse_expr(v).unwrap()))
        .collect();
        let locals = local_exprs
            .iter()
            .map(|(k, e)| (k.clone(), LocalDef::Hcl(e)))
            .collect();
        let vars = HashMap::from([
            ("repo".to_owned(), Ok(json!("nginx"))),
            (
                "ami".to_owned(),
                Err(Unknown("var.ami has no default".to_owned())),
            ),
        ]);
        let scope = Scope::new(vars, locals);
        assert_eq!(eval(&scope, "local.port"), Ok(json!(22)));
        assert_eq!(
            eval(&scope, "local.cidrs"),
            Ok(json!(["0.0.0.0/0", "::/0"]))
        );
        assert_eq!(eval(&scope, "local.image"), Ok(json!("nginx:latest")));
        assert_eq!(eval(&scope, "local.cidrs[1]"), Ok(json!("::/0")));
        assert!(eval(&scope, "local.loop").is_err());
        assert!(eval(&scope, "var.ami").is_err());
        assert!(eval(&scope, "aws_instance.web.id").is_err());
        assert!(eval(&scope, "file(\"x\")").is_err());
        assert_eq!(eval(&scope, "true ? \"a\" : var.ami"), Ok(json!("a")));
        assert_eq!(
            eval(&scope, "jsonencode([{image = \"app\"}])"),
            Ok(json!("[{\"image\":\"app\"}]"))
        );
        assert_eq!(eval(&scope, "1 + 2 == 3"), Ok(json!(true)));
    }
}
