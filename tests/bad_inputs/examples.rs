//! The other examples (`dead_relu`, `vanishing_gradients`, `convergence`, `bench`,
//! `activations`) on bad flags and sizes.
