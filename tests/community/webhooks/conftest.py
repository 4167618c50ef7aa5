import pytest

from common.events import hub_event
from tests.support.receiver import start_receiver


@pytest.fixture
def receiver(settings):
    """A live local receiver; private addresses are allowed for it (the SSRF guard is tested apart)."""
    settings.HUB_WEBHOOK_ALLOW_PRIVATE_URLS = True
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def events():
    """The domain events sent during the test, in order."""
    sent = []

    def record(sender, *, event, **kwargs):
        sent.append(event)

    hub_event.connect(record, dispatch_uid="tests-record-events")
    yield sent
    hub_event.disconnect(dispatch_uid="tests-record-events")
