"""The traced engine: one real training step of the real model code, on fake tensors.

The model is built on the meta device from its config (no weights, no download), its storage is
re-created as ``FakeTensor`` s under ``FakeTensorMode`` (shapes and dtypes, no bytes), peft wraps
it exactly as a LoRA job would, and one forward, backward and optimizer step run the ordinary
transformers, peft and torch.optim code. A small ``TorchDispatchMode`` sees every tensor each op
returns and keeps a running sum of live storage bytes (a weak reference per storage says when
it dies), so the peak is what the caching allocator would be asked for, before its rounding.

Tracing a 7B model layer by layer would take minutes; decoder layers are identical, so the step
is traced with 1 and 2 layers (2 and 4 where layers alternate sliding and full attention) and
every figure is extrapolated linearly to the real depth.

Known differences from a CUDA run, stated rather than hidden: the fake tensors live on the CPU
device, so ``sdpa`` (and ``flash_attention_2``, traced as ``sdpa``) take the CPU flash kernel,
which keeps the same output and log-sum-exp for backward as the CUDA flash kernel; autocast
follows the CPU op lists. bitsandbytes (int8, nf4, 8-bit Adam) has no CPU fake kernels, so
those settings are not traced.

torch, transformers and peft are imported inside functions: importing memplan stays light.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from memplan.setup import TrainingSetup

PHASES = ("forward", "backward", "optimizer")
_CATEGORIES = ("weights", "forward", "backward", "optimizer")


class TraceUnsupportedError(ValueError):
    """The setting cannot be traced on this machine (the analytic engine still applies)."""


@dataclass
class ProbeResult:
    """Live-storage figures of one traced step with ``layers`` decoder layers, in bytes."""

    layers: int
    weights: int
    trainable_params: int
    gradients: int
    optimizer_state: int
    phase_peaks: dict[str, int]
    peak_breakdown: dict[str, dict[str, int]]
    seconds: float


@dataclass
class TraceResult:
    """The traced step extrapolated to the real depth, in bytes (steady state: step 2 onward)."""

    peak: int
    phase_peaks: dict[str, int]
    weights: int
    gradients: int
    optimizer_state: int
    trainable_params: int
    breakdown: dict[str, int]
    probes: list[ProbeResult] = field(default_factory=list)
    seconds: float = 0.0


class _LiveStorageTracker:
    """Counts bytes of live tensor storage, by the phase that allocated it.

    Implemented as a TorchDispatchMode created lazily (torch is imported only when tracing).
    """

    def __init__(self) -> None:
        self.live: dict[str, int] = dict.fromkeys(_CATEGORIES, 0)
        self.phase = "forward"
        self.total = 0
        self.phase_peaks: dict[str, int] = dict.fromkeys(PHASES, 0)
        self.peak_breakdown: dict[str, dict[str, int]] = {p: {} for p in PHASES}
        self._refs: dict[int, Any] = {}

    def add(self, storage: Any, category: str) -> None:
        key = id(storage)
        if key in self._refs:
            return
        nbytes = int(storage.nbytes())
        self.live[category] += nbytes
        self.total += nbytes

        def _free(_ref: object, key: int = key, nbytes: int = nbytes, cat: str = category) -> None:
            self._refs.pop(key, None)
            self.live[cat] -= nbytes
            self.total -= nbytes

        self._refs[key] = weakref.ref(storage, _free)
        self._note_peak()

    def set_phase(self, phase: str) -> None:
        """Enter ``phase``; what is live at its start counts toward its peak."""
        self.phase = phase
        self._note_peak()

    def _note_peak(self) -> None:
        if self.total > self.phase_peaks[self.phase]:
            self.phase_peaks[self.phase] = self.total
            self.peak_breakdown[self.phase] = dict(self.live)

    def mode(self) -> Any:
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode

        tracker = self

        class _Mode(TorchDispatchMode):  # type: ignore[no-untyped-call]  # torch's class is untyped
            def __torch_dispatch__(
                self,
                func: Any,
                types: Any,
                args: tuple[Any, ...] = (),
                kwargs: dict[str, Any] | None = None,
            ) -> Any:
                out = func(*args, **(kwargs or {}))
                for t in _tensors(out, torch.Tensor):
                    tracker.add(t.untyped_storage(), tracker.phase)
                return out

        return _Mode()  # type: ignore[no-untyped-call]  # torch's __init__ is untyped


def _tensors(obj: Any, tensor_type: type) -> Iterator[Any]:
    if isinstance(obj, tensor_type):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors(o, tensor_type)


def _torch_dtype(name: str) -> Any:
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def _build_model(setup: TrainingSetup, layers: int) -> Any:
    """The transformers model with ``layers`` decoder layers, on the meta device."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = setup.arch.with_layers(layers).hf_config_fields()
    model_type = fields.pop("model_type")
    for key in ("architectures", "torch_dtype", "dtype", "transformers_version"):
        fields.pop(key, None)
    fields["use_cache"] = False
    cfg = AutoConfig.for_model(model_type, **fields)
    from memplan.activations import uses_eager

    if uses_eager(setup):
        attn = "eager"
    elif setup.padded and setup.attn_implementation == "sdpa":
        attn = "sdpa"  # with fake inputs transformers always builds the mask, as padding does
    else:
        attn = _register_unpadded_sdpa()
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(  # type: ignore[no-untyped-call]  # untyped
            cfg, dtype=_torch_dtype(setup.weight_dtype), attn_implementation=attn
        )


