//! The graph as a picture: [`Var::to_dot`] writes Graphviz DOT (render it with
//! `dot -Tsvg graph.dot > graph.svg`). Boxes are `Var`s (parameters blue, constants grey, op
//! results white), ellipses are the `Function`s that produced them, and arrows go the way the
//! forward pass went. Every `Var` that holds a gradient shows it: leaves that require grad keep
//! theirs, and an intermediate result keeps its own when asked with [`Var::retain_grad`] (the
//! gradients are not copied anywhere else for the picture). A legend in the corner says all this.

use std::collections::HashSet;
use std::fmt::Write;

use tensor::Tensor;

use crate::var::{Origin, Var};

/// Tensors with at most this many elements show their values (and gradients) in the picture.
const SHOWN: usize = 6;

/// Fill colours of the leaf boxes, in the graph and in the legend.
const PARAMETER_FILL: &str = "#cfe2ff";
const CONSTANT_FILL: &str = "#e9ecef";

impl Var {
    /// Graphviz DOT of the graph that produced this `Var`: one box per `Var` (its name or
    /// number, shape, and — for tensors of at most 6 elements — value and gradient), one ellipse
    /// per op, and a legend. Draw it before `backward()` frees the graph, or after
    /// `backward_retain()` to see the gradients: every `Var` that kept one shows it (parameters
    /// always; intermediate results after [`Var::retain_grad`]). A freed op shows as `(freed)`
    /// without its inputs.
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
                Origin::Leaf if var.requires_grad() => (filled(PARAMETER_FILL), None),
                Origin::Leaf => (filled(CONSTANT_FILL), None),
                Origin::Op(_) => (String::new(), None),
                Origin::Freed(name) => (String::new(), Some(*name)),
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
        legend(&mut out);
        out.push_str("}\n");
        out
    }
}

fn filled(colour: &str) -> String {
    format!(", style=filled, fillcolor=\"{colour}\"")
}

/// The legend: one node whose label is an HTML-like table (Graphviz's `label=<...>`), in a
/// dashed cluster of its own. It is `shape=plain`, so the picture's `shape=box` nodes are still
/// exactly its `Var`s.
fn legend(out: &mut String) {
    let boxed = |fill: &str| format!(" border=\"1\" bgcolor=\"{fill}\"");
    let plain = String::new;
    let shown = format!("its value, when it has at most {SHOWN} elements");
    let rows = [
        (boxed(PARAMETER_FILL), "parameter", "a leaf that learns"),
        (
            boxed(CONSTANT_FILL),
            "constant",
            "a leaf that does not (data, targets)",
        ),
        (
            boxed("white"),
            "result",
            "a Var made by the op whose arrow points to it",
        ),
        (
            " border=\"2\"".to_string(),
            "bold",
            "the Var the picture was drawn from",
        ),
        (
            " border=\"1\" style=\"rounded\"".to_string(),
            "op",
            "the Function that made a result",
        ),
        (plain(), "arrow", "the way the forward pass went"),
        (
            plain(),
            "x [2, 3]",
            "a Var's name (or #number) and shape, then",
        ),
        (plain(), "value [..]", &shown),
        (
            plain(),
            "grad [..]",
            "d loss / d Var from backward(), where one is kept:",
        ),
        (
            plain(),
            "",
            "by every parameter, and by results after retain_grad()",
        ),
    ];
    out.push_str("  subgraph cluster_legend {\n");
    out.push_str("    label=\"legend\"; style=dashed; fontname=\"monospace\"; fontsize=10;\n");
    out.push_str("    legend [shape=plain, label=<<table border=\"0\" cellborder=\"0\">\n");
    for (look, mark, meaning) in rows {
        let _ = writeln!(
            out,
            "      <tr><td{look}>{mark}</td><td align=\"left\">{meaning}</td></tr>"
        );
    }
    out.push_str("    </table>>];\n  }\n");
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

    fn assert_has(dot: &str, parts: &[&str]) {
        for part in parts {
            assert!(dot.contains(part), "missing {part} in\n{dot}");
        }
    }

    #[test]
    fn the_picture_has_every_var_op_and_edge() {
        let x = Var::parameter(Tensor::from_vec(vec![2.0], [1])).named("x");
        let c = Var::constant(Tensor::from_vec(vec![3.0], [1])).named("c");
        let y = (&(&x * &c) + &x).named("y \"out\"");
        let dot = y.to_dot();
        assert_has(
            &dot,
            &[
                "label=\"x\\n[1]\\nvalue [2.0000]\"",
                "label=\"c\\n[1]\\nvalue [3.0000]\"",
                "label=\"y \\\"out\\\"\\n[1]\\nvalue [8.0000]\"",
                "label=\"mul\"",
                "label=\"add\"",
                "fillcolor=\"#cfe2ff\"",
                "fillcolor=\"#e9ecef\"",
                "penwidth=2",
            ],
        );
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
        let dot = y.to_dot();
        assert!(
            dot.contains("x\\n[1]\\nvalue [2.0000]\\ngrad [4.0000]"),
            "{dot}"
        );
        // an intermediate result keeps no gradient unless asked
        assert!(!dot.contains("grad [1.0000]"), "{dot}");
        let dot = (&big + &x).to_dot();
        assert!(
            dot.contains("label=\"big\\n[10]\"]") || dot.contains("label=\"big\\n[10]\","),
            "{dot}"
        );
    }

    #[test]
    fn every_var_that_kept_a_gradient_shows_it() {
        // y = (x·c)², c = 3: at x = 2, dy/dh = 2h = 12 for h = x·c, dy/dx = 12·3 = 36
        let x = Var::parameter(Tensor::from_vec(vec![2.0], [1])).named("x");
        let c = Var::constant(Tensor::from_vec(vec![3.0], [1])).named("c");
        let h = (&x * &c).named("h");
        let y = (&h * &h).named("y");
        for var in [&h, &y] {
            var.retain_grad();
        }
        y.backward_retain();
        let dot = y.to_dot();
        assert_has(
            &dot,
            &[
                "label=\"x\\n[1]\\nvalue [2.0000]\\ngrad [36.0000]\"",
                "label=\"h\\n[1]\\nvalue [6.0000]\\ngrad [12.0000]\"",
                "label=\"y\\n[1]\\nvalue [36.0000]\\ngrad [1.0000]\"",
                "label=\"c\\n[1]\\nvalue [3.0000]\"", // a constant: no gradient
            ],
        );
    }

    #[test]
    fn the_legend_explains_shapes_colours_and_lines() {
        let x = Var::parameter(Tensor::from_vec(vec![2.0], [1]));
        let dot = (&x * 2.0).to_dot();
        assert!(dot.contains("subgraph cluster_legend {"), "{dot}");
        assert!(dot.contains("legend [shape=plain, label=<<table"), "{dot}");
        assert_has(
            &dot,
            &[
                "<td border=\"1\" bgcolor=\"#cfe2ff\">parameter</td><td align=\"left\">a leaf that learns",
                "<td border=\"1\" bgcolor=\"#e9ecef\">constant</td>",
                "<td border=\"1\" bgcolor=\"white\">result</td>",
                "<td border=\"1\" style=\"rounded\">op</td>",
                "<td>value [..]</td>",
                "<td>grad [..]</td>",
                "retain_grad()",
            ],
        );
        // the legend adds no box and no edge: those still count the Vars, ops and links
        assert_eq!(dot.matches("shape=box").count(), 2, "{dot}");
        assert_eq!(dot.matches(" -> ").count(), 2, "{dot}");
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
