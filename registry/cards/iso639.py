"""ISO 639 language codes that a card's ``language`` field may use, from ``pycountry`` (which ships
the iso-codes tables of the ISO 639-3 and ISO 639-5 registration authorities; upgrading the
package brings a new edition).

The two-letter codes of ISO 639-1, the three-letter codes of ISO 639-3 (which include the
terminology codes of ISO 639-2 and its special codes mis, mul, und and zxx), the bibliographic
variants of ISO 639-2 (fre, ger, chi, ...) and the collective codes of ISO 639-5. A code missing
here is only a warning, never a refusal.
"""

import pycountry

ISO_639_1 = frozenset(language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2"))
ISO_639_3 = frozenset(language.alpha_3 for language in pycountry.languages)
ISO_639_2_BIBLIOGRAPHIC = frozenset(
    language.bibliographic for language in pycountry.languages if hasattr(language, "bibliographic")
)
ISO_639_5 = frozenset(family.alpha_3 for family in pycountry.language_families)
