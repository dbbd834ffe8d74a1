"""The app's own database stopped under load (gunicorn, 3 workers, 4 clients), for 5 s and for 30 s: every answer
while it is down within 2 s (a 503, as before), the first 200 within 1 s of it accepting connections again, and no
answer other than 200 or 503 (issue 14). Before the fix a 20 s outage gave 8–28 s answers and the first 200 7.8 s
after the server was back (the pool's reconnect backoff; tests/outage.py measures any length by hand)."""

import pytest

from tests.outage import Stack

# Answer-time bounds are the product goal: measured with nothing else running (make test runs the
# `alone` marker after the parallel suite), not beside another xdist worker's load.
pytestmark = [pytest.mark.slow, pytest.mark.alone]

WHILE_DOWN_MAX = 2.0
FIRST_OK_MAX = 1.0


@pytest.fixture(scope="module")
def stack():
    stack = Stack(workers=3)
    yield stack
    stack.close()


@pytest.mark.parametrize("seconds", [5, 30])
def test_outage_answers_fast_and_recovers_at_once(stack, seconds):
    outage = stack.outage(seconds)
    down = outage.while_down()
    assert len(down) >= 4 * seconds, outage.summary()  # the clients kept sending: nobody hung on one request
    assert {a.status for a in down} >= {503}, outage.summary()
    assert outage.statuses() <= {200, 503}, outage.summary()
    slow = [(a.client, round(a.started - outage.down_at, 1), round(a.seconds, 2)) for a in down
            if a.seconds > WHILE_DOWN_MAX]
    assert not slow, (outage.summary(), slow)
    first_ok = outage.first_ok_after_up()
    assert first_ok is not None and first_ok <= FIRST_OK_MAX, outage.summary()
    # every client is served again, not only the first one
    recovered = {a.client for a in outage.answers if a.status == 200 and a.started >= outage.up_at}
    assert recovered == {"api-me-1", "api-me-2", "api-posts", "admin-page"}, outage.summary()