def _register_unpadded_sdpa() -> str:
    """Register SDPA as a GPU runs it on an unpadded batch: no mask tensor, native GQA.

    transformers builds an explicit mask whenever it sees fake tensors (it cannot read their
    values), and with a mask it repeats K/V heads and SDPA keeps the mask for backward. On a GPU
    with an unpadded (packed or equal-length) batch it passes ``is_causal=True`` instead.
    """
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    def unpadded_sdpa(
        module: Any,
        query: Any,
        key: Any,
        value: Any,
        attention_mask: Any,
        **kwargs: Any,
    ) -> Any:
        kwargs["is_causal"] = True
        # Flash soft-caps inside the kernel (Gemma 2); SDPA cannot, and the cap keeps no
        # tensor of its own there, so it is dropped for the trace.
        kwargs.pop("softcap", None)
        return sdpa_attention_forward(module, query, key, value, None, **kwargs)

    # (no "sdpa" in the name: transformers would apply its SDPA support check, which Gemma 2
    # fails although its flash_attention_2 path keeps the same tensors.)
    AttentionInterface.register("memplan_unpadded_kernel", unpadded_sdpa)
    return "memplan_unpadded_kernel"


def _optimizer(setup: TrainingSetup, params: list[Any]) -> Any:
    """The optimizer the Trainer builds for ``setup.optimizer``.

    ``adamw_torch_fused`` (the default for torch >= 2.8) is AdamW(fused=True); ``adamw_torch``
    is AdamW's own default on CUDA tensors, foreach, which the CPU fake tensors would not pick
    by themselves, so it is asked for.
    """
    import torch

    if setup.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=1e-4, fused=True)
    if setup.optimizer == "adamw_foreach":
        return torch.optim.AdamW(params, lr=1e-4, foreach=True)
    if setup.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=1e-4, foreach=True)
    if setup.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=1e-4, foreach=True)
    if setup.optimizer == "sgd":
        return torch.optim.SGD(params, lr=1e-4)
    if setup.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        # transformers' Adafactor is untyped.
        return Adafactor(  # type: ignore[no-untyped-call]
            params, lr=1e-4, scale_parameter=False, relative_step=False
        )
    raise TraceUnsupportedError(f"optimizer {setup.optimizer!r} cannot be traced on CPU")


def check_traceable(setup: TrainingSetup) -> None:
    """Raise TraceUnsupportedError for settings with no CPU fake kernels."""
    if setup.weight_dtype in ("int8", "nf4"):
        raise TraceUnsupportedError(
            f"{setup.weight_dtype} weights need bitsandbytes CUDA kernels; use the analytic engine"
        )
    if setup.optimizer not in ("adamw", "adamw_foreach", "rmsprop", "adagrad", "sgd", "adafactor"):
        raise TraceUnsupportedError(
            f"optimizer {setup.optimizer!r} needs bitsandbytes or torchao CUDA kernels"
        )


