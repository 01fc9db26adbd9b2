"""Follow-ups made standalone: the earlier question's topic, never what it asked for."""

from app.answering.followup import standalone_question, topic_of


def test_the_topic_leaves_out_what_was_asked_for() -> None:
    assert topic_of("In which city did the 14th forum take place?") == "the 14th forum take place"
    assert topic_of("What is the capital of Mongolia?") == "the capital of Mongolia"
    assert topic_of("Where was the 12th forum held?") == "the 12th forum held"


def test_a_follow_up_carries_the_earlier_topic() -> None:
    history = [{"role": "user", "content": "In which city did the 14th forum take place?"}]
    standalone = standalone_question("On what date was it held?", history)
    assert "14th forum" in standalone and "city" not in standalone
    assert standalone_question("Who founded the museum?", history) == "Who founded the museum?"
