def word_count(text):
    """How many words ``text`` holds."""
    return len(text.replace("-", " ").split())
