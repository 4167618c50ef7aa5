"""The error layer: header values built from messages that may echo user input stay one bounded
line of latin-1, so a crafted path is a 4xx and never a broken or bloated response."""

import json

import pytest
from django.test import Client

from common.errors import MAX_HEADER_MESSAGE, NotFound, error_response, header_safe


@pytest.mark.parametrize(
    ("message", "header"),
    [
        ("plain", "plain"),
        ("two\nlines\r\nand a\x00nul", "two lines  and a nul"),
        ("tab\there \x7f\x85", "tab here"),
        ("snowman ☃ ok", "snowman ? ok"),
    ],
)
def test_header_values_are_one_line_of_latin1(message, header):
    assert header_safe(message) == header


def test_long_messages_are_cut_in_the_header_but_whole_in_the_body():
    message = "x" * 30_000
    response = error_response(NotFound(message))
    assert len(response["X-Error-Message"]) == MAX_HEADER_MESSAGE
    assert response["X-Error-Message"].endswith("...")
    assert json.loads(response.content)["error"] == message


@pytest.mark.django_db
def test_an_api_path_with_control_characters_is_a_json_404():
    response = Client().get("/api/v1/runs/%0D%0A%C2%AA%13/metrics")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response["X-Error-Message"].isprintable()
