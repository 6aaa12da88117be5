import datetime as dt

import pytest

from pool import codes, hetu


@pytest.mark.parametrize("birth,sign_index,sign", [
    (dt.date(1899, 12, 31), 0, "+"),
    (dt.date(1952, 10, 4), 0, "-"),
    (dt.date(1952, 10, 4), 1, "Y"),
    (dt.date(1952, 10, 4), 5, "U"),
    (dt.date(2005, 1, 9), 0, "A"),
    (dt.date(2005, 1, 9), 5, "F"),
])
def test_all_century_signs_since_2023_are_valid(birth, sign_index, sign):
    code = hetu.make(birth, 123, sign_index)
    assert code[6] == sign
    assert hetu.problem(code) is None


def test_known_identity_code_check_character():
    # The example code DVV publishes in its documentation: 131052-308T.
    assert hetu.problem("131052-308T") is None
    assert hetu.check_char("131052308") == "T"


@pytest.mark.parametrize("code,expect", [
    ("131052-308A", "check character"),
    ("310252-308T", "impossible date"),
    ("131052G308T", "not an identity code"),
    ("131052-001T", "below 002"),
    ("13105-2308T", "not an identity code"),
    ("１31052-308T", "not an identity code"),  # a full-width digit is not a digit here
    ("", "not an identity code"),
])
def test_invalid_identity_codes_are_named_without_repeating_the_code(code, expect):
    msg = hetu.problem(code)
    assert msg is not None and expect in msg
    assert code not in msg or not code


def test_response_code_check_catches_every_single_substitution():
    code = codes.new_code()
    assert codes.normalise(code) == code
    assert codes.normalise(codes.display(code).lower()) == code
    for i in range(len(code)):
        for c in codes.ALPHABET:
            if c != code[i]:
                assert codes.normalise(code[:i] + c + code[i + 1:]) is None


def test_response_codes_avoid_look_alike_characters_and_differ():
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000
    assert not set("".join(made)) & set("IO01")