def probe(setup: TrainingSetup, layers: int) -> ProbeResult:
    """Trace one training step of the model cut to ``layers`` decoder layers."""
    with _quiet():
        return _probe(setup, layers)


def _probe(setup: TrainingSetup, layers: int) -> ProbeResult:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    check_traceable(setup)
    started = time.perf_counter()
    model = _build_model(setup, layers)
    tracker = _LiveStorageTracker()
    fake = FakeTensorMode(allow_non_fake_inputs=True)
    if setup.lora is not None:
        from peft import LoraConfig, get_peft_model

        with torch.device("meta"):
            model = get_peft_model(
                model,
                LoraConfig(
                    r=setup.lora.r,
                    lora_alpha=int(setup.lora.alpha),
                    lora_dropout=setup.lora.dropout,
                    target_modules=(
                        "all-linear"
                        if "all-linear" in setup.lora.target_modules
                        else list(setup.lora.target_modules)
                    ),
                    task_type="CAUSAL_LM",
                    use_dora=setup.lora.use_dora,
                    bias=setup.lora.bias,
                    modules_to_save=list(setup.lora.modules_to_save) or None,
                ),
            )
    if setup.kbit_upcast:
        # peft.prepare_model_for_kbit_training's cast (without its checkpointing switch).
        for param in model.parameters():
            if param.dtype in (torch.float16, torch.bfloat16):
                param.data = param.data.to(torch.float32)
    with fake:
        model = model.to_empty(device="cpu")
        # to_empty gives tied parameters separate storage; tie them again as loading would.
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        if setup.arch.tie_word_embeddings:
            base.lm_head.weight = base.get_input_embeddings().weight
        model.train()
        if setup.gradient_checkpointing:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
        seen: set[int] = set()
        for t in list(model.parameters()) + list(model.buffers()):
            st = t.untyped_storage()
            if id(st) not in seen:
                seen.add(id(st))
                tracker.add(st, "weights")
        weights = tracker.total
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = _optimizer(setup, trainable)
        ids = torch.zeros(setup.batch_size, setup.seq_len, dtype=torch.long)
        autocast: Callable[[], Any]
        if setup.mixed_precision == "no":
            autocast = nullcontext
        else:
            dtype = _torch_dtype(setup.compute_dtype)

            def autocast() -> Any:
                return torch.autocast("cpu", dtype=dtype)

        with tracker.mode(), _cuda_like_dropout(), _cuda_like_softmax():
            # With gradient accumulation the second micro-batch runs with the first one's
            # gradients resident: trace two, so the phase peaks are the second one's.
            for _micro in range(2 if setup.gradient_accumulation_steps > 1 else 1):
                tracker.set_phase("forward")
                with autocast():
                    out = model(input_ids=ids, labels=ids)
                loss = out.loss
                del out
                tracker.set_phase("backward")
                loss.backward()
                del loss
            gradients = sum(
                int(p.grad.untyped_storage().nbytes()) for p in trainable if p.grad is not None
            )
            tracker.set_phase("optimizer")
            optimizer.step()
            state = 0
            state_seen: set[int] = set()
            for per_param in optimizer.state.values():
                for v in per_param.values():
                    if isinstance(v, torch.Tensor) and v.dim() > 0:
                        st = v.untyped_storage()
                        if id(st) not in state_seen:
                            state_seen.add(id(st))
                            state += int(st.nbytes())
            optimizer.zero_grad(set_to_none=True)
    return ProbeResult(
        layers=layers,
        weights=weights,
        trainable_params=sum(int(p.numel()) for p in trainable),
        gradients=gradients,
        optimizer_state=state,
        phase_peaks=dict(tracker.phase_peaks),
        peak_breakdown={k: dict(v) for k, v in tracker.peak_breakdown.items()},
        seconds=time.perf_counter() - started,
    )


def _steady_state(p: ProbeResult, accumulation: int = 1) -> dict[str, int]:
    """Phase peaks from step 2 on, where the optimizer state stays live.

    The traced step is the first one, where AdamW creates its state inside ``step()``; from the
    second step on that state is resident during forward and backward too. (Gradients resident
    under accumulation are measured directly: the probe traces two micro-batches then.)
    """
    del accumulation
    return {
        "forward": p.phase_peaks["forward"] + p.optimizer_state,
        "backward": p.phase_peaks["backward"] + p.optimizer_state,
        "optimizer": p.phase_peaks["optimizer"],
    }


