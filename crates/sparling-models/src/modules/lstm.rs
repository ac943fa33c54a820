//! A bidirectional LSTM (PyTorch's `nn.LSTM(d, h, bidirectional=True, batch_first=True)`) laid
//! out for a CPU backend.
//!
//! Why not `burn::nn::BiLstm`: it runs each direction separately and each of the four gates as
//! two `Linear`s per time step, about 25 tensor ops per step and direction. On flex the cost of a
//! step is the per-op overhead (forward and backward), not arithmetic: the DigitCircle `cpu`
//! preset spent about 40 % of a training step in a 108-step BiLSTM of width 32. Here the input
//! projection of every step, gate and direction is one matmul before the loop, and each step
//! advances both directions at once with one batched `[2, N, H] x [2, H, 4H]` matmul and one
//! sigmoid over all gates: 14 ops per step for both directions.
//!
//! The function and the parameter count are PyTorch's: gates in the order input, forget, cell,
//! output; two biases (`b_ih`, `b_hh`); every weight and bias initialised from
//! `U(-1/sqrt(h), 1/sqrt(h))`.

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::s;

/// Bidirectional LSTM over `[batch, time, d_input]`, returning `[batch, time, 2 * hidden]`
/// (forward direction's state first, as PyTorch concatenates them).
#[derive(Module, Debug)]
pub struct BiLstm {
    /// Input weights and `b_ih` of both directions and all gates: `d_input -> 2 * 4 * hidden`.
    input: Linear,
    /// Recurrent weights per direction, `[2, hidden, 4 * hidden]`.
    recurrent: Param<Tensor<3>>,
    /// `b_hh` per direction, `[2, 1, 4 * hidden]` (kept separate to match PyTorch's parameters;
    /// it is added once, to the input projection).
    recurrent_bias: Param<Tensor<3>>,
    hidden: usize,
}

impl BiLstm {
    /// A bidirectional LSTM from `d_input` features to `hidden` per direction.
    pub fn new(d_input: usize, hidden: usize, device: &Device) -> Self {
        let k = 1.0 / (hidden.max(1) as f64).sqrt();
        let init = Initializer::Uniform { min: -k, max: k };
        Self {
            input: LinearConfig::new(d_input, 8 * hidden)
                .with_initializer(init.clone())
                .init(device),
            recurrent: init.init([2, hidden, 4 * hidden], device),
            recurrent_bias: init.init([2, 1, 4 * hidden], device),
            hidden,
        }
    }

    /// Width of the output (`2 * hidden`).
    pub fn d_output(&self) -> usize {
        2 * self.hidden
    }

    /// # Shapes
    /// `[batch, time, d_input] -> [batch, time, 2 * hidden]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [n, t, _] = x.dims();
        let h = self.hidden;
        let device = x.device();
        // [N, T, 8H] -> [T, 2, N, 4H]; direction 1 reads time backwards.
        let projected = self
            .input
            .forward(x)
            .reshape([n, t, 2, 4 * h])
            .permute([1, 2, 0, 3]);
        let forward = projected.clone().slice(s![.., 0..1]);
        let backward = projected.slice(s![.., 1..2]).flip([0]);
        let projected =
            Tensor::cat(vec![forward, backward], 1) + self.recurrent_bias.val().unsqueeze::<4>();
        let recurrent = self.recurrent.val();

        let mut hidden = Tensor::<3>::zeros([2, n, h], &device);
        let mut cell = Tensor::<3>::zeros([2, n, h], &device);
        let mut states = Vec::with_capacity(t);
        for step_input in split_steps(projected) {
            let gates = step_input.reshape([2, n, 4 * h]) + hidden.matmul(recurrent.clone());
            let candidate = tanh(gates.clone().slice(s![.., .., 2 * h..3 * h]));
            let gates = sigmoid(gates);
            let input = gates.clone().slice(s![.., .., 0..h]);
            let forget = gates.clone().slice(s![.., .., h..2 * h]);
            let output = gates.slice(s![.., .., 3 * h..4 * h]);
            cell = forget * cell + input * candidate;
            hidden = output * tanh(cell.clone());
            states.push(hidden.clone());
        }
        // [T, 2, N, H]; put direction 1 back in time order, then [N, T, 2, H] -> [N, T, 2H].
        let states = Tensor::stack::<4>(states, 0);
        let forward = states.clone().slice(s![.., 0..1]);
        let backward = states.slice(s![.., 1..2]).flip([0]);
        Tensor::cat(vec![forward, backward], 1)
            .permute([2, 0, 1, 3])
            .reshape([n, t, 2 * h])
    }
}

