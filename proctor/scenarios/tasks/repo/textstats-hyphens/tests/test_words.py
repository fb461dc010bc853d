from textstats.words import word_count


def test_basic():
    assert word_count("a b c") == 3


def test_counts_hyphenated():
    assert word_count("a well-known fact") == 3
    assert word_count("state-of-the-art") == 1


class TestSpaces:
    def test_extra_spaces(self):
        assert word_count("  two   words ") == 2
