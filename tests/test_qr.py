"""The batch QR encoder gives exactly the modules reportlab's reference encoder gives."""
import random
import string

import numpy as np
import pytest
from reportlab.graphics.barcode import qrencoder

from letters import qr


def reference(text: str) -> np.ndarray:
    code = qrencoder.QRCode(None, qr.LEVEL)
    code.dataList.append(qrencoder.QR8bitByte(text.encode("utf-8")))
    code.version = code.calculate_version()
    code.makeImpl(False, qr.MASK)
    return np.array(code.modules, dtype=bool)


@pytest.mark.parametrize("length", [1, 7, 14, 15, 26, 40, 50, 62, 84, 106, 122, 180, 213, 251, 287])
def test_matches_the_reference_encoder_across_versions(length):
    rng = random.Random(length)
    texts = ["".join(rng.choice(string.ascii_letters + string.digits + "/:?=.-") for _ in range(length))
             for _ in range(5)]
    for text, modules in zip(texts, qr.encode(texts)):
        assert np.array_equal(modules, reference(text))


def test_texts_of_different_lengths_keep_their_order():
    texts = ["https://a.example/?code=ABCD1234", "x", "ääkkönen ÅSA", "https://a.example/?code=ZZZZ9999"]
    encoded = qr.encode(texts)
    assert [m.shape for m in encoded] == [reference(t).shape for t in texts]
    assert all(np.array_equal(m, reference(t)) for m, t in zip(encoded, texts))


def test_one_bit_image_has_the_quiet_zone_and_dark_as_zero():
    modules = qr.encode(["otos"])[0]
    side, rows = qr.one_bit_rows(modules)
    assert side == modules.shape[0] + 2 * qr.QUIET
    bits = np.unpackbits(np.frombuffer(rows, dtype=np.uint8).reshape(side, -1), axis=1)[:, :side]
    assert bits[:qr.QUIET].all() and bits[:, :qr.QUIET].all()  # white border
    assert np.array_equal(bits[qr.QUIET:-qr.QUIET, qr.QUIET:-qr.QUIET] == 0, modules)
