"""Shared bits for the LLaVA end-to-end tests: real-looking scripted replies per sample of the three
COCO-mini val images, and a loopback-server handler that answers each request by its sample."""

from __future__ import annotations

import json

from datagen.engine.jobs import build_jobs
from datagen.engine.options import select_tasks
from support.engine_helpers import engine_config
from support.fakeserver import Reply

MOTO, MIRROR, BIRD = "000000165518", "000000229358", "000000126107"

CONV_GOOD = (
    "**Question:** What is the person riding?\r\n"
    "===\r\n"
    "**Answer:** The person is riding a motorcycle along a road.\r\n"
    "===\r\n"
    "Q: What is the weather like?\r\n"
    "A: It is foggy and dark, so visibility on the road is poor.\r\n"
    "===\r\n"
)
CONV_LEAK = (
    "Question:\nWhat is the man doing?\n===\nAnswer:\n"
    "Based on the captions, the man is looking at himself in a bathroom mirror."
)
CONV_MALFORMED = "A seagull glides over the beach with its wings spread wide."
CONV_BIRD = (
    "Question:\nWhat kind of bird is flying?\n===\nAnswer:\nA large white seagull flies over the sand."
)
DETAIL_GOOD = (
    "A lone rider on a motorcycle travels down a dim, foggy road. The headlight cuts through the "
    "mist while the surroundings fade into grey, and the wet surface suggests it has been raining. "
    "The scene feels quiet and slightly eerie."
)
DETAIL_LEAK = (
    "A man stands in a small bathroom in front of a mirror above a sink. His bounding box covers the "
    "centre of the frame, and he holds a small object while looking at his reflection closely."
)
DETAIL_SHORT = "A seagull over a beach."
REASON_GOOD = (
    "Question:\nWhy should the motorcyclist ride carefully here?\n===\nAnswer:\n"
    "The road is covered in fog and it is dark, so other drivers may not see him and he may not see "
    "obstacles in time; riding slowly with the headlight on lowers the risk."
)
REASON_TWO = REASON_GOOD + "\n===\nQuestion:\nIs it day or night?\n===\nAnswer:\nIt looks like night."

SCRIPT = {
    f"conversation:{MOTO}": [CONV_GOOD],
    f"conversation:{MIRROR}": [CONV_LEAK],
    f"conversation:{BIRD}": [CONV_MALFORMED, CONV_BIRD],  # re-asked once, then fine
    f"detail_description:{MOTO}": [DETAIL_GOOD],
    f"detail_description:{MIRROR}": [DETAIL_LEAK],
    f"detail_description:{BIRD}": [DETAIL_SHORT],
    f"complex_reasoning:{MOTO}": [REASON_GOOD],
    f"complex_reasoning:{MIRROR}": [REASON_TWO],  # never parses: 3 attempts then a parse failure
    f"complex_reasoning:{BIRD}": [REASON_GOOD],  # exact duplicate of MOTO's reasoning sample
}


def scripted_server(srv, contexts, opts, script=SCRIPT):
    """Answer each request by the sample it belongs to (matched on its exact messages)."""
    jobs = build_jobs(select_tasks("llava"), opts, lambda: contexts)
    by_messages = {json.dumps(j.messages): j.sample_id for j in jobs}
    asked: dict[str, int] = {}

    def handler(body):
        sid = by_messages[json.dumps(body["messages"])]
        n = asked.get(sid, 0)
        asked[sid] = n + 1
        replies = script[sid]
        return Reply(replies[min(n, len(replies) - 1)])

    srv.handler = handler
    return asked


def config(srv):
    """The engine settings the LLaVA runs use: one request at a time, so scripted re-asks are ordered."""
    return engine_config(srv.url, model="test-model", concurrency=1)
