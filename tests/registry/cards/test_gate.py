"""The access form a card declares (``extra_gated_*``) and the checking of answers to it."""

from registry.cards import card_parse
from registry.cards.gate import COUNTRIES, DEFAULT_BUTTON, GateField, GateForm, gate_answers, gate_form
from registry.cards.types import CardIssue


def test_the_hubs_field_types_are_read_in_order():
    form = gate_form(
        {
            "extra_gated_prompt": "Agree first.",
            "extra_gated_button_content": "Send",
            "extra_gated_fields": {
                "Name": "text",
                "Country": "country",
                "Born": "date_picker",
                "Use": {"type": "select", "options": ["Research", {"label": "Other", "value": "other"}, 3]},
                "Terms": "checkbox",
                "Also text": {"type": "text"},
            },
        }
    )
    assert form == GateForm(
        prompt="Agree first.",
        button="Send",
        fields=(
            GateField("Name", "text"),
            GateField("Country", "country"),
            GateField("Born", "date_picker"),
            GateField("Use", "select", (("Research", "Research"), ("other", "Other"), ("3", "3"))),
            GateField("Terms", "checkbox"),
            GateField("Also text", "text"),
        ),
    )


def test_unreadable_declarations_are_left_out_not_fatal():
    form = gate_form(
        {
            "extra_gated_prompt": ["not", "text"],
            "extra_gated_button_content": " ",
            "extra_gated_fields": {
                "Kind": "hologram",
                "Empty select": {"type": "select", "options": []},
                "Bare select": "select",
                "x" * 201: "text",
                "Fine": "text",
            },
        }
    )
    assert form == GateForm(prompt="", button=DEFAULT_BUTTON, fields=(GateField("Fine", "text"),))
    assert gate_form({"extra_gated_fields": ["Name"]}) == GateForm()


def test_answers_are_required_checked_and_trimmed():
    form = GateForm(
        fields=(
            GateField("Name", "text"),
            GateField("Born", "date_picker"),
            GateField("Use", "select", (("research", "Research"),)),
            GateField("Terms", "checkbox"),
        )
    )
    kept, problems = gate_answers(form, {"Name": "  Ada ", "Born": "1815-12-10", "Use": "research", "Terms": "on"})
    assert (kept, problems) == ({"Name": "Ada", "Born": "1815-12-10", "Use": "research", "Terms": True}, {})
    kept, problems = gate_answers(form, {"Name": "x" * 1001, "Born": "10/12/1815", "Use": "Research", "Extra": "y"})
    assert kept == {}
    assert problems == {
        "Name": "Answers are limited to 1000 characters.",
        "Born": "Give a date as YYYY-MM-DD.",
        "Use": "Choose one of the options.",
        "Terms": "Tick this box to ask for access.",
    }
    assert gate_answers(GateForm(), {"anything": "goes"}) == ({}, {})


def test_a_country_is_one_of_the_iso_3166_names():
    form = GateForm(fields=(GateField("Country", "country"),))
    assert gate_answers(form, {"Country": " France "}) == ({"Country": "France"}, {})
    assert gate_answers(form, {"Country": "Atlantis"}) == ({}, {"Country": "Choose a country from the list."})
    assert "Côte d'Ivoire" in COUNTRIES
    assert list(COUNTRIES) == sorted(COUNTRIES)


def test_card_parse_warns_about_questions_it_will_not_ask():
    card = card_parse(
        "---\nextra_gated_prompt: 3\nextra_gated_fields:\n  Name: text\n  Kind: hologram\n"
        "  Use: {type: select}\n---\n# Card\n",
        repo_type="model",
    )
    assert card.errors == []
    assert [str(w) for w in card.warnings] == [
        "extra_gated_prompt: must be text; it is not shown",
        "extra_gated_fields.Kind: the type must be one of text, checkbox, date_picker, country, select;"
        " the question is not asked",
        "extra_gated_fields.Use: a select needs options: a list of texts or of {label, value};"
        " the question is not asked",
    ]
    assert card_parse("---\nextra_gated_fields: [Name]\n---\n", repo_type="dataset").warnings[0] == CardIssue(
        "extra_gated_fields", "must map each question to its type; no question is asked"
    )
