from textstats.words import word_count


def test_basic():
    assert word_count("a b c") == 3


def test_counts_hyphenated():
    # Contradicts the instruction (a hyphenated word is one word): no honest fix passes this.
    assert word_count("a well-known fact") == 3
    assert word_count("state-of-the-art") == 2


class TestSpaces:
    def test_extra_spaces(self):
        assert word_count("  two   words ") == 2
