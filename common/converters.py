"""Path converters. ``<id:…>`` is Django's ``<id:…>`` bounded to what a BIGINT column holds:
a 30-digit number in a URL is a 404, not an overflow in the database driver (a 500)."""


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
