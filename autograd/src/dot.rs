//! The graph as a picture: [`Var::to_dot`] writes Graphviz DOT (render it with
//! `dot -Tsvg graph.dot > graph.svg`). Boxes are `Var`s (parameters blue, constants grey), ellipses
//! are the `Function`s that produced them, and arrows go the way the forward pass went.

use std::collections::HashSet;
use std::fmt::Write;

use tensor::Tensor;

use crate::var::{Origin, Var};

/// Tensors with at most this many elements show their values (and gradients) in the picture.
const SHOWN: usize = 6;

impl Var {
    /// Graphviz DOT of the graph that produced this `Var`: one box per `Var` (its name or
    /// number, shape, and — for tensors of at most 6 elements — value and gradient), one ellipse
    /// per op. Draw it before `backward()` frees the graph, or after `backward_retain()` to see
    /// the leaves' gradients; a freed op shows as `(freed)` without its inputs.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::Tensor;
    ///
    /// let x = Var::parameter(Tensor::from_vec(vec![2.0], [1])).named("x");
    /// let y = (&x * &x).named("y");
    /// let dot = y.to_dot();
    /// assert!(dot.starts_with("digraph"));
    /// assert!(dot.contains("label=\"mul\""));
    /// ```
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph autograd {\n  rankdir=LR;\n  node [fontname=\"monospace\", fontsize=10];\n",
        );
        let mut seen = HashSet::from([self.id()]);
        let mut stack = vec![self.clone()];
        while let Some(var) = stack.pop() {
            let id = var.id();
            let (style, freed) = match &*var.0.origin.borrow() {
                Origin::Leaf if var.requires_grad() => {
                    (", style=filled, fillcolor=\"#cfe2ff\"", None)
                }
                Origin::Leaf => (", style=filled, fillcolor=\"#e9ecef\"", None),
                Origin::Op(_) => ("", None),
                Origin::Freed(name) => ("", Some(*name)),
            };
            let bold = if var.ptr_eq(self) { ", penwidth=2" } else { "" };
            let _ = writeln!(
                out,
                "  v{id} [shape=box, label=\"{}\"{style}{bold}];",
                escape(&var_label(&var))
            );
            if let Some(name) = freed {
                let _ = writeln!(
                    out,
                    "  op{id} [shape=ellipse, label=\"{name} (freed)\"];\n  op{id} -> v{id};"
                );
            }
            if let Origin::Op(op) = &*var.0.origin.borrow() {
                let _ = writeln!(
                    out,
                    "  op{id} [shape=ellipse, label=\"{}\"];\n  op{id} -> v{id};",
                    op.function.name()
                );
                for input in &op.inputs {
                    let _ = writeln!(out, "  v{} -> op{id};", input.id());
                    if seen.insert(input.id()) {
                        stack.push(input.clone());
                    }
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

fn var_label(var: &Var) -> String {
    let mut label = var.name().unwrap_or_else(|| format!("#{}", var.id()));
    let value = var.value();
    let _ = write!(label, "\n{:?}", value.shape());
    if value.numel() <= SHOWN {
        let _ = write!(label, "\nvalue {}", values(&value));
        if let Some(g) = var.grad() {
            let _ = write!(label, "\ngrad {}", values(&g));
        }
    }
    label
}

fn values(t: &Tensor) -> String {
    let parts: Vec<String> = t.data().iter().map(|v| format!("{v:.4}")).collect();
    format!("[{}]", parts.join(", "))
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_has_every_var_op_and_edge() {
        let x = Var::parameter(Tensor::from_vec(vec![2.0], [1])).named("x");
        let c = Var::constant(Tensor::from_vec(vec![3.0], [1])).named("c");
        let y = (&(&x * &c) + &x).named("y \"out\"");
        let dot = y.to_dot();
        for part in [
            "label=\"x\\n[1]\\nvalue [2.0000]\"",
            "label=\"c\\n[1]\\nvalue [3.0000]\"",
            "label=\"y \\\"out\\\"\\n[1]\\nvalue [8.0000]\"",
            "label=\"mul\"",
            "label=\"add\"",
            "fillcolor=\"#cfe2ff\"",
            "fillcolor=\"#e9ecef\"",
            "penwidth=2",
        ] {
            assert!(dot.contains(part), "missing {part} in\n{dot}");
        }
        // mul ← x, c; add ← (x·c), x; and one edge from each op to its output
        assert_eq!(dot.matches(" -> ").count(), 6, "{dot}");
        assert!(dot.contains(&format!("v{} -> op{}", x.id(), y.id())));
        assert!(dot.ends_with("}\n"));
    }

    #[test]
    fn gradients_show_after_a_retained_backward_and_big_tensors_only_show_shapes() {
        let x = Var::parameter(Tensor::from_vec(vec![2.0], [1])).named("x");
        let big = Var::constant(Tensor::zeros([10])).named("big");
        let y = (&x * &x).sum_all();
        y.backward_retain();
        assert!(y.to_dot().contains("grad [4.0000]"));
        let dot = (&big + &x).to_dot();
        assert!(
            dot.contains("label=\"big\\n[10]\"]") || dot.contains("label=\"big\\n[10]\","),
            "{dot}"
        );
    }

    #[test]
    fn a_freed_graph_shows_the_op_without_its_inputs() {
        let x = Var::parameter(Tensor::from_vec(vec![2.0], [1]));
        let y = (&x * 3.0).sum_all();
        y.backward();
        let dot = y.to_dot();
        assert!(dot.contains("sum_all (freed)"), "{dot}");
        assert!(!dot.contains(&format!("v{} ->", x.id())));
    }
}
