"""Two edges of the session's parts: ``SessionConfig.pace_orders`` takes only a bool, and a v2
error reply that names no method passes through the v2 link as it came."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kraken_proto import CancelAll, LocalProtocolError, SessionConfig, v2
from kraken_proto.session import V2Link
from kraken_proto.session._v2_translation import to_v1_reply
from kraken_proto.v1 import RequestFailed, UnknownMessage

from tests.session.test_session_v2 import NOW, open_v2_link, sent


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_pace_orders_must_be_a_bool(value: Any) -> None:
    with pytest.raises(LocalProtocolError, match="pace_orders: must be True or False"):
        SessionConfig(pace_orders=value)


def test_an_error_reply_without_a_method_fails_the_request_and_is_kept_as_it_came() -> None:
    link: V2Link = open_v2_link()
    reqid = link.send(CancelAll(), NOW)
    (request,) = sent(link)
    text = json.dumps({"req_id": request["req_id"], "error": "EGeneral:Internal error"})
    link.receive_message(text, NOW)
    (failed,) = [e for e in link.events_received() if isinstance(e, RequestFailed)]
    assert (failed.reqid, failed.request) == (reqid, CancelAll())
    assert failed.error.text == "EGeneral:Internal error"
    (reply,) = failed.replies
    assert reply == v2.decode(text)
    assert isinstance(reply, UnknownMessage)  # no v1 status event stands for it
    assert to_v1_reply(reply, reqid) is reply
