from bot.text import clean_query, clean_text, invisible_characters


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
