"""Named constants of the memory model, each with the reason for its value."""

from __future__ import annotations

GIB = 1024**3

BYTES: dict[str, float] = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "nf4": 0.5}

# bitsandbytes NF4 (QLoRA, Dettmers et al. 2023, arXiv 2305.14314, section 3): 4-bit codes with
# one fp32 absmax per block of 64 weights; with double quantization the absmax values are
# themselves 8-bit with one fp32 constant per 256 of them.
NF4_BLOCK = 64
NF4_DOUBLE_QUANT_BLOCK = 256
# bitsandbytes LLM.int8() (arXiv 2208.07339): int8 weights plus one fp32 scale per output row.
INT8_ROW_SCALE_BYTES = 4
# bitsandbytes 8-bit optimizers (arXiv 2110.02861): each state is 1 byte per parameter plus one
# fp32 absmax per block of 2048 values.
ADAM8BIT_BLOCK = 2048

# Not visible to PyTorch's allocator, but taken from the card: the CUDA context with the
# kernels of torch, cuBLAS and cuDNN loaded. Commonly observed at 300-600 MiB on Ampere/Hopper
# (nvidia-smi minus torch.cuda.memory_reserved); unmeasured here because no GPU was available.
CUDA_CONTEXT_BYTES = 500 * 1024**2
# cuBLAS workspace: PyTorch's default CUBLAS_WORKSPACE_CONFIG is ":4096:8" (8 chunks of 4 MiB)
# per handle/stream on recent GPUs; allocated through the caching allocator.
CUBLAS_WORKSPACE_BYTES = 32 * 1024**2
# The caching allocator rounds requests up (512 B, 2 MiB segments for large blocks) and cannot
# always reuse freed blocks: reserved memory runs a few percent above the allocated peak.
# 5% is an assumption pending GPU measurement (see docs/memplan.md).
ALLOCATOR_OVERHEAD_FRACTION = 0.05
