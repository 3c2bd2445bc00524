"""Network modules only. State is explicit: ``forward(x, state) -> (y, state)``.

Streams are independent sequences in the batch axis; the time axis is stepped with the state carried, so
"sequence length 1" means one sample per call with the state handed from call to call, and the same
module run over a whole window is the fused form of those calls.

    x      (B, T, 1+K)   [S, C1..CK] per stream and sample (a conditioned model: [S, nu, ...], see
                         ConditionedLSTM)
    state  (h, c)        each (layers, B, H)
    y      (B, T)        the extracted sample

A multi-output model (MultiOutputLSTM) reads S only, x (B, T, 1), and returns its K components already
laid out as the selector model's streams, y (B*K, T), so batches, losses and metrics take it unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]


def detach_state(state: State | None) -> State | None:
    """Cut the graph at a truncation boundary; values are kept."""
    if state is None:
        return None
    return tuple(s.detach() for s in state)  # type: ignore[return-value]


class StatefulLSTM(nn.Module):
    """LSTM + linear read-out, stepped with an explicit (h, c) state."""

    outputs = "selector"  # model.outputs: the streams it reads (signals.data.streams_for)

    def __init__(self, n_inputs: int = 5, hidden_size: int = 64, num_layers: int = 1,
                 init: str = "forget-bias", forget_bias: float = 5.0, chrono_tmax: float = 1000.0):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(n_inputs, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)
        self.reset_gate_biases(init, forget_bias, chrono_tmax)

    @torch.no_grad()
    def reset_gate_biases(self, init: str, forget_bias: float, chrono_tmax: float) -> None:
        """Gate-bias initialisation. PyTorch orders the gates (input, forget, cell, output).

        ``forget-bias``: forget bias ``forget_bias`` (memory of ~exp(b) samples), other biases 0.
        ``chrono``: forget bias log U(1, Tmax-1) per unit and input bias its negative (Tallec & Ollivier
        2018), spreading the units' time constants up to Tmax samples.
        """
        if init == "default":
            return
        H = self.hidden_size
        for layer in range(self.num_layers):
            b_ih, b_hh = getattr(self.lstm, f"bias_ih_l{layer}"), getattr(self.lstm, f"bias_hh_l{layer}")
            b_ih.zero_()
            b_hh.zero_()
            if init == "forget-bias":
                b_ih[H:2 * H] = forget_bias
            elif init == "chrono":
                bf = torch.log(torch.empty(H).uniform_(1.0, chrono_tmax - 1.0))
                b_ih[H:2 * H] = bf
                b_ih[:H] = -bf
            else:
                raise ValueError(f"unknown init {init!r}")

    def init_state(self, batch: int) -> State:
        """Zero state for ``batch`` streams, on the parameters' device and dtype."""
        w = self.head.weight
        z = w.new_zeros(self.num_layers, batch, self.hidden_size)
        return z, z.clone()

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x (B, T, n_inputs) -> y (B, T); a missing state is the reset (zero) state."""
        if state is None:
            state = self.init_state(x.shape[0])
        out, state = self.lstm(x, state)  # (B, T, H)
        return self.head(out).squeeze(-1), state

    def step(self, x_t: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """One sample per stream: x_t (B, n_inputs) -> y_t (B,)."""
        y, state = self.forward(x_t.unsqueeze(1), state)
        return y.squeeze(1), state


class SequenceLSTM(StatefulLSTM):
    """The same network fed windows of ``seq_len`` samples.

    ``window_state="carry"``: consecutive non-overlapping windows, the state handed from one to the next;
    every output of every window is used. The forward values equal the L = 1 model's; what changes in
    training is that the gradient stops at window edges.

    ``window_state="reset"``: each output sees only the last ``seq_len`` samples (a sliding window,
    stride 1, zero-padded before t = 0), starting from the zero state; the output is the window's last one.
    """

    def __init__(self, *args, seq_len: int = 10, window_state: str = "carry", **kwargs):
        super().__init__(*args, **kwargs)
        if window_state not in ("carry", "reset"):
            raise ValueError(f"window_state must be 'carry' or 'reset', got {window_state!r}")
        self.seq_len = seq_len
        self.window_state = window_state

    def forward(self, x: torch.Tensor, state: State | None = None,
                detach_windows: bool = False) -> tuple[torch.Tensor, State]:
        """x (B, T, n_inputs) -> y (B, T). ``detach_windows`` cuts the graph at each window edge."""
        if self.window_state == "reset":
            return self._forward_reset(x), self.init_state(x.shape[0])
        if state is None:
            state = self.init_state(x.shape[0])
        ys = []
        for w in torch.split(x, self.seq_len, dim=1):  # (B, L, n) windows
            y, state = super().forward(w, state)
            ys.append(y)
            if detach_windows:
                state = detach_state(state)
        return torch.cat(ys, dim=1), state

    def _forward_reset(self, x: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
        B, T, n = x.shape
        L = self.seq_len
        padded = torch.cat([x.new_zeros(B, L - 1, n), x], dim=1)  # (B, T+L-1, n)
        windows = padded.unfold(1, L, 1).permute(0, 1, 3, 2).reshape(B * T, L, n)  # (B*T, L, n)
        outs = [StatefulLSTM.forward(self, w)[0][:, -1] for w in torch.split(windows, chunk)]
        return torch.cat(outs).reshape(B, T)


class ConditionedLSTM(StatefulLSTM):
    """An extractor told the frequency to extract as a number (docs/extractor.md).

    Its streams are requests (:func:`freqextract.signals.data.request_streams`): x (B, T, n) with x[..., 0]
    = S and x[..., 1] = nu / nu_max, the requested frequency in cycles per sample scaled so the top of the
    band is 1. ``conditioning``:

    ``concat``  the LSTM reads [S, nu] as they are
    ``demod``   the LSTM reads [S, nu, cos, sin, S cos, S sin] of the request's carrier (built outside,
                with the sample counter: the same features for a batch and a stream)
    ``film``    S is embedded to ``film_size`` features, each scaled and shifted by a function of nu
                (FiLM, Perez et al. 2018) before the LSTM, and the hidden state read out is scaled and
                shifted the same way: e (B, T, E) = W S; e * (1 + g_in(nu)) + b_in(nu) -> LSTM -> h (B, T, H);
                y = head(h * (1 + g_out(nu)) + b_out(nu))
    """

    def __init__(self, conditioning: str = "demod", n_inputs: int = 6, hidden_size: int = 64,
                 num_layers: int = 1, film_size: int = 16, **kwargs):
        self.conditioning = conditioning
        lstm_inputs = film_size if conditioning == "film" else n_inputs
        super().__init__(n_inputs=lstm_inputs, hidden_size=hidden_size, num_layers=num_layers, **kwargs)
        self.n_inputs = n_inputs
        if conditioning == "film":
            self.embed = nn.Linear(1, film_size)
            self.film = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 2 * (film_size + hidden_size)))
            with torch.no_grad():  # start as the identity modulation
                self.film[-1].weight.mul_(0.1)
                self.film[-1].bias.zero_()

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x (B, T, n_inputs) -> y (B, T); a missing state is the reset (zero) state."""
        if self.conditioning != "film":
            return super().forward(x, state)
        if state is None:
            state = self.init_state(x.shape[0])
        E, H = self.embed.out_features, self.hidden_size
        g_in, b_in, g_out, b_out = torch.split(self.film(x[..., 1:2]), (E, E, H, H), dim=-1)  # (B, T, .)
        e = self.embed(x[..., :1]) * (1 + g_in) + b_in  # (B, T, E)
        h, state = self.lstm(e, state)  # (B, T, H)
        return self.head(h * (1 + g_out) + b_out).squeeze(-1), state


class MultiOutputLSTM(StatefulLSTM):
    """One stream reads S only; the linear head returns all K components of each sample.

    The head's (B, T, K) is returned as streams, (B, T, K) -> (B, K, T) -> (B*K, T): stream b*K + k is
    component k of sequence b, the order :func:`freqextract.signals.data.streams_from` gives the selector
    streams (sequence b with selector k). The state stays per sequence: (layers, B, H).
    """

    outputs = "all"

    def __init__(self, n_outputs: int = 4, hidden_size: int = 64, num_layers: int = 1, **kwargs):
        super().__init__(n_inputs=1, hidden_size=hidden_size, num_layers=num_layers, **kwargs)
        self.n_outputs = n_outputs
        self.head = nn.Linear(hidden_size, n_outputs)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x (B, T, 1) -> y (B*K, T); a missing state is the reset (zero) state."""
        if state is None:
            state = self.init_state(x.shape[0])
        out, state = self.lstm(x, state)  # (B, T, H)
        y = self.head(out)  # (B, T, K)
        return y.transpose(1, 2).reshape(-1, x.shape[1]), state  # (B*K, T)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
