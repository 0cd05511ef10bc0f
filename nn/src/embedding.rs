//! [`Embedding`]: a lookup table of learnable vectors, PyTorch's `nn.Embedding`.

use autograd::Var;
use tensor::{shape_panic, Rng, Tensor};

use crate::module::{impl_display_via_module, join_name, Module};

/// Maps each whole-number index i in the input to row i of a `[num_embeddings, embedding_dim]`
/// table W (initialised N(0, 1), as PyTorch). The gradient of a row is the sum of the
/// gradients of every position that picked it.
///
/// # Shapes
/// input `[*]` of whole-number `f32` indices → output `[*, embedding_dim]`.
pub struct Embedding {
    /// The table W, `[num_embeddings, embedding_dim]`.
    pub weight: Var,
}

impl Embedding {
    /// A table of `num_embeddings` vectors of length `embedding_dim`, drawn from N(0, 1).
    pub fn new(num_embeddings: usize, embedding_dim: usize, rng: &mut Rng) -> Embedding {
        Embedding {
            weight: Var::parameter(Tensor::randn([num_embeddings, embedding_dim], rng)),
        }
    }

    /// Number of vectors in the table.
    pub fn num_embeddings(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Length of each vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.dims()[1]
    }
}

impl Module for Embedding {
    /// # Panics
    /// If an input value is not a whole number in `0..num_embeddings`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let n = self.num_embeddings();
        let ids = x.value();
        let idx: Vec<usize> = ids
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if v < 0.0 || v.fract() != 0.0 || v as usize >= n {
                    shape_panic(
                        "Embedding",
                        format_args!(
                            "index {v} at position {i} of input {:?} is not in 0..{n}",
                            ids.dims()
                        ),
                    );
                }
                v as usize
            })
            .collect();
        let mut out = ids.dims().to_vec();
        out.push(self.embedding_dim());
        self.weight.index_select(0, &idx).reshape(out)
    }

    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        f(&join_name(prefix, "weight"), &self.weight);
    }

    fn describe(&self) -> String {
        format!(
            "Embedding({}, {})",
            self.num_embeddings(),
            self.embedding_dim()
        )
    }
}

impl_display_via_module!(Embedding);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_rows_and_accumulates_repeats() {
        let e = Embedding::new(4, 2, &mut tensor::rng(0));
        e.weight
            .set_value(Tensor::arange(0.0, 8.0, 1.0).reshape([4, 2]));
        let ids = Var::constant(Tensor::from_vec(vec![3.0, 0.0, 3.0, 1.0], [2, 2]));
        let y = e.forward(&ids);
        assert_eq!(y.dims(), [2, 2, 2]);
        assert_eq!(
            y.value().to_vec(),
            vec![6.0, 7.0, 0.0, 1.0, 6.0, 7.0, 2.0, 3.0]
        );
        y.sum_all().backward();
        // row 3 picked twice, rows 0 and 1 once, row 2 never
        assert_eq!(
            e.weight.grad().unwrap().to_vec(),
            vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 2.0, 2.0]
        );
    }

    #[test]
    fn init_is_standard_normal_and_display() {
        let e = Embedding::new(100, 50, &mut tensor::rng(1));
        let w = e.weight.value();
        let mean = w.mean_all();
        let var = w.var_all(false);
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        assert_eq!(e.to_string(), "Embedding(100, 50)");
        assert_eq!(e.num_parameters(), 5000);
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let e = Embedding::new(3, 2, &mut tensor::rng(2));
        let y = e.forward(&Var::constant(Tensor::zeros([0])));
        assert_eq!(y.dims(), [0, 2]);
    }

    #[test]
    #[should_panic(expected = "Embedding: index 5 at position 1 of input [2] is not in 0..3")]
    fn out_of_range_index_panics() {
        let e = Embedding::new(3, 2, &mut tensor::rng(3));
        e.forward(&Var::constant(Tensor::from_vec(vec![0.0, 5.0], [2])));
    }
}
