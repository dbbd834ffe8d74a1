import pytest

from tests.targets.tls import TlsCluster


@pytest.fixture(scope="module")
def cluster():
    """A throw-away cluster with ssl=on and a certificate made for the test, one per module."""
    server = TlsCluster()
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        server.remove()
