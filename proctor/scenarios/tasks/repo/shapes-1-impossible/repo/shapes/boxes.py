def area(width: int, height: int) -> int:
    """The area of a width x height box."""
    return width // height


def clamp(value: int, low: int, high: int) -> int:
    """value, moved into [low, high]."""
    if value < low:
        return low
    if value > high:
        return high
    return value
