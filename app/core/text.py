import unicodedata


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics: "Hậu Giang" becomes "hau giang"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
