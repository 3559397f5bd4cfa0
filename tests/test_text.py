from hypothesis import given
from hypothesis import strategies as st

from bot.text import clean_query, clean_text, invisible_characters, join_themes, split_themes


def test_clean_text_strips_invisible_and_control_characters():
    dirty = "Trust\u200b between\u202e partners\x07 \ufeffmatters\u00a0here"
    assert clean_text(dirty) == "Trust between partners matters here"


def test_clean_text_keeps_ordinary_unicode_and_newlines():
    text = "Schön, café and naïve ideas\n\nA second paragraph"
    assert clean_text(text) == text


def test_invisible_characters_reports_positions():
    assert invisible_characters("ab\u200bc") == [(2, "U+200B")]


def test_clean_query_truncates_at_word_boundary_and_says_so():
    text = "word " * 2000
    result = clean_query(text, 4000)
    assert result.truncated
    assert len(result.text) <= 4000
    assert result.text.endswith("word")
    assert result.original_length == len(text.strip())


def test_clean_query_of_nothing_is_empty():
    assert clean_query(None, 100).text == ""
    assert clean_query("\u200b \x00 ", 100).text == ""


def test_stored_themes_split_in_order_and_nothing_stored_is_no_themes():
    assert split_themes("trust,conflict") == ["trust", "conflict"]
    assert split_themes("") == split_themes(None) == []
    assert split_themes(",trust,,") == ["trust"]  # stray commas name no theme
    assert join_themes(["trust", "conflict"]) == "trust,conflict"
    assert join_themes([]) == ""


@given(st.lists(st.from_regex(r"[a-z][a-z-]{0,20}", fullmatch=True), max_size=12))
def test_joined_themes_split_back_to_the_same_list(themes):
    assert split_themes(join_themes(themes)) == themes
