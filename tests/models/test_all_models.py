"""Every registered model: builds on a small input, has a finite, non-zero gradient for every
trainable weight, takes one SGD step, gives finite outputs of the right shape, and survives a
save → load round trip with identical inference outputs. The deeper or wider paper variants
(``HEAVY``) are built symbolically only: their layer types are trained through a lighter sibling,
and their parameter counts are pinned in test_resnet.py / test_efficient.py.

The JAX pass (``-m backend``) trains one or two models per family (``ON_JAX``): what differs
between backends is the gradient and the compiled step, not the builder.

The list is collected at import time from ``cnnkit.models.available()``, so a newly
registered model is tested without editing this file. The cost of these tests is set by the
input size and the number of layers, not the parameter count, so every model runs at the
smallest input it trains well on: builders with a ``cifar_stem`` option use their ImageNet
stem (the one that matches keras.applications) at 64x64, a quarter of the CIFAR stem's
compute at 32x32. (At 32x32, the ImageNet stem's minimum, the last maps are 1x1 and batch
norm over 2 values per channel makes the gradients explode to ~1e5.) ``SMALL`` lists the
models that need another input or lighter options.
"""

from pathlib import Path

import keras
import numpy as np
import pytest
from testutil import BACKEND

from cnnkit.models import available, build, options
from cnnkit.train.losses import ContrastiveLoss, TripletLoss

MODELS = available()
NUM_CLASSES = 3
BATCH = 2
DEFAULT = dict(input_shape=(32, 32, 3))
IMAGENET_STEM = dict(input_shape=(64, 64, 3), cifar_stem=False)  # for builders with a cifar_stem option

# Smallest valid input (and lighter options) for the models that need them.
SMALL: dict[str, dict] = {
    "alexnet": dict(input_shape=(64, 64, 3)),  # ImageNet AlexNet: 64x64 minimum
    "zfnet": dict(input_shape=(53, 53, 3)),  # 53x53 minimum
    "xception": dict(input_shape=(16, 16, 3), cifar_stem=True),  # ImageNet stem needs 71x71
    "randwire": dict(nodes=8, channels=16),  # 3 stages x 32 nodes by default: ~100 convolutions
    "randwire_ws": dict(nodes=8, channels=16),
    "randwire_er": dict(nodes=8, channels=16),
    "randwire_ba": dict(nodes=8, m=3, channels=16),
    "resnext": dict(input_shape=(16, 16, 3), depth=11, cardinality=2, bottleneck_width=4),  # generic builder
    "wide_resnet": dict(input_shape=(16, 16, 3), depth=10, widen_factor=2),  # generic builder
    "densenet_bc": dict(input_shape=(16, 16, 3), depth=40),  # L=100 default: 48 dense layers, ~110 s on JAX
}

# Deeper or wider paper variants of a builder that a lighter registered variant above already
# covers with the same layer types: not trained here (see test_heavy_models_are_counted_symbolically).
HEAVY = {
    "densenet121", "densenet169", "densenet201",  # densenet_bc (light); ~110 s each on JAX
    "resnet34", "resnet101", "resnet152",  # resnet18 (basic), resnet50 (bottleneck)
    "resnet34v2", "resnet101v2", "resnet152v2",  # resnet18v2, resnet50v2
    "resnet32", "resnet44", "resnet56", "resnet110", "plain56",  # resnet20, plain20 (same builder)
    "resnext50", "resnext29_8x64d",  # resnext (light options): 32 groups at 64x64 cost ~15 s on TF
    "wrn28_10", "wrn40_4",  # wrn16_4, wide_resnet (light options)
    "vgg13", "vgg16", "vgg19",  # vgg11
    "randwire", "randwire_er", "randwire_ba",  # randwire_ws; the generators' wiring: test_randwire.py
}

# Trained on JAX as well: a few per family (test file), the cheapest that cover its blocks and every custom
# layer (LRN, channel shuffle, weighted sum, the metric heads). GoogLeNet (stock layers and LRN, which
# alexnet_cifar trains here) and DenseNet-BC (stock layers) cost ~65 and ~50 s of XLA compilation on JAX.
ON_JAX = {
    "lenet5", "alexnet_cifar", "vgg11",  # classic
    "resnet20", "resnet50v2", "resnext", "wide_resnet",  # basic block v1, bottleneck v2, grouped, wide
    "mobilenet", "xception", "shufflenet",  # efficient
    "randwire_ws", "siamese", "triplet",
}

