from textstats.words import word_count


def test_basic():
    assert word_count("a b c") == 3
