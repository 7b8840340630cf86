import nnlib


def test_version():
    assert nnlib.__version__
