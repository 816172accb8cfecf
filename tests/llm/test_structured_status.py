"""The status policy for `--structured`: a 400 refusing response_format stops the run (whenever it
comes); any other 400 stays a per-request failure that is not retried."""

from __future__ import annotations

import pytest

from datagen.llm.remote import FatalRemote, RequestFailed, classify_status


@pytest.mark.parametrize(
    "msg",
    [
        "response_format of type json_schema is not supported",
        "Invalid parameter: 'response_format' must be one of 'text', 'json_object'",
        "Unsupported field json_schema",
        "guided_json requires the outlines backend",
    ],
)
@pytest.mark.parametrize("answered", [0, 25])
def test_a_400_naming_response_format_is_fatal(msg, answered):
    got = classify_status(400, {}, msg, base_url="http://h/v1", answered=answered)
    assert isinstance(got, FatalRemote)
    assert "drop --structured" in str(got) and "http://h/v1" in str(got)


def test_other_400s_fail_one_request_without_retry():
    got = classify_status(400, {}, "max_tokens is too large", base_url="http://h/v1", answered=0)
    assert isinstance(got, RequestFailed) and not got.retryable and got.status == 400
