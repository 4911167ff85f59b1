import pytest

GOOD_TEXT = (
    "The committee met on Tuesday to discuss the new budget for the regional hospital. "
    "Members agreed that the plan should be published before the end of the month, and that the public "
    "would have a chance to comment on it. The chair said the hospital needs more nurses, better equipment "
    "and a new roof for the older wing. Several members asked whether the costs had been checked with the "
    "treasury, and the chair promised to report back at the next meeting.\n\n"
    "Local residents welcomed the news. One of them said the waiting times had become too long and that "
    "the changes were overdue."
)


@pytest.fixture
def good_text() -> str:
    return GOOD_TEXT
