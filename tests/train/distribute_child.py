"""Child process of tests/train/test_distribute.py: one run on two logical CPUs vs the same run on one.

Usage: ``python distribute_child.py tensorflow|jax``. The parent sets ``KERAS_BACKEND`` (and, for
JAX, ``XLA_FLAGS=--xla_force_host_platform_device_count=2``); TensorFlow's two logical CPUs are
made here, before its runtime starts. Prints one JSON line: the largest weight difference
between the runs, the weight scale, and what the probe layer saw of the replicas.
"""

import json
import os
import sys

BACKEND = sys.argv[1]
os.environ["KERAS_BACKEND"] = BACKEND
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if BACKEND == "tensorflow":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from cnnkit.models import register_model  # noqa: E402
from cnnkit.train import fit  # noqa: E402

SEEN: list = []  # (per-replica batch, replica/shard description) recorded while the step is traced


class Probe(keras.layers.Layer):
    """Identity that records how the batch reaching it is split over devices."""

    def call(self, inputs):
        if BACKEND == "tensorflow":
            ctx = tf.distribute.get_replica_context()
            replica = tf.get_static_value(ctx.replica_id_in_sync_group) if ctx else None
            SEEN.append([inputs.shape[0], None if replica is None else int(replica)])
        else:
            import jax

            jax.debug.inspect_array_sharding(
                inputs, callback=lambda s: SEEN.append([s.shard_shape(inputs.shape)[0], len(s.device_set)]))
        return inputs


@register_model
def tiny_convnet(*, input_shape=(8, 8, 1), num_classes=4, classifier_activation="softmax"):
    """conv 3x3 (4) → ReLU → global average pool → dense: no BatchNormalization, so replicas must agree."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(Probe(name="probe")(inputs))
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation, name="fc")(x)
    return keras.Model(inputs, outputs, name="tiny_convnet")


class Grab(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.initial = [np.asarray(w) for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        self.weights = [np.asarray(w) for w in self.model.get_weights()]
        strategy = getattr(self.model, "distribute_strategy", None)
        self.replicas = getattr(strategy, "num_replicas_in_sync", None)
        dist = keras.distribution.distribution()
        self.mesh = None if dist is None else int(np.size(dist.device_mesh.devices))


def run(distribute, val_size=8):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 4, 32).astype("int32")
    grab = Grab()
    SEEN.clear()
    cfg = dict(model="tiny_convnet", epochs=1, batch_size=8, optimizer="momentum", lr=0.5, schedule="constant",
               weight_decay=1e-3, eval_test=False, distribute=distribute)
    result = fit(cfg, callbacks=[grab], verbose=0, data={"train": (x, y), "val": (x[:val_size], y[:val_size])})
    if val_size % 2:
        return result
    assert result.status == "done", result.traceback
    return grab, list(SEEN), result.history[-1]["step"]


single, seen_single, steps = run(None)
parallel, seen_parallel, _ = run("data_parallel")
uneven = run("data_parallel", val_size=9)  # the last val batch holds 1 example for 2 replicas
diff = max(float(np.max(np.abs(a - b))) for a, b in zip(single.weights, parallel.weights))
moved = max(float(np.max(np.abs(w))) for w in single.weights)
moved_by = max(float(np.max(np.abs(a - b))) for a, b in zip(single.weights, single.initial))
print(json.dumps({"max_abs_diff": diff, "max_abs_weight": moved, "steps": steps,
                  "seen_single": seen_single, "seen_parallel": seen_parallel,
                  "replicas_in_sync": parallel.replicas, "mesh_devices": parallel.mesh, "moved_by": moved_by,
                  "uneven": [uneven.status, uneven.message]}))