# Models that are not classifiers: (loss, target, output shape without the batch axis).
METRIC = {
    "siamese": (ContrastiveLoss, np.array([1.0, 0.0], dtype="float32"), (1,)),
    "triplet": (TripletLoss, np.zeros(BATCH, dtype="float32"), (3, 64)),
}


def _options(name: str) -> dict:
    stem = IMAGENET_STEM if "cifar_stem" in options(name) else {}
    return {**DEFAULT, **stem, **SMALL.get(name, {})}


def _task(name: str):
    """(loss, target, expected output shape) for model ``name``."""
    if name in METRIC:
        loss_cls, y, shape = METRIC[name]
        return loss_cls(), y, (BATCH, *shape)
    y = keras.utils.to_categorical(np.arange(BATCH) % NUM_CLASSES, NUM_CLASSES)
    return keras.losses.CategoricalCrossentropy(), y, (BATCH, NUM_CLASSES)


def _inputs(model, seed: int = 0):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(BATCH, *t.shape[1:])).astype("float32") for t in model.inputs]
    return xs[0] if len(xs) == 1 else xs


def _values(variables) -> list:
    return [v.value for v in variables]


def _train_step(model, loss_fn, x, y) -> tuple[float, list]:
    """One training step (what ``model.train_on_batch`` does) that also returns the gradients.

    TensorFlow: ``GradientTape``, eagerly (tracing a large graph for one step costs several
    times the step). JAX: ``jax.value_and_grad`` of ``model.stateless_call`` under ``jax.jit``
    (op-by-op JAX compiles every primitive for every new shape: 2-3x slower than one XLA
    program). Returns the loss and one gradient per trainable weight (``None`` where the
    weight is disconnected from the loss; JAX gives zeros there).
    """
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
    elif BACKEND == "jax":
        import jax

        def loss_of(trainable, non_trainable):
            y_pred, updates = model.stateless_call(trainable, non_trainable, x, training=True)
            return loss_fn(y, y_pred), updates

        step = jax.jit(jax.value_and_grad(loss_of, has_aux=True))
        (loss, updates), grads = step(_values(model.trainable_variables), _values(model.non_trainable_variables))
        for variable, value in zip(model.non_trainable_variables, updates):
            variable.assign(value)  # BN moving statistics, as the JAX trainer does
    else:
        pytest.skip(f"no gradient helper for backend {BACKEND!r}")
    if all(g is not None for g in grads):
        model.optimizer.apply(grads, model.trainable_variables)
    return float(keras.ops.convert_to_numpy(loss)), [None if g is None else keras.ops.convert_to_numpy(g)
                                                     for g in grads]


def _predict(model, x) -> np.ndarray:
    """Inference-mode outputs (eager on TensorFlow, one jitted program on JAX)."""
    if BACKEND == "jax":
        import jax

        forward = jax.jit(lambda tv, ntv, inputs: model.stateless_call(tv, ntv, inputs, training=False)[0])
        out = forward(_values(model.trainable_variables), _values(model.non_trainable_variables), x)
    else:
        out = model(x, training=False)
    return keras.ops.convert_to_numpy(out)


TRAINED = [pytest.param(n, marks=pytest.mark.backend) if n in ON_JAX else n for n in MODELS if n not in HEAVY]


def test_heavy_models_are_counted_symbolically():
    """Each ``HEAVY`` model, not trained here, is named in a family test that builds it and pins its parameter
    count, layer count, wiring or output shape (mostly with ``shapes_only``)."""
    here = Path(__file__).parent
    counted = "".join((here / f"test_{family}.py").read_text(encoding="utf-8")
                      for family in ("resnet", "efficient", "classic", "randwire"))
    assert HEAVY <= set(MODELS)
    assert [name for name in sorted(HEAVY) if f'"{name}"' not in counted] == []


@pytest.mark.parametrize("name", TRAINED)
def test_model(name, tmp_path):
    model = build(name, num_classes=NUM_CLASSES, **_options(name))
    loss_fn, y, shape = _task(name)
    x = _inputs(model)
    # the compile config is saved and restored below; lr 1e-3: after a larger step the inference-mode outputs of the deepest nets (BN moving
    # statistics still near their initial values) overflow to NaN
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=loss_fn)

    loss, grads = _train_step(model, loss_fn, x, y)
    assert np.isfinite(loss)
    bad = [v.path for v, g in zip(model.trainable_variables, grads)
           if g is None or not np.all(np.isfinite(g)) or not np.any(g)]
    assert not bad, f"{name}: missing, non-finite or all-zero gradients for {bad}"

    out = _predict(model, x)
    assert out.shape == shape and np.all(np.isfinite(out))

    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(_predict(loaded, x), out, rtol=1e-5, atol=1e-6)