/// `[T, ...]` into its `T` steps `[1, ...]`, halving the range at each level.
///
/// Why not `slice` per step: the backward pass of a slice writes its gradient into zeros of the
/// whole input's shape, and the `T` step gradients are then summed, so slicing each step out of
/// the `[T, 2, N, 4H]` projection costs `T` passes over all of it (quadratic in the sequence
/// length; most of the encoder's backward time for DigitCircle's and LaTeX's rows). Halving
/// costs about `2 log2 T` passes. Same values, same gradients.
fn split_steps(x: Tensor<4>) -> Vec<Tensor<4>> {
    let t = x.dims()[0];
    let mut out = Vec::with_capacity(t);
    fn halve(x: Tensor<4>, out: &mut Vec<Tensor<4>>) {
        let t = x.dims()[0];
        if t == 1 {
            out.push(x);
        } else {
            let mid = t / 2;
            halve(x.clone().slice(s![0..mid]), out);
            halve(x.slice(s![mid..t]), out);
        }
    }
    if t > 0 {
        halve(x, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 data")
    }

    fn sig(x: f32) -> f32 {
        1.0 / (1.0 + (-x).exp())
    }

    /// A direct transcription of PyTorch's LSTM equations on host data, one direction at a time.
    #[test]
    fn matches_a_step_by_step_reference() {
        let device = Device::flex();
        device.seed(7);
        let (n, t, d, h) = (3, 5, 4, 6);
        let lstm = BiLstm::new(d, h, &device);
        let x = Tensor::<3>::random(
            [n, t, d],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let out = lstm.forward(x.clone());
        assert_eq!(out.dims(), [n, t, 2 * h]);
        let got = values(out);

        let xs = values(x);
        let w_ih = values(lstm.input.weight.val()); // [d, 8h]
        let b_ih = values(lstm.input.bias.as_ref().expect("bias").val()); // [8h]
        let w_hh = values(lstm.recurrent.val()); // [2, h, 4h]
        let b_hh = values(lstm.recurrent_bias.val()); // [2, 1, 4h]

        for dir in 0..2 {
            for b in 0..n {
                let mut hs = vec![0f32; h];
                let mut cs = vec![0f32; h];
                let order: Vec<usize> = if dir == 0 {
                    (0..t).collect()
                } else {
                    (0..t).rev().collect()
                };
                for step in order {
                    let mut g = vec![0f32; 4 * h];
                    for (j, gj) in g.iter_mut().enumerate() {
                        let col = dir * 4 * h + j;
                        let mut acc = b_ih[col] + b_hh[dir * 4 * h + j];
                        for k in 0..d {
                            acc += xs[(b * t + step) * d + k] * w_ih[k * 8 * h + col];
                        }
                        for (k, hk) in hs.iter().enumerate() {
                            acc += hk * w_hh[(dir * h + k) * 4 * h + j];
                        }
                        *gj = acc;
                    }
                    for u in 0..h {
                        let (i, f, c, o) = (
                            sig(g[u]),
                            sig(g[h + u]),
                            g[2 * h + u].tanh(),
                            sig(g[3 * h + u]),
                        );
                        cs[u] = f * cs[u] + i * c;
                        hs[u] = o * cs[u].tanh();
                    }
                    for u in 0..h {
                        let value = got[(b * t + step) * 2 * h + dir * h + u];
                        assert!(
                            (value - hs[u]).abs() < 1e-5,
                            "dir {dir} batch {b} step {step} unit {u}: {value} vs {}",
                            hs[u]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn split_steps_gives_each_step_in_order() {
        let device = Device::flex();
        for t in [1, 2, 5, 45] {
            let x = Tensor::<1, Int>::arange(0..(t * 6) as i64, &device)
                .float()
                .reshape([t, 1, 2, 3]);
            let steps = split_steps(x.clone());
            assert_eq!(steps.len(), t);
            for (i, step) in steps.into_iter().enumerate() {
                assert_eq!(step.dims(), [1, 1, 2, 3]);
                let expected = x.clone().slice(s![i..i + 1]);
                assert!(
                    step.equal(expected).all().into_scalar::<bool>(),
                    "t {t} step {i}"
                );
            }
        }
    }

    /// Halving gives every step the gradient a per-step slice gives, bit for bit: each element
    /// of the input receives one nonzero contribution plus zeros either way.
    #[test]
    fn halving_keeps_the_gradients_of_per_step_slices() {
        let device = Device::flex().autodiff();
        device.seed(5);
        let x = Tensor::<4>::random(
            [7, 2, 3, 4],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let weights = Tensor::<4>::random(
            [1, 2, 3, 4],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        // A different function of each step, so every step's gradient differs.
        let loss = |steps: Vec<Tensor<4>>| {
            steps
                .into_iter()
                .enumerate()
                .map(|(i, step)| (step * weights.clone() * (i as f32 + 1.0)).tanh().sum())
                .reduce(|a, b| a + b)
                .expect("steps")
        };
        let a = x.clone().require_grad();
        let grads = loss(split_steps(a.clone())).backward();
        let halved = values(a.grad(&grads).expect("grad"));
        let b = x.require_grad();
        let per_step = (0..7).map(|i| b.clone().slice(s![i..i + 1])).collect();
        let grads = loss(per_step).backward();
        let sliced = values(b.grad(&grads).expect("grad"));
        assert_eq!(halved, sliced);
    }

    #[test]
    fn parameter_count_is_pytorchs() {
        let lstm = BiLstm::new(512, 256, &Device::flex());
        // nn.LSTM(512, 256, bidirectional=True): 2 * 4 * 256 * (512 + 256 + 2).
        assert_eq!(lstm.num_params(), 2 * 4 * 256 * (512 + 256 + 2));
    }

    #[test]
    fn gradients_reach_every_parameter() {
        let device = Device::flex().autodiff();
        let lstm = BiLstm::new(4, 3, &device);
        let x = Tensor::<3>::ones([2, 4, 4], &device);
        let grads = lstm.forward(x).sum().backward();
        let recurrent = lstm.recurrent.val().grad(&grads).expect("recurrent grad");
        assert!(recurrent.abs().sum().into_scalar::<f32>() > 0.0);
        let bias = lstm.recurrent_bias.val().grad(&grads).expect("bias grad");
        assert!(bias.abs().sum().into_scalar::<f32>() > 0.0);
    }
}
