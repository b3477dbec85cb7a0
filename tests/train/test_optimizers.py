import keras
import numpy as np
import pytest

from cnnkit.train.optimizers import (OPTIMIZERS, apply_weight_decay, decay_variables, default_lr,
                                     exclude_from_decoupled_decay, get_optimizer)
from cnnkit.train.schedules import StepDecay


def _model():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.SeparableConv2D(4, 3, name="sep")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="fc")(x))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_builds_and_steps(name):
    opt = get_optimizer(name, StepDecay(0.1, [5]) if name == "momentum" else default_lr(name))
    var = keras.Variable(np.ones((3,), "float32"))
    opt.apply_gradients([(keras.ops.ones((3,)), var)])
    assert np.all(keras.ops.convert_to_numpy(var) < 1.0)


def test_optimizer_specifics():
    assert get_optimizer("sgd", 0.1).momentum == 0.0
    assert get_optimizer("momentum", 0.1).momentum == 0.9
    nesterov = get_optimizer("nesterov", 0.1, momentum=0.8)
    assert nesterov.nesterov and nesterov.momentum == 0.8
    assert get_optimizer("adamw", 1e-3, weight_decay=0.05).weight_decay == 0.05


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "lbfgs"}, "unknown optimizer 'lbfgs'"),
    ({"name": "adam", "momentum": 0.9}, "has no momentum"),
    ({"name": "momentum", "weight_decay": 1e-4}, "apply_weight_decay"),
    ({"name": "momentum", "momentum": 1.5}, "momentum must be in"),
])
def test_bad_optimizer_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        get_optimizer(learning_rate=0.1, **kwargs)


def _grads(model, x, y):
    """Gradients of loss + regularization losses, as the trainer computes them."""
    variables = model.trainable_variables
    if keras.backend.backend() == "jax":
        import jax

        def loss_fn(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
                loss = keras.ops.mean((model(x) - y) ** 2) + keras.ops.sum(model.losses)
            del scope
            return loss

        return [np.asarray(g) for g in jax.grad(loss_fn)([v.value for v in variables])]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = keras.ops.mean((model(x) - y) ** 2) + keras.ops.sum(model.losses)
    return [g.numpy() for g in tape.gradient(loss, variables)]


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_weight_decay_gradient_matches_pytorch_convention(kind):
    model = _model()
    x = np.random.default_rng(0).normal(size=(4, 6, 6, 2)).astype("float32")
    y = np.zeros((4, 2), "float32")
    before = _grads(model, x, y)
    wd = 0.01
    assert apply_weight_decay(model, wd, kind=kind) == 4  # conv, depthwise, pointwise, dense kernels
    after = _grads(model, x, y)
    kernels = {id(v) for v in decay_variables(model)}
    for var, g0, g1 in zip(model.trainable_variables, before, after):
        w = keras.ops.convert_to_numpy(var)
        expected = wd * w if kind == "l2" else wd * np.sign(w)
        extra = expected if id(var) in kernels else np.zeros_like(w)  # BN gamma/beta, biases: no decay
        np.testing.assert_allclose(g1 - g0, extra, rtol=1e-4, atol=1e-6)
    assert model.get_layer("conv").kernel_regularizer is not None


def test_weight_decay_is_used_by_fit():
    model = _model()
    apply_weight_decay(model, 1.0)
    model.compile(optimizer=get_optimizer("sgd", 0.0 + 1e-9), loss="mse")
    x = np.zeros((4, 6, 6, 2), "float32")
    out = model.evaluate(x, np.zeros((4, 2), "float32"), verbose=0)
    penalty = 0.5 * sum(float(np.sum(keras.ops.convert_to_numpy(v) ** 2)) for v in decay_variables(model))
    assert out == pytest.approx(penalty, rel=1e-4)  # zero inputs: the loss is the penalty alone


def test_adamw_decays_kernels_only():
    model = _model()
    opt = get_optimizer("adamw", 0.1, weight_decay=0.5)
    exclude_from_decoupled_decay(opt, model)
    bn_gamma = model.get_layer("bn").gamma
    kernel = model.get_layer("fc").kernel
    k0 = keras.ops.convert_to_numpy(kernel).copy()
    zeros = [keras.ops.zeros(v.shape) for v in model.trainable_variables]
    opt.apply_gradients(zip(zeros, model.trainable_variables))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn_gamma), 1.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kernel), k0 * (1 - 0.1 * 0.5), rtol=1e-5)


def test_weight_decay_arguments_checked():
    with pytest.raises(ValueError, match="unknown weight decay kind 'l3'"):
        apply_weight_decay(_model(), 1e-4, kind="l3")
    with pytest.raises(ValueError, match=">= 0"):
        apply_weight_decay(_model(), -1.0)
    assert apply_weight_decay(_model(), 0.0) == 0
