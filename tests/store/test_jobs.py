"""Reply jobs and their event logs (SQLite, and PostgreSQL when LLMCHAT_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import threading
import time

import pytest

from llmchat.store import ChatStore, NotFound
from llmchat.store.jobs import JobStore

OWNER = "ip:10.0.0.1"


@pytest.fixture
def jobs(database):
    return JobStore(database, stale_after_s=0.5, kept_s=600)


def streaming_reply(store: ChatStore):
    conversation = store.create_conversation(OWNER, "t", "m")
    user = store.add_message(conversation.id, "user", "hi", status="pending")
    reply = store.add_message(conversation.id, "assistant", "", parent_id=user.id, status="streaming")
    return conversation, reply


def test_events_come_back_in_order_after_any_offset(store, jobs):
    conversation, reply = streaming_reply(store)
    job = jobs.start(conversation.id, reply.id)
    assert jobs.append(job, [("start", "{}"), ("delta", '{"content": "a"}')]) is False
    jobs.append(job, [("delta", '{"content": "b"}')])
    jobs.append(job, [("done", "{}")], final_state="finished")
    events = jobs.events_after(job, 0)
    assert [e.name for e in events] == ["start", "delta", "delta", "done"]
    assert [e.id for e in events] == sorted(e.id for e in events) and len({e.id for e in events}) == 4
    assert [e.data for e in jobs.events_after(job, events[1].id)] == ['{"content": "b"}', "{}"]
    assert jobs.latest(reply.id).state == "finished"


def test_stop_reaches_the_job_through_its_next_write(store, jobs):
    conversation, reply = streaming_reply(store)
    job = jobs.start(conversation.id, reply.id)
    assert jobs.request_stop(reply.id) is True
    assert jobs.append(job, []) is True
    jobs.append(job, [], final_state="finished")
    assert jobs.request_stop(reply.id) is False  # nothing runs any more


def test_a_new_job_of_the_same_reply_replaces_the_old_one_and_ids_keep_growing(store, jobs):
    conversation, reply = streaming_reply(store)
    first = jobs.start(conversation.id, reply.id)
    jobs.append(first, [("start", "{}"), ("done", "{}")], final_state="finished")
    last_seen = jobs.events_after(first, 0)[-1].id
    second = jobs.start(conversation.id, reply.id)  # a Continue
    assert jobs.latest(reply.id).id == second and jobs.events_after(first, 0) == []
    jobs.append(second, [("start", "{}")])
    assert jobs.events_after(second, last_seen)[0].name == "start"  # an old offset still reads the new job whole


def test_deleting_the_conversation_takes_the_job_and_its_events(store, jobs):
    conversation, reply = streaming_reply(store)
    job = jobs.start(conversation.id, reply.id)
    jobs.append(job, [("start", "{}")])
    assert store.delete_conversation(OWNER, conversation.id)
    assert jobs.latest(reply.id) is None and jobs.events_after(job, 0) == []
    with pytest.raises(NotFound):
        jobs.append(job, [("delta", '{"content": "x"}')])


def test_a_silent_job_is_interrupted_once_and_the_list_stops_saying_answering(store, jobs):
    conversation, reply = streaming_reply(store)
    job = jobs.start(conversation.id, reply.id)
    assert store.list_conversations(OWNER)[0].answering and store.get_conversation(OWNER, conversation.id).answering
    assert not jobs.is_dead(jobs.latest(reply.id))
    assert jobs.interrupt(job, [("done", "{}")]) is False  # alive: nothing happens
    time.sleep(0.6)
    assert jobs.is_dead(jobs.latest(reply.id))
    winners = []
    threads = [threading.Thread(target=lambda: winners.append(jobs.interrupt(job, [("done", "{}")]))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(winners) == [False, False, False, True]
    assert jobs.latest(reply.id).state == "interrupted"
    assert [e.name for e in jobs.events_after(job, 0)] == ["done"]
    assert not store.list_conversations(OWNER)[0].answering


def test_jobs_not_heard_of_for_kept_s_go_at_the_next_start(store, database):
    jobs = JobStore(database, stale_after_s=0.1, kept_s=0.3)
    conversation, reply = streaming_reply(store)
    finished = jobs.start(conversation.id, reply.id)
    jobs.append(finished, [("done", "{}")], final_state="finished")
    other_conversation, other = streaming_reply(store)
    dead = jobs.start(other_conversation.id, other.id)  # never writes again: its process died
    time.sleep(0.4)
    _, third = streaming_reply(store)
    jobs.start(third.conversation_id, third.id)
    assert jobs.latest(reply.id) is None and jobs.latest(other.id) is None
    assert jobs.events_after(finished, 0) == [] and jobs.events_after(dead, 0) == []
