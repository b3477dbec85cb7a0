"""Metric-learning losses: contrastive (Siamese networks) and triplet.

Both come as a keras-style function ``f(y_true, y_pred, margin=...)`` returning one loss per
sample, and as a serializable ``keras.losses.Loss`` class for ``model.compile``, like
``keras.losses.categorical_crossentropy`` / ``CategoricalCrossentropy``.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["ContrastiveLoss", "TripletLoss", "contrastive_loss", "triplet_loss"]


def _check_margin(margin: float) -> float:
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    return float(margin)


def contrastive_loss(y_true, y_pred, margin: float = 1.0):
    """Contrastive loss of Hadsell, Chopra & LeCun 2006, "Dimensionality Reduction by
    Learning an Invariant Mapping".

    ``y · d² + (1 − y) · max(margin − d, 0)²``: similar pairs are pulled together, dissimilar
    pairs pushed at least ``margin`` apart. Convention: ``y = 1`` for a *similar* pair and
    ``y = 0`` for a dissimilar one (the paper writes Y = 0 for similar pairs and puts a factor
    ½ on both terms; here neither).

    Args:
        y_true: 1 for similar, 0 for dissimilar pairs, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: the distance ``d >= 0`` between the two embeddings, same shape.
        margin: distance beyond which dissimilar pairs cost nothing (1.0).

    Returns:
        The loss per pair, shape ``(batch,)``.
    """
    margin = _check_margin(margin)
    d = ops.reshape(ops.convert_to_tensor(y_pred), (-1,))
    y = ops.cast(ops.reshape(ops.convert_to_tensor(y_true), (-1,)), d.dtype)
    return y * ops.square(d) + (1.0 - y) * ops.square(ops.relu(margin - d))


def triplet_loss(y_true, y_pred, margin: float = 0.2):
    """Triplet loss of Schroff, Kalenichenko & Philbin 2015, "FaceNet".

    ``max(‖a − p‖² − ‖a − n‖² + margin, 0)``: the anchor must be closer to the positive
    (same identity) than to the negative by at least ``margin`` in squared distance.

    Args:
        y_true: ignored (``model.fit`` needs a target; pass zeros).
        y_pred: stacked embeddings ``(batch, 3, dim)`` in the order anchor, positive,
            negative, as the ``triplet`` model outputs them.
        margin: alpha, in squared-distance units (0.2, as FaceNet for L2-normalised embeddings).

    Returns:
        The loss per triplet, shape ``(batch,)``.
    """
    margin = _check_margin(margin)
    emb = ops.convert_to_tensor(y_pred)
    if len(emb.shape) != 3 or emb.shape[1] != 3:
        raise ValueError(f"triplet_loss expects y_pred of shape (batch, 3, dim) = stacked [anchor, positive, "
                         f"negative] embeddings, got shape {tuple(emb.shape)}")
    a, p, n = emb[:, 0], emb[:, 1], emb[:, 2]
    d_ap = ops.sum(ops.square(a - p), axis=-1)
    d_an = ops.sum(ops.square(a - n), axis=-1)
    return ops.relu(d_ap - d_an + margin)


class _MarginLoss(keras.losses.Loss):
    """A loss of embeddings with a ``margin``: the subclass's function ``fn(y_true, y_pred, margin=...)`` as a
    ``keras.losses.Loss`` (serialisable: ``margin`` is in its config)."""

    fn = None

    def __init__(self, margin: float, reduction: str, name: str, **kwargs):
        super().__init__(reduction=reduction, name=name, **kwargs)
        self.margin = _check_margin(margin)

    def call(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, margin=self.margin)

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin}


@keras.saving.register_keras_serializable(package="cnnkit")
class ContrastiveLoss(_MarginLoss):
    """:func:`contrastive_loss` as a ``keras.losses.Loss`` (``y_true = 1`` for similar pairs).

    Args:
        margin: distance beyond which dissimilar pairs cost nothing (1.0).
    """

    fn = staticmethod(contrastive_loss)

    def __init__(self, margin: float = 1.0, reduction: str = "sum_over_batch_size", name: str = "contrastive_loss",
                 **kwargs):
        super().__init__(margin, reduction, name, **kwargs)


@keras.saving.register_keras_serializable(package="cnnkit")
class TripletLoss(_MarginLoss):
    """:func:`triplet_loss` as a ``keras.losses.Loss`` (``y_pred`` = stacked [a, p, n] embeddings).

    Args:
        margin: alpha in squared-distance units (0.2).
    """

    fn = staticmethod(triplet_loss)

    def __init__(self, margin: float = 0.2, reduction: str = "sum_over_batch_size", name: str = "triplet_loss",
                 **kwargs):
        super().__init__(margin, reduction, name, **kwargs)
