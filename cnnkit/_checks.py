"""The one "choose one of" check: a value outside its choices fails with the choices and the closest one.

Every name-valued option (an activation, a schedule, a data set, a ``RunConfig`` field, ...) is
checked by :func:`check_choice`, so each such error reads alike::

    unknown schedule 'cosinus'. Did you mean 'cosine'? Choose one of ['constant', 'step', 'cosine', ...]
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable

__all__ = ["check_choice", "choice_error"]


def choice_error(name: str, value: Any, choices: Iterable[Any], *, where: str = "", lead: str | None = None,
                 note: str = "") -> ValueError:
    """The ``ValueError`` :func:`check_choice` raises (for callers that test membership themselves).

    Args:
        name: what the value is (``"schedule"``, ``"weight decay kind"``).
        value: the value received.
        choices: the allowed values, in the order to show them.
        where: a prefix naming the caller (``"alexnet"`` gives ``"alexnet: unknown groups 3 ..."``).
        lead: the message's opening instead of ``"unknown <name> <value>"`` (e.g.
            ``"RunConfig.lr_scaling='x' is not valid"``).
        note: text after the choices (why they are what they are, how to add one).
    """
    choices = list(choices)
    text = lead if lead is not None else f"unknown {name} {value!r}"
    if where:
        text = f"{where}: {text}"
    by_text = {str(c): c for c in choices}
    close = difflib.get_close_matches(str(value), list(by_text), n=1)
    text += f". Did you mean {by_text[close[0]]!r}? Choose one of {choices}" if close else f"; choose one of {choices}"
    return ValueError(f"{text} {note}" if note else text)


def check_choice(name: str, value: Any, choices: Iterable[Any], *, where: str = "", lead: str | None = None,
                 note: str = "") -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``; the message names the value, lists
    the choices and, where :func:`difflib.get_close_matches` finds one, the closest choice.

    Arguments as for :func:`choice_error`.

    Example:
        >>> check_choice("schedule", "cosinus", ["step", "cosine"])
        Traceback (most recent call last):
        ValueError: unknown schedule 'cosinus'. Did you mean 'cosine'? Choose one of ['step', 'cosine']
    """
    choices = list(choices)
    if value not in choices:
        raise choice_error(name, value, choices, where=where, lead=lead, note=note)