def _extrapolate(a: int, b: int, la: int, lb: int, target: int) -> int:
    per_layer = (b - a) / (lb - la)
    return round(a + (target - la) * per_layer)


#: Model types whose layers alternate sliding-window and full attention: a 1-layer probe builds
#: only the sliding mask, a 2-layer one both, and the extra mask would be extrapolated as if every
#: layer added one. Their probes have 2 and 4 layers, so both hold one mask of each kind.
_ALTERNATING = frozenset({"gemma2", "gemma3", "gemma3_text", "cohere2"})


def default_probe_layers(setup: TrainingSetup) -> tuple[int, int]:
    """The two probe depths that extrapolate linearly for this model."""
    return (2, 4) if setup.arch.model_type in _ALTERNATING else (1, 2)


def trace(setup: TrainingSetup, probe_layers: tuple[int, int] | None = None) -> TraceResult:
    """Trace ``setup`` with two shallow probes and extrapolate to the real number of layers.

    When the model has no more layers than the deeper probe, the model is traced whole.
    """
    started = time.perf_counter()
    n = setup.arch.num_hidden_layers
    la, lb = probe_layers or default_probe_layers(setup)
    if n <= lb:
        whole = probe(setup, n)
        probes = [whole]
        pa = pb = whole
        la = lb = n
    else:
        pa, pb = probe(setup, la), probe(setup, lb)
        probes = [pa, pb]

    def ext(a: int, b: int) -> int:
        return a if la == lb else _extrapolate(a, b, la, lb, n)

    sa = _steady_state(pa, setup.gradient_accumulation_steps)
    sb = _steady_state(pb, setup.gradient_accumulation_steps)
    phase_peaks = {ph: ext(sa[ph], sb[ph]) for ph in PHASES}
    top = max(phase_peaks, key=lambda ph: phase_peaks[ph])
    breakdown = {
        cat: ext(pa.peak_breakdown[top].get(cat, 0), pb.peak_breakdown[top].get(cat, 0))
        for cat in _CATEGORIES
    }
    state = ext(pa.optimizer_state, pb.optimizer_state)
    if top != "optimizer":
        breakdown["optimizer"] = state
    return TraceResult(
        peak=phase_peaks[top],
        phase_peaks=phase_peaks,
        weights=ext(pa.weights, pb.weights),
        gradients=ext(pa.gradients, pb.gradients),
        optimizer_state=state,
        trainable_params=ext(pa.trainable_params, pb.trainable_params),
        breakdown=breakdown,
        probes=probes,
        seconds=time.perf_counter() - started,
    )


@contextmanager
def _cuda_like_dropout() -> Iterator[None]:
    """Make ``F.dropout`` keep a one-byte mask, as CUDA's fused kernel does.

    On CPU, torch implements dropout as ``input * bernoulli(empty_like(input))`` and keeps a
    mask in the input's dtype (4 bytes for fp32); on CUDA it calls ``native_dropout``, whose
    mask is bool. The trace should measure the GPU behaviour.
    """
    import torch

    original = torch.nn.functional.dropout

    def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
        if not training or p == 0.0:
            return input
        return torch.native_dropout(input, p, True)[0]

    torch.nn.functional.dropout = dropout
    try:
        yield
    finally:
        torch.nn.functional.dropout = original


@contextmanager
def _cuda_like_softmax() -> Iterator[None]:
    """Make ``F.softmax(half, dtype=float32)`` take CUDA's fused half-to-float kernel.

    On CUDA, ATen runs ``_softmax(x, dim, half_to_float=True)`` for fp16 input asked to return
    fp32; on CPU it first copies the input to fp32. bf16 takes the copy on both.
    """
    import torch

    original = torch.nn.functional.softmax

    def softmax(input: Any, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
        if dtype == torch.float32 and input.dtype == torch.float16 and dim is not None:
            return torch._softmax(input, dim, True)
        return original(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)

    torch.nn.functional.softmax = softmax
    try:
        yield
    finally:
        torch.nn.functional.softmax = original


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence transformers' and peft's warnings during a trace."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
