import ${{ values.package }}


def test_version():
    assert ${{ values.package }}.__version__ == "0.1.0"
