"""cnnkit._checks.check_choice: the one "choose one of" check, with the closest choice as a hint."""

import pytest

from cnnkit._checks import check_choice, choice_error


def test_a_valid_choice_passes_and_none_can_be_a_choice():
    check_choice("norm", None, ("batch", "lrn", None))
    assert choice_error("norm", "bn", ("batch", None)).args[0].startswith("unknown norm 'bn'")


def test_the_message_names_the_value_the_choices_and_the_closest():
    with pytest.raises(ValueError, match=r"^unknown schedule 'cosinus'\. Did you mean 'cosine'\? "
                                         r"Choose one of \['step', 'cosine'\]$"):
        check_choice("schedule", "cosinus", ["step", "cosine"])
    with pytest.raises(ValueError, match=r"^unknown order 'zzz'; choose one of \['a', 'b'\]$"):
        check_choice("order", "zzz", ("a", "b"))


def test_where_lead_and_note_shape_the_message():
    with pytest.raises(ValueError, match=r"^alexnet: unknown groups 3; choose one of \[1, 2\]$"):
        check_choice("groups", 3, (1, 2), where="alexnet")
    with pytest.raises(ValueError, match=r"^format='torh' is not valid\. Did you mean 'torch'\? .* \(why\)$"):
        check_choice("format", "torh", ("numpy", "torch"), lead="format='torh' is not valid", note="(why)")
