"""Widget plumbing: the binary serializer (the lifecycle is tested in test_widgets_lifecycle.py)."""

import numpy as np
import pytest

from superres_widgets.widgets.serializers import ArrayTrait, array_from_json, array_to_json


def test_arrays_travel_as_binary_buffers_not_lists():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    msg = array_to_json(a)
    assert isinstance(msg["buffer"], memoryview)
    assert msg["dtype"] == "float32" and msg["shape"] == [3, 4]
    assert msg["buffer"].nbytes == a.nbytes
    back = array_from_json({"buffer": msg["buffer"].tobytes(), "dtype": msg["dtype"], "shape": msg["shape"]})
    np.testing.assert_array_equal(back, a)


@pytest.mark.parametrize(
    "dtype, sent",
    [(np.bool_, "uint8"), (np.int64, "int32"), (np.uint64, "uint32"), (np.float16, "float32"), (np.float64, "float64")],
)
def test_dtypes_become_browser_typed_arrays(dtype, sent):
    msg = array_to_json(np.ones((2, 2), dtype=dtype))
    assert msg["dtype"] == sent
    assert np.frombuffer(msg["buffer"], dtype=sent).tolist() == [1, 1, 1, 1]


def test_int64_out_of_int32_range_is_an_error():
    with pytest.raises(ValueError, match="int32"):
        array_to_json(np.array([2**40]))


def test_non_contiguous_arrays_are_made_contiguous():
    a = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    msg = array_to_json(a)
    np.testing.assert_array_equal(np.frombuffer(msg["buffer"], np.float32).reshape(msg["shape"]), a)


def test_array_trait_validates_ndim_and_dtype():
    import traitlets

    class H(traitlets.HasTraits):
        img = ArrayTrait(dtype=np.float32, ndim=2)

    h = H()
    h.img = [[1, 2], [3, 4]]
    assert h.img.dtype == np.float32
    with pytest.raises(traitlets.TraitError, match="2-D"):
        h.img = [1, 2, 3]
