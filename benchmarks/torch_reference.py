"""The PyTorch reference for ``train_throughput.py``: cnnkit's CIFAR ResNet / plain net, tuned.

The network is the one ``cnnkit.models.build("resnet_cifar", depth=d)`` builds (He et al. 2016
§4.2): 3x3 conv (16) → BN → ReLU → three stages of n basic blocks (16/32/64 filters, stride 2
at stages 2 and 3) → global average pooling → linear; shortcut option A (``x[:, :, ::2, ::2]``
then zero channels appended, parameter-free); ``plain=True`` drops the shortcuts. No conv biases
(BN follows every conv), BN epsilon 1e-3 and momentum 0.1 (Keras' 1e-3 and 0.9), He-normal init.

Training is tuned the way a PyTorch user would: the data set lives on the device, the paper's
augmentation (pad 4, random crop, flip) runs there, ``channels_last`` memory format, bf16
autocast for ``precision="bf16"``, ``torch.compile`` on a GPU (``compile="auto"``), SGD with
momentum 0.9 and weight decay 1e-4 (``fused`` where the build supports it, else ``foreach``).

Parameters are counted as Keras counts them (:func:`count_parameters`): the trainable
parameters plus the BN running mean and variance (not ``num_batches_tracked``).
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ResNetCifar", "count_parameters", "device_and_name", "make_trainer", "peak_memory"]


class _Block(nn.Module):
    """conv-BN-ReLU-conv-BN (+ option-A shortcut) → ReLU."""

    def __init__(self, in_planes: int, planes: int, stride: int, plain: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, eps=1e-3, momentum=0.1)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-3, momentum=0.1)
        self.plain, self.stride, self.extra = plain, stride, planes - in_planes

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.plain:
            shortcut = x[:, :, ::self.stride, ::self.stride] if self.stride > 1 else x
            if self.extra:
                shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.extra))
            out = out + shortcut
        return F.relu(out)


class ResNetCifar(nn.Module):
    """CIFAR ResNet-(6n+2) with option-A shortcuts, or the plain net without them."""

    def __init__(self, depth: int = 20, *, plain: bool = False, num_classes: int = 10, channels: int = 3,
                 width: int = 16):
        super().__init__()
        if (depth - 2) % 6 or depth < 8:
            raise ValueError(f"depth must be 6n+2 (8, 20, 56, ...), got {depth}")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=1e-3, momentum=0.1)
        blocks, in_planes = [], width
        for stage in range(3):
            planes = width * 2 ** stage
            for j in range(n):
                blocks.append(_Block(in_planes, planes, 2 if stage and j == 0 else 1, plain))
                in_planes = planes
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(in_planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.blocks(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def count_parameters(model: nn.Module) -> dict[str, int]:
    """``trainable`` parameters and ``total`` = trainable + BN running mean/var (Keras' ``count_params``)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stats = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return {"trainable": int(trainable), "total": int(trainable + stats)}


def device_and_name() -> tuple[torch.device, str]:
    """The CUDA device when there is one (and its name), else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda"), torch.cuda.get_device_name(0)
    return torch.device("cpu"), "cpu"


def peak_memory(device: torch.device) -> int | None:
    """Peak allocated bytes on a CUDA device since the last reset; None on the CPU."""
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None


def _augment(x: torch.Tensor, pad: int = 4) -> torch.Tensor:
    """Pad ``pad`` zeros per side, crop a random window of the input size per image, flip with p=1/2 (NCHW)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    top = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
    left = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
    rows = (top + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (left + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    out = padded[batch, chans, rows, cols]
    flip = torch.rand(n, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def _optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    for options in ({"fused": True}, {"foreach": True}, {}):
        try:
            return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4, **options)
        except (RuntimeError, TypeError, ValueError):
            continue
    raise RuntimeError("torch.optim.SGD could not be created")


def make_trainer(depth: int, *, plain: bool, batch_size: int, precision: str, image_shape=(32, 32, 3),
                 num_classes: int = 10, dataset_size: int = 2048, compile: str = "auto",
                 seed: int = 0, width: int = 16) -> dict[str, Any]:
    """Build the net, a device-resident uint8 data set and a ``step()`` that trains on one augmented batch.

    Args:
        depth: 6n+2.
        plain: drop the shortcuts.
        batch_size: images per step.
        precision: ``"fp32"`` or ``"bf16"`` (autocast; weights stay fp32, like Keras' mixed_bfloat16).
        image_shape: HWC of the synthetic images.
        width: filters of the first stage (16 in the paper).
        dataset_size: images kept on the device; batches are random subsets of them.
        compile: ``"on"``, ``"off"`` or ``"auto"`` (on when a GPU is used).
        seed: torch's seed.

    Returns:
        ``{"step": callable, "sync": callable, "model", "device", "device_name", "params", "compiled"}``.
    """
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision={precision!r}; use 'fp32' or 'bf16'")
    torch.manual_seed(seed)
    device, name = device_and_name()
    h, w, c = image_shape
    model = ResNetCifar(depth, plain=plain, num_classes=num_classes, channels=c, width=width).to(device)
    params = count_parameters(model)
    model = model.to(memory_format=torch.channels_last)
    opt = _optimizer(model, 0.1)
    images = torch.randint(0, 256, (dataset_size, c, h, w), dtype=torch.uint8, device=device)
    labels = torch.randint(0, num_classes, (dataset_size,), device=device)
    mean = torch.full((1, c, 1, 1), 0.45, device=device)
    std = torch.full((1, c, 1, 1), 0.25, device=device)
    use_compile = compile == "on" or (compile == "auto" and device.type == "cuda")
    use_compile = use_compile and hasattr(torch, "compile")
    autocast = precision == "bf16"

    def forward_backward(idx):
        x = (_augment(images[idx].float() / 255.0) - mean) / std
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(model(x), labels[idx])
        loss.backward()
        return loss

    fb = torch.compile(forward_backward) if use_compile else forward_backward

    def step():
        idx = torch.randint(0, dataset_size, (batch_size,), device=device)
        opt.zero_grad(set_to_none=True)
        loss = fb(idx)
        opt.step()
        return loss.detach()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    model.train()
    return {"step": step, "sync": sync, "model": model, "device": device, "device_name": name,
            "params": params, "compiled": use_compile}


def time_steps(trainer: dict[str, Any], *, warmup: int, steps: int) -> dict[str, float]:
    """Run ``warmup`` steps (compile/first-call time), then time ``steps`` steps.

    Returns:
        ``warmup_s`` and ``timed_s`` (wall clock), ``cpu_s`` (process CPU time of the timed steps).
    """
    trainer["sync"]()
    start = time.perf_counter()
    for _ in range(warmup):
        trainer["step"]()
    trainer["sync"]()
    mid, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        loss = trainer["step"]()
    loss.item()
    trainer["sync"]()
    return {"warmup_s": mid - start, "timed_s": time.perf_counter() - mid, "cpu_s": time.process_time() - cpu}
